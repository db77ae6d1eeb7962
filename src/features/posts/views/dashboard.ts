import { html } from '../../../lib/html.ts';
import type { Post } from '../posts.queries.ts';
import { dateHtml } from '../../../lib/dates.ts';
import { statusHtml } from './post-page.ts';
import { authorHtml } from './post-list.ts';

/** The writer's table of posts with edit and delete controls. */
export function dashboardHtml(opts: { posts: Post[]; everyone: boolean; csrf: string; olderHref: string | null; timeZone: string }): string {
  const rows = opts.posts.map(
    (p) => html`<tr>
  <td><a href="/posts/${p.slug}">${p.title}</a></td>
  <td>!${statusHtml(p, opts.timeZone)}</td>
  !${opts.everyone ? html`<td class="opt">!${authorHtml(p)}</td>` : ''}
  <td class="opt">!${dateHtml(p.updatedAt)}</td>
  <td><div class="actions"><a href="/posts/${p.slug}/edit">Edit<span class="skip"> ${p.title}</span></a>
    <a href="/posts/${p.slug}/delete">Delete<span class="skip"> ${p.title}</span></a></div></td>
</tr>`,
  );
  return html`<h1>${opts.everyone ? 'All posts' : 'Your posts'}</h1>
<p><a class="button" href="/posts/new">Write a post</a> <a href="/admin/posts/trash">Trash</a></p>
!${
    opts.posts.length
      ? html`<table class="dash">
  <thead><tr><th scope="col">Title</th><th scope="col">Status</th>!${opts.everyone ? html`<th scope="col" class="opt">Author</th>` : ''}<th scope="col" class="opt">Updated</th><th scope="col">Actions</th></tr></thead>
  <tbody>!${rows}</tbody>
</table>`
      : html`<p>No posts yet. Your drafts and published posts will be listed here.</p>`
  }
!${opts.olderHref ? html`<nav class="pager" aria-label="Pagination"><span></span><a href="${opts.olderHref}">Older →</a></nav>` : ''}`;
}
