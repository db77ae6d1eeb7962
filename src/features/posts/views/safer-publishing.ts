import { html } from '../../../lib/html.ts';
import { dateTimeHtml } from '../../../lib/dates.ts';
import { csrfField } from '../../../platform/http/forms.ts';
import type { Post } from '../posts.queries.ts';
import { authorHtml } from './post-list.ts';

/** "Delete this post?": what happens (the trash, restorable), and the button that does it. */
export function deleteConfirmHtml(post: Post, csrf: string): string {
  return html`<h1>Delete “${post.title}”?</h1>
<p>The post goes to the trash: it disappears from the blog at once!${post.status === 'published' ? ' (its address answers “not found”)' : ''}.
You can restore it from the <a href="/admin/posts/trash">trash</a> for 30 days; after that it is removed for good, with its comments.</p>
<form method="post" action="/posts/${post.slug}" class="actions">
  !${csrfField(csrf)}
  <input type="hidden" name="_method" value="DELETE">
  <button class="danger" type="submit">Move to the trash</button>
  <a href="/posts/${post.slug}">Cancel</a>
</form>`;
}

/** The edit page's preview-link and revision controls. */
export function previewControlsHtml(post: Post, previewMadeAt: string | null, csrf: string, timeZone: string): string {
  const preview =
    post.status === 'published'
      ? ''
      : html`<section class="preview-controls" aria-labelledby="preview-h">
  <h2 id="preview-h">Preview link</h2>
  <p>A secret link shows this draft to anyone who has it, without an account.!${previewMadeAt ? html` A link made on !${dateTimeHtml(previewMadeAt, timeZone)} is live.` : ''}</p>
  <form method="post" action="/posts/${post.slug}/preview" class="inline">!${csrfField(csrf)}<button type="submit" class="link">!${previewMadeAt ? 'Make a new link (the old one stops working)' : 'Make a preview link'}</button></form>
  !${previewMadeAt ? html`<form method="post" action="/posts/${post.slug}/preview/revoke" class="inline">!${csrfField(csrf)}<button type="submit" class="link">Revoke the link</button></form>` : ''}
</section>`;
  return html`!${preview}
<p><a href="/posts/${post.slug}/revisions">Revisions</a> · <a href="/posts/${post.slug}/delete">Delete</a></p>`;
}

/** The new preview link, shown once. */
export function previewLinkHtml(post: Post, url: string): string {
  return html`<h1>Preview link for “${post.title}”</h1>
<p>Anyone with this link can read the draft until you revoke it or publish the post. It is shown only now: copy it.</p>
<p><input type="text" readonly value="${url}" aria-label="Preview link" size="60"></p>
<p><a href="${url}">Open the preview</a> · <a href="/posts/${post.slug}/edit">Back to the editor</a></p>`;
}

/** The trash: deleted posts with Restore (and, for admins, Delete for good). */
export function trashHtml(opts: { posts: Post[]; csrf: string; admin: boolean; timeZone: string; days: number; olderHref: string | null }): string {
  const rows = opts.posts.map(
    (p) => html`<tr>
  <td>${p.title}</td>
  !${html`<td class="opt">!${authorHtml(p)}</td>`}
  <td>!${dateTimeHtml(p.deletedAt!, opts.timeZone)}</td>
  <td><div class="actions">
    <form method="post" action="/admin/posts/trash/${p.id}/restore" class="inline">!${csrfField(opts.csrf)}<button class="link" type="submit">Restore<span class="skip"> ${p.title}</span></button></form>
    !${opts.admin ? html`<form method="post" action="/admin/posts/trash/${p.id}/delete" class="inline">!${csrfField(opts.csrf)}<button class="link danger" type="submit">Delete for good<span class="skip"> ${p.title}</span></button></form>` : ''}
  </div></td>
</tr>`,
  );
  return html`<h1>Trash</h1>
<p>Deleted posts stay here for ${opts.days} days, then they are removed for good with their comments.</p>
!${
    opts.posts.length
      ? html`<table class="dash">
  <thead><tr><th scope="col">Title</th><th scope="col" class="opt">Author</th><th scope="col">Deleted</th><th scope="col">Actions</th></tr></thead>
  <tbody>!${rows}</tbody>
</table>`
      : html`<p>The trash is empty.</p>`
  }
!${opts.olderHref ? html`<nav class="pager" aria-label="Pagination"><span></span><a href="${opts.olderHref}">Older →</a></nav>` : ''}
<p><a href="/admin/posts">Back to the dashboard</a></p>`;
}

interface RevisionSummary {
  id: number;
  title: string;
  savedAt: string;
  savedBy: string | null;
}

/** A post's earlier versions, newest first. */
export function revisionsHtml(post: Post, revisions: RevisionSummary[], timeZone: string): string {
  return html`<h1>Revisions of “${post.title}”</h1>
<p>Each save of the published post kept the version it replaced.</p>
!${
    revisions.length
      ? html`<ol class="revisions">!${revisions.map((r) => html`<li><a href="/posts/${post.slug}/revisions/${r.id}">!${dateTimeHtml(r.savedAt, timeZone)}</a>: “${r.title}”!${r.savedBy ? html` (replaced by ${r.savedBy})` : ''}</li>`)}</ol>`
      : html`<p>No earlier versions yet.</p>`
  }
<p><a href="/posts/${post.slug}/edit">Back to the editor</a></p>`;
}

/** One earlier version, with the button that brings it back. */
export function revisionHtml(post: Post, r: RevisionSummary & { bodyHtml: string; tags: string[] }, csrf: string, timeZone: string): string {
  return html`<p class="notice">The version of “${post.title}” replaced on !${dateTimeHtml(r.savedAt, timeZone)}.</p>
<article class="post revision">
  <h1>${r.title}</h1>
  !${r.tags.length ? html`<p class="meta">Tags: ${r.tags.join(', ')}</p>` : ''}
  <div class="body">!${r.bodyHtml}</div>
</article>
<form method="post" action="/posts/${post.slug}/revisions/${r.id}/restore" class="actions">
  !${csrfField(csrf)}
  <button type="submit">Restore this version</button>
  <a href="/posts/${post.slug}/revisions">All revisions</a>
</form>`;
}
