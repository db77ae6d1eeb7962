import { html } from '../../../lib/html.ts';
import type { Post } from '../posts.queries.ts';
import { dateHtml, dateTimeHtml } from '../../../lib/dates.ts';
import { authorHtml, readingTimeHtml, tagsHtml } from './post-list.ts';

/** A post's state in words: "Published", "Draft", or "Scheduled for <date and time>" in the site's zone. */
export function statusHtml(post: Post, timeZone: string): string {
  if (post.status === 'scheduled' && post.publishedAt) return html`Scheduled for !${dateTimeHtml(post.publishedAt, timeZone)}`;
  return post.status === 'published' ? 'Published' : 'Draft';
}

/** One post, with edit and delete controls for those who may use them. */
export function postPageHtml(post: Post, opts: { canEdit: boolean; csrf: string; timeZone: string; preview?: boolean; featureImage?: string }): string {
  const controls = opts.canEdit
    ? html`<div class="actions">
  <a class="button" href="/posts/${post.slug}/edit">Edit</a>
  !${
    post.status === 'published'
      ? html`<form method="post" action="/posts/${post.slug}/unpublish" class="inline">
    <input type="hidden" name="_csrf" value="${opts.csrf}">
    <button class="link" type="submit">Unpublish</button>
  </form>`
      : ''
  }
  <a class="button danger" href="/posts/${post.slug}/delete">Delete</a>
</div>`
    : '';
  const state = post.status === 'published' ? '' : post.status === 'scheduled' ? html`<p class="notice scheduled">!${statusHtml(post, opts.timeZone)}</p>` : '';
  return html`!${opts.preview ? html`<p class="notice preview" role="status">Preview: this draft is not published yet. Please do not share this link.</p>` : ''}
<article class="post">
  <h1>${post.title}!${post.status === 'draft' ? html` <span class="badge">Draft</span>` : post.status === 'scheduled' ? html` <span class="badge">Scheduled</span>` : ''}</h1>
  !${state}
  <p class="meta">By ${authorHtml(post)} · !${post.status === 'published' ? dateHtml(post.publishedAt ?? post.createdAt) : dateHtml(post.createdAt)} !${readingTimeHtml(post)}</p>
  !${tagsHtml(post)}
  !${opts.featureImage ? html`<figure class="feature-image">!${opts.featureImage}</figure>` : ''}
  <div class="body">!${post.bodyHtml}</div>
  !${controls}
</article>`;
}
