import { html } from '../../../lib/html.ts';
import type { Post } from '../posts.queries.ts';
import { dateHtml } from '../../../lib/dates.ts';
import { authorHtml, tagsHtml } from './post-list.ts';

/** One post, with edit and delete controls for those who may use them. */
export function postPageHtml(post: Post, opts: { canEdit: boolean; csrf: string; featureImage?: string }): string {
  const controls = opts.canEdit
    ? html`<div class="actions">
  <a class="button" href="/posts/${post.slug}/edit">Edit</a>
  <form method="post" action="/posts/${post.slug}" class="inline">
    <input type="hidden" name="_method" value="DELETE">
    <input type="hidden" name="_csrf" value="${opts.csrf}">
    <button class="danger" type="submit">Delete</button>
  </form>
</div>`
    : '';
  return html`<article class="post">
  <h1>${post.title}!${post.status === 'draft' ? html` <span class="badge">Draft</span>` : ''}</h1>
  <p class="meta">By ${authorHtml(post)} · !${dateHtml(post.publishedAt ?? post.createdAt)}</p>
  !${tagsHtml(post)}
  !${opts.featureImage ? html`<figure class="feature-image">!${opts.featureImage}</figure>` : ''}
  <div class="body">!${post.bodyHtml}</div>
  !${controls}
</article>`;
}
