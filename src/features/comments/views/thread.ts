import { html } from '../../../lib/html.ts';
import type { FieldError } from '../../../platform/errors.ts';
import { csrfField, errorSummaryHtml, fieldHtml } from '../../../platform/http/forms.ts';
import type { CurrentUser } from '../../../platform/http/sessions.ts';
import { dateTimeHtml } from '../../../lib/dates.ts';
import { isModerator, LIMITS, type ThreadItem } from '../comments.service.ts';

export interface ThreadViewer {
  user: CurrentUser | null;
  csrf: string;
  postSlug: string;
  postAuthorId: number | null;
  now: number;
  /** Who may comment (the site setting); verified accounts when absent. */
  commenting?: 'signed-in' | 'verified' | 'nobody';
  /** The site's time zone, for the time of day each comment was written (UTC when absent). */
  timeZone?: string;
}

const PLACEHOLDER: Record<string, string> = {
  deleted: 'Comment deleted',
  hidden: "Comment hidden by the post's author",
};
const BADGE: Record<string, string> = { held: 'Awaiting moderation', spam: 'Marked as spam', hidden: 'Hidden' };

/** One comment and, nested, its replies. Anonymous rendering (no viewer) is what live clients receive. */
export function commentHtml(item: ThreadItem, v: ThreadViewer): string {
  const c = item.comment;
  const user = v.user;
  const placeholder = c.status === 'deleted' || (c.status === 'hidden' && !c.bodyHtml) ? PLACEHOLDER[c.status] : null;
  const isAuthor = !!user && c.author?.id === user.id;
  const canHide = !!user && (isModerator(user) || v.postAuthorId === user.id);
  const controls = placeholder
    ? ''
    : html`<div class="comment-actions">
  !${c.status === 'published' ? html`<a href="/posts/${v.postSlug}/comments/new?parent=${c.id}#comment-form">Reply<span class="skip"> to ${c.author?.displayName ?? 'this comment'}</span></a>` : ''}
  !${isAuthor && v.now - Date.parse(c.createdAt) < LIMITS.editWindowMs ? html`<a href="/comments/${c.id}/edit">Edit</a>` : ''}
  !${isAuthor || isModerator(user) ? html`<form method="post" action="/comments/${c.id}" class="inline">!${csrfField(v.csrf)}<input type="hidden" name="_method" value="DELETE"><button class="link" type="submit">Delete</button></form>` : ''}
  !${canHide && (c.status === 'published' || c.status === 'hidden') ? html`<form method="post" action="/comments/${c.id}/hide" class="inline">!${csrfField(v.csrf)}<input type="hidden" name="hidden" value="${c.status === 'hidden' ? '0' : '1'}"><button class="link" type="submit">${c.status === 'hidden' ? 'Show' : 'Hide'}</button></form>` : ''}
</div>`;
  const body = placeholder
    ? html`<p class="meta"><em>${placeholder}</em></p>`
    : html`<p class="meta">!${c.authorAvatarUrl ? html`<img class="avatar-small" src="${c.authorAvatarUrl}" alt="" width="24" height="24" loading="lazy" decoding="async"> ` : ''}<strong>${c.author?.displayName ?? c.authorName ?? 'A former member'}</strong> · <a href="#comment-${c.id}">!${dateTimeHtml(c.createdAt, v.timeZone ?? 'UTC')}</a>${c.editedAt ? ' · edited' : ''}!${BADGE[c.status] ? html` <span class="badge">${BADGE[c.status]}</span>` : ''}</p>
!${item.inReplyTo ? html`<p class="meta">In reply to <a href="#comment-${item.inReplyTo.id}">${item.inReplyTo.name}</a></p>` : ''}
<div class="comment-body">!${c.bodyHtml}</div>
!${controls}`;
  return html`<li id="comment-${c.id}" class="comment depth-${item.depth}">
<article aria-label="Comment by ${placeholder ? 'nobody' : (c.author?.displayName ?? c.authorName ?? 'a former member')}">!${body}</article>
<ol class="replies" id="replies-${c.id}">!${item.replies.map((r) => commentHtml(r, v))}</ol>
</li>`;
}

/** The comment form: a new comment, or a reply when parentId is set. */
export function commentFormHtml(opts: {
  action: string;
  csrf: string;
  values: { body: string; parentId?: number | null };
  errors: FieldError[];
  label?: string;
  edit?: boolean;
}): string {
  return html`<form id="comment-form" class="stacked" method="post" action="${opts.action}" novalidate>
  !${csrfField(opts.csrf)}
  !${opts.edit ? html`<input type="hidden" name="_method" value="PATCH">` : ''}
  !${opts.values.parentId ? html`<input type="hidden" name="parentId" value="${opts.values.parentId}">` : ''}
  <div class="hp" aria-hidden="true"><label for="website">Leave this empty</label><input type="text" id="website" name="website" tabindex="-1" autocomplete="off"></div>
  !${errorSummaryHtml(opts.errors)}
  !${fieldHtml({ name: 'body', label: opts.label ?? 'Your comment', type: 'textarea', value: opts.values.body, errors: opts.errors, hint: `(Markdown: *emphasis*, **bold**, \`code\`, links; at most ${LIMITS.links} links)`, attrs: html`maxlength="${LIMITS.body}" rows="5" style="min-height:7rem" required` })}
  <div class="actions"><button type="submit">${opts.edit ? 'Save comment' : 'Post comment'}</button></div>
</form>`;
}

/** The whole comments section under a post. */
export function threadHtml(items: ThreadItem[], count: number, v: ThreadViewer, postId: number): string {
  const form =
    v.commenting === 'nobody'
      ? html`<p>Comments are closed.</p>`
      : !v.user
        ? html`<p><a href="/login?next=/posts/${v.postSlug}%23comments">Log in</a> to join the conversation.</p>`
        : !v.user.verified && v.commenting !== 'signed-in'
          ? html`<p>Confirm your email address to comment (see <a href="/settings">your settings</a>).</p>`
          : commentFormHtml({ action: `/posts/${v.postSlug}/comments`, csrf: v.csrf, values: { body: '' }, errors: [] });
  return html`<section id="comments" aria-labelledby="comments-h" data-post-id="${postId}">
<h2 id="comments-h">Comments <span id="comment-count">(${count})</span></h2>
<ol class="thread" id="comments-root">!${items.map((i) => commentHtml(i, v))}</ol>
!${form}
</section>`;
}
