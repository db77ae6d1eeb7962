import { html } from '../../lib/html.ts';
import type { PostImages } from '../posts/index.ts';
import type { Media, MediaService } from './media.service.ts';

/**
 * How wide an image is shown: the page's text column is 42rem (about 672px at the
 * default size, more with the larger small-screen font), the full viewport below it.
 */
export const BODY_SIZES = '(min-width: 44rem) 42rem, 100vw';

// A stored key is `<id>-<hash>.<ext>` (the cleaned image) or `<id>-<width>w-<hash>.<ext>`
// (a variant); the id before the first dash names the image.
const KEY_ID = /^([A-Za-z0-9]{1,40})-[A-Za-z0-9._-]{1,200}$/;

/** The id of one of our images from a URL pointing at it (`/media/<key>`, the site's or MEDIA_PUBLIC_URL's), or null. */
export function mediaIdOfUrl(url: string, prefixes: string[]): string | null {
  for (const prefix of prefixes) {
    if (!url.startsWith(prefix)) continue;
    const m = KEY_ID.exec(url.slice(prefix.length).split(/[?#]/)[0]);
    if (m) return m[1];
  }
  return null;
}

/** The URL prefixes our images are served from. */
export function mediaUrlPrefixes(siteUrl: string, publicUrl: string | null): string[] {
  const prefixes = ['/media/', `${siteUrl.replace(/\/$/, '')}/media/`];
  if (publicUrl) prefixes.push(publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`);
  return prefixes;
}

const FALLBACK_FORMATS = new Set(['jpeg', 'png', 'gif']);

/** Our own files are linked from pages by path: the page's origin serves them, whatever address it was reached by. */
export function onPage(url: string, siteUrl: string | undefined): string {
  return siteUrl && url.startsWith(`${siteUrl}/media/`) ? url.slice(siteUrl.length) : url;
}

/**
 * `<picture>` markup for an image: AVIF and WebP sources, an `<img>` fallback
 * with srcset, width and height (the box is reserved before the file arrives).
 * Only variants that exist are offered; with no fallback variant yet, the cleaned
 * image itself is the fallback.
 */
export function pictureHtml(m: Media, opts: { alt: string; sizes: string; eager: boolean; className?: string; siteUrl?: string }): string {
  const at = (url: string) => onPage(url, opts.siteUrl);
  const srcset = (format: string) =>
    m.variants
      .filter((v) => v.format === format)
      .map((v) => `${at(v.url)} ${v.width}w`)
      .join(', ');
  const fallback = m.variants.filter((v) => FALLBACK_FORMATS.has(v.format));
  const imgSrcset = fallback.length ? fallback.map((v) => `${at(v.url)} ${v.width}w`).join(', ') : `${at(m.url)} ${m.width}w`;
  // The src for browsers without srcset: a mid-sized fallback (the largest up to 960px), else the cleaned image.
  const src = at(fallback.filter((v) => v.width <= 960).pop()?.url ?? fallback[0]?.url ?? m.url);
  const sources = m.animated ? ['webp'] : ['avif', 'webp'].filter((f) => m.variants.some((v) => v.format === f));
  return html`<picture!${opts.className ? html` class="${opts.className}"` : ''}>!${sources.map(
    (f) => html`<source type="image/${f}" srcset="${srcset(f)}" sizes="${opts.sizes}">`,
  )}<img src="${src}" srcset="${imgSrcset}" sizes="${opts.sizes}" width="${m.width}" height="${m.height}" alt="${opts.alt}"!${
    opts.eager ? '' : ' loading="lazy"'
  } decoding="async"></picture>`;
}

/** One `<img ...>` tag as sanitize-html writes it: double-quoted attributes, entities escaped. */
const IMG = /<img\b([^>]*?)\s*\/?>/g;
const ATTR = /([a-zA-Z-]+)="([^"]*)"/g;

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The ids of our images that sanitized HTML shows, in order. */
export function mediaIdsIn(bodyHtml: string, prefixes: string[]): string[] {
  const ids: string[] = [];
  for (const m of bodyHtml.matchAll(IMG)) {
    const src = /\bsrc="([^"]*)"/.exec(m[1]);
    const id = src ? mediaIdOfUrl(decodeEntities(src[1]), prefixes) : null;
    if (id && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/**
 * Replaces each `<img>` of sanitized HTML that shows one of our images with its
 * `<picture>`; other images stay as they are. The Markdown's alt text wins, else
 * the image's own. Every image is lazy unless `eagerFirst` (the first image of
 * the page is usually in view).
 */
export function responsiveBody(bodyHtml: string, found: Map<string, Media>, prefixes: string[], opts: { eagerFirst: boolean; siteUrl?: string }): string {
  let first = opts.eagerFirst;
  return bodyHtml.replace(IMG, (tag, attrs: string) => {
    const a: Record<string, string> = {};
    for (const m of attrs.matchAll(ATTR)) a[m[1].toLowerCase()] = decodeEntities(m[2]);
    const id = a.src ? mediaIdOfUrl(a.src, prefixes) : null;
    const media = id ? found.get(id) : undefined;
    if (!media) return tag;
    const out = pictureHtml(media, { alt: a.alt || media.alt, sizes: BODY_SIZES, eager: first, siteUrl: opts.siteUrl });
    first = false;
    return out;
  });
}

/** A Markdown image line for an uploaded image (alt text escaped for Markdown). */
export function markdownOf(m: Media, siteUrl?: string): string {
  return `![${m.alt.replace(/[[\]\\]/g, '\\$&').replace(/\s+/g, ' ')}](${onPage(m.url, siteUrl)})`;
}

/** The width sharing cards are drawn at (Facebook, LinkedIn and X all ask for about 1200 pixels). */
const CARD_WIDTH = 1200;

/**
 * The image for sharing cards: a JPEG or PNG variant (crawlers do not all read AVIF
 * or WebP), the narrowest at least 1200 wide, else the widest; the stored image
 * while no such variant exists yet. The URL is absolute.
 */
export function shareImageOf(m: Media, alt: string): { url: string; width: number; height: number; alt: string } {
  const fallback = m.variants.filter((v) => v.format === 'jpeg' || v.format === 'png');
  const chosen = fallback.find((v) => v.width >= CARD_WIDTH) ?? fallback[fallback.length - 1];
  return chosen ? { url: chosen.url, width: chosen.width, height: chosen.height, alt } : { url: m.url, width: m.width, height: m.height, alt };
}

/** What posts asks of the images it shows (featured images, thumbnails, feeds, the editor). */
export function postImages(media: MediaService, siteUrl: string): PostImages {
  return {
    async exists(id) {
      return (await media.findMany([id])).has(id);
    },
    async pictures(refs, opts) {
      const found = await media.findMany(refs.map((r) => r.id));
      let first = opts.eager;
      return refs.map((r) => {
        const m = found.get(r.id);
        if (!m) return null;
        const out = pictureHtml(m, { alt: r.alt || m.alt, sizes: opts.sizes, eager: first, className: opts.className, siteUrl });
        first = false;
        return out;
      });
    },
    async enclosures(ids) {
      const found = await media.findMany(ids);
      return new Map([...found].map(([id, m]) => [id, { url: m.url, type: m.mime, length: m.bytes, width: m.width, height: m.height }]));
    },
    async shareImage(ref) {
      const m = (await media.findMany([ref.id])).get(ref.id);
      return m ? shareImageOf(m, ref.alt || m.alt) : null;
    },
    async recent(limit) {
      const { items } = await media.list({ limit });
      return items.map((m) => ({
        id: m.id,
        label: m.alt || m.originalName,
        thumbUrl: onPage(m.variants.find((v) => FALLBACK_FORMATS.has(v.format))?.url ?? m.url, siteUrl),
        markdown: markdownOf(m, siteUrl),
      }));
    },
  };
}
