import type { FastifyInstance } from 'fastify';
import { html } from '../../lib/html.ts';
import { dateHtml } from '../../lib/dates.ts';
import { AppError } from '../../platform/errors.ts';
import { csrfField } from '../../platform/http/forms.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { readInput } from '../../platform/http/input.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { ModerationModeSchema } from './comments.schema.ts';
import { MODERATION_MODES, type CommentsService } from './comments.service.ts';

type IdParams = { Params: { id: string; action: string } };

const MODE_LABELS: Record<string, string> = {
  open: 'Publish comments at once',
  'first-time-held': "Hold a person's first comment for approval",
  'all-held': 'Hold every comment for approval',
};

/** /admin/comments: the moderation queue and the site's moderation setting. */
export async function adminCommentsRoutes(app: FastifyInstance, opts: { comments: CommentsService }) {
  const { comments } = opts;

  app.get('/admin/comments', async (request, reply) => {
    requireUser(request);
    const queue = await comments.queue(request.user);
    const mode = await comments.moderationMode();
    const csrf = request.csrfToken();
    const action = (id: number, name: string, label: string, danger = false) =>
      html`<form method="post" action="/admin/comments/${id}/${name}" class="inline">!${csrfField(csrf)}<button class="${danger ? 'link danger' : 'link'}" type="submit">${label}</button></form>`;
    const body = html`<h1>Comments awaiting moderation</h1>
!${
      queue.length
        ? html`<table class="dash"><thead><tr><th scope="col">Comment</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead><tbody>
!${queue.map(
            (c) => html`<tr>
  <td><p class="meta"><strong>${c.author?.displayName ?? 'A former member'}</strong> on <a href="/posts/${c.post.slug}">${c.post.title}</a> · !${dateHtml(c.createdAt)}</p>!${c.bodyHtml}</td>
  <td>${c.status}</td>
  <td><div class="actions">!${action(c.id, 'approve', 'Approve')} !${c.status !== 'spam' ? action(c.id, 'spam', 'Spam') : ''} !${action(c.id, 'delete', 'Delete', true)} !${c.author ? action(c.id, 'ban', 'Ban commenter', true) : ''}</div></td>
</tr>`,
          )}
</tbody></table>`
        : html`<p>Nothing is waiting. Well done.</p>`
    }
<section aria-labelledby="mode-h"><h2 id="mode-h">Moderation</h2>
<form class="stacked" method="post" action="/admin/comments/mode">!${csrfField(csrf)}
<fieldset><legend>New comments</legend>!${MODERATION_MODES.map((m) => html`<label><input type="radio" name="mode" value="${m}"!${m === mode ? ' checked' : ''}> ${MODE_LABELS[m]}</label><br>`)}</fieldset>
<div class="actions"><button type="submit">Save</button></div></form></section>`;
    return sendPage(request, reply, { title: 'Comments', body });
  });

  app.post<IdParams>('/admin/comments/:id/:action', async (request, reply) => {
    requireUser(request);
    const { action } = request.params;
    const id = /^\d{1,9}$/.test(request.params.id) ? Number(request.params.id) : NaN;
    if (Number.isNaN(id)) throw new AppError('not_found', 'No such comment');
    const done: Record<string, () => Promise<unknown>> = {
      approve: () => comments.approve(request.user, id),
      spam: () => comments.markSpam(request.user, id),
      delete: () => comments.queue(request.user).then(() => comments.remove(request.user, id)),
      ban: () => comments.banAuthorOf(request.user, id),
    };
    if (!done[action]) throw new AppError('not_found', 'No such moderation action');
    await done[action]();
    reply.setFlash({ approve: 'Comment approved', spam: 'Marked as spam', delete: 'Comment deleted', ban: 'Commenter banned' }[action]!);
    return reply.code(303).redirect('/admin/comments');
  });

  app.post('/admin/comments/mode', async (request, reply) => {
    requireUser(request);
    await comments.queue(request.user); // moderators only
    await comments.setModerationMode(readInput(request, ModerationModeSchema).mode);
    reply.setFlash('Moderation setting saved');
    return reply.code(303).redirect('/admin/comments');
  });
}
