import { dateHtml } from '../../../lib/dates.ts';
import { html } from '../../../lib/html.ts';
import type { Post } from '../posts.queries.ts';

export function authorHtml(post: Post): string {
  return post.author ? html`${post.author.displayName}` : 'The Inkwell team';
}

/** "4 min read", for cards and the post page. */
export function readingTimeHtml(post: Post): string {
  return html`<span class="reading-time">${post.readingMinutes} min read</span>`;
}

export function tagsHtml(post: Post): string {
  if (post.tags.length === 0) return '';
  return html`<ul class="tags" aria-label="Tags">!${post.tags.map((t) => html`<li><a href="/tags/${t.slug}">${t.name}</a></li>`)}</ul>`;
}

/** The list of posts on the front page and tag pages, with the "older" link. */
export function postListHtml(opts: {
  heading: string;
  posts: Post[];
  olderHref: string | null;
  empty: string;
  intro?: string;
  /** Featured-image thumbnails (trusted <picture> HTML) by post id. */
  thumbs?: Map<number, string>;
}): string {
  const items = opts.posts.map(
    (p) => html`<li>
  <article>!${opts.thumbs?.get(p.id) ? html`<a class="thumb" href="/posts/${p.slug}" tabindex="-1" aria-hidden="true">!${opts.thumbs.get(p.id)!}</a>` : ''}
    <h2><a href="/posts/${p.slug}">${p.title}</a>!${p.status === 'draft' ? html` <span class="badge">Draft</span>` : ''}</h2>
    <p class="meta">By ${authorHtml(p)} · !${dateHtml(p.publishedAt ?? p.createdAt)} !${readingTimeHtml(p)}!${p.favoritesCount ? html` · <span class="favorites" title="Favourites">♥ ${p.favoritesCount}</span>` : ''}</p>
    <p>${p.excerpt}</p>
    !${tagsHtml(p)}
  </article>
</li>`,
  );
  return html`<h1>${opts.heading}</h1>
!${opts.intro ?? ''}
${opts.posts.length ? '' : opts.empty}
<ul class="post-list">!${items}</ul>
<nav class="pager" aria-label="Pagination"><span></span>!${opts.olderHref ? html`<a href="${opts.olderHref}" rel="next">Older posts →</a>` : ''}</nav>`;
}
