import { html } from '../../lib/html.ts';
import { type Media, pictureHtml } from '../media/index.ts';
import type { Gallery } from './galleries.service.ts';

/** Grid cells are at most about 14rem wide: three or four across the column, two on phones. */
const GRID_SIZES = '(min-width: 44rem) 14rem, 50vw';
const LARGE_SIZES = '(min-width: 44rem) 42rem, 100vw';

/**
 * The grid of a gallery: each image a link to its own large view, so it opens by
 * click, by keyboard (Tab, Enter) and without JavaScript. Images not found (none
 * should be: media refuses to delete them) are left out.
 */
export function galleryGridHtml(g: Gallery, found: Map<string, Media>, siteUrl: string, opts: { eagerFirst: boolean }): string {
  let eager = opts.eagerFirst;
  const cells = g.items.flatMap((it, i) => {
    const m = found.get(it.mediaId);
    if (!m) return [];
    const caption = it.caption || m.caption;
    const pic = pictureHtml(m, { alt: m.alt, sizes: GRID_SIZES, eager, siteUrl });
    eager = false;
    return [
      html`<li><figure><a href="/galleries/${g.slug}/${i + 1}" aria-label="${m.alt || caption || `Image ${i + 1}`}: open large">!${pic}</a>!${
        caption ? html`<figcaption>${caption}</figcaption>` : ''
      }</figure></li>`,
    ];
  });
  return html`<ul class="gallery-grid" aria-label="${g.title}">!${cells}</ul>`;
}

/** A gallery's own page. */
export function galleryPageHtml(g: Gallery, found: Map<string, Media>, siteUrl: string): string {
  return html`<article class="gallery">
  <h1>${g.title}</h1>
  !${g.description ? html`<p>${g.description}</p>` : ''}
  !${galleryGridHtml(g, found, siteUrl, { eagerFirst: true })}
</article>`;
}

/** One image of a gallery, large, with its caption and links to the previous, next and the grid. */
export function galleryImageHtml(g: Gallery, index: number, m: Media, siteUrl: string): string {
  const it = g.items[index];
  const caption = it.caption || m.caption;
  const n = g.items.length;
  return html`<article class="gallery-image">
  <h1>${caption || g.title}</h1>
  <p class="meta"><a href="/galleries/${g.slug}">← ${g.title}</a> · ${index + 1} of ${n}</p>
  <figure>!${pictureHtml(m, { alt: m.alt, sizes: LARGE_SIZES, eager: true, siteUrl })}!${
    caption || m.credit ? html`<figcaption>${caption}!${m.credit ? html` <small>(${m.credit})</small>` : ''}</figcaption>` : ''
  }</figure>
  <nav class="pager" aria-label="Images">!${index > 0 ? html`<a href="/galleries/${g.slug}/${index}" rel="prev">← Previous</a>` : html`<span></span>`}!${
    index + 1 < n ? html`<a href="/galleries/${g.slug}/${index + 2}" rel="next">Next →</a>` : ''
  }</nav>
</article>`;
}
