import type { FastifyInstance } from 'fastify';
import { html } from '../../lib/html.ts';
import { dateHtml } from '../../lib/dates.ts';
import type { NotificationKind } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { csrfField } from '../../platform/http/forms.ts';
import { acceptOneClickForms } from '../../platform/http/one-click.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { KIND_LABELS } from './notifications.emails.ts';
import { KINDS, PREFERENCES, type NotificationsService } from './notifications.service.ts';

type Body = Record<string, unknown> | undefined;
const PREF_LABELS = { instant: 'Email me at once', daily: 'One daily digest', off: 'No email' };

/** The notifications page, email preferences, and one-click unsubscribe. */
export async function notificationsRoutes(app: FastifyInstance, opts: { notifications: NotificationsService }) {
  const { notifications } = opts;

  app.get<{ Querystring: { before?: string } }>('/notifications', async (request, reply) => {
    const user = requireUser(request);
    const before = request.query.before && /^\d{1,9}$/.test(request.query.before) ? Number(request.query.before) : undefined;
    const { notifications: list, nextCursor, unreadCount } = await notifications.list(user.id, { before, limit: 30 });
    const csrf = request.csrfToken();
    const body = html`<h1>Notifications</h1>
<div class="actions">
  !${unreadCount ? html`<form method="post" action="/notifications/read">!${csrfField(csrf)}<button type="submit">Mark all as read</button></form>` : ''}
  <a href="/settings/notifications">Email preferences</a>
</div>
!${
      list.length
        ? html`<ol class="notifications">!${list.map(
            (n) => html`<li class="${n.read ? 'read' : 'unread'}">
  <a href="${new URL(n.url).pathname}${new URL(n.url).hash}">${n.message}</a>${n.read ? '' : ' · new'}
  <p class="meta">!${dateHtml(n.createdAt)}!${n.excerpt ? html` · “${n.excerpt}”` : ''}</p>
  !${n.read ? '' : html`<form method="post" action="/notifications/read" class="inline">!${csrfField(csrf)}<input type="hidden" name="ids" value="${n.id}"><button class="link" type="submit">Mark read</button></form>`}
</li>`,
          )}</ol>`
        : html`<p>Nothing yet. When someone comments on your posts, replies to you, follows you or favourites your post, it shows up here.</p>`
    }
!${nextCursor ? html`<nav class="pager" aria-label="Pagination"><span></span><a href="/notifications?before=${nextCursor}">Older →</a></nav>` : ''}`;
    return sendPage(request, reply, { title: 'Notifications', body });
  });

  app.post('/notifications/read', async (request, reply) => {
    const user = requireUser(request);
    const raw = (request.body as Body)?.ids;
    const ids =
      raw === undefined
        ? undefined
        : ([] as unknown[])
            .concat(raw)
            .map(String)
            .filter((x) => /^\d{1,9}$/.test(x))
            .map(Number);
    await notifications.markRead(user.id, ids);
    reply.setFlash(ids ? 'Marked as read' : 'All caught up');
    return reply.code(303).redirect('/notifications');
  });

  app.get('/settings/notifications', async (request, reply) => {
    const user = requireUser(request);
    const prefs = await notifications.prefs(user.id);
    const body = html`<h1>Email notifications</h1>
<p>You always see notifications at <a href="/notifications">/notifications</a>. Choose which ones also come by email.</p>
<form class="stacked" method="post" action="/settings/notifications">!${csrfField(request.csrfToken())}
!${KINDS.filter((kind) => kind !== 'comment_held' || user.role === 'admin' || user.role === 'editor').map(
      (kind) => html`<fieldset><legend>${KIND_LABELS[kind]}</legend>
  !${PREFERENCES.map((p) => html`<label><input type="radio" name="${kind}" value="${p}"!${prefs[kind] === p ? ' checked' : ''}> ${PREF_LABELS[p]}</label><br>`)}
</fieldset>`,
    )}
<div class="actions"><button type="submit">Save preferences</button></div></form>`;
    return sendPage(request, reply, { title: 'Email notifications', body });
  });

  app.post('/settings/notifications', async (request, reply) => {
    const user = requireUser(request);
    const b = (request.body ?? {}) as Record<string, unknown>;
    await notifications.setPrefs(user.id, Object.fromEntries(KINDS.filter((k) => k in b).map((k) => [k, b[k]])));
    reply.setFlash('Preferences saved');
    return reply.code(303).redirect('/settings/notifications');
  });

  // No login needed: the link itself is the credential, used once. Mail security
  // scanners fetch (GET/HEAD) every link in a message, so GET only shows a button;
  // only the POST it sends, or a mail client's RFC 8058 one-click POST, unsubscribes.
  app.get<{ Params: { token: string } }>('/unsubscribe/:token', async (request, reply) => {
    const { kind } = await notifications.unsubscribeKind(request.params.token);
    reply.header('cache-control', 'no-store');
    return sendPage(request, reply, {
      title: 'Unsubscribe',
      body: html`<h1>Unsubscribe</h1><p>Stop getting ${whatOf(kind)} by email?</p>
<form method="post" action="/unsubscribe/${request.params.token}"><button type="submit">Unsubscribe</button></form>`,
    });
  });

  await app.register(async (scope) => {
    acceptOneClickForms(scope);

    // No CSRF token by design: mail clients POST "List-Unsubscribe=One-Click" here
    // cross-site and without cookies (RFC 8058). The signed, single-use token in the
    // URL is the authority, so a forged request can do nothing a token holder couldn't.
    scope.post<{ Params: { token: string } }>('/unsubscribe/:token', { config: { csrf: false } }, async (request, reply) => {
      const oneClick = (request.body as Body)?.['List-Unsubscribe'] === 'One-Click';
      let kind: NotificationKind | 'all';
      try {
        ({ kind } = await notifications.unsubscribe(request.params.token));
      } catch (err) {
        if (oneClick && err instanceof AppError && err.code === 'token_invalid')
          return reply.code(400).type('text/plain; charset=utf-8').send('This unsubscribe link is invalid or was already used.\n');
        throw err;
      }
      if (oneClick) return reply.type('text/plain; charset=utf-8').send('Unsubscribed.\n');
      return sendPage(request, reply, {
        title: 'Unsubscribed',
        body: html`<h1>You're unsubscribed</h1><p>You will no longer get ${whatOf(kind)} by email. You can change this any time in your <a href="/settings/notifications">email preferences</a>.</p>`,
      });
    });
  });
}

function whatOf(kind: NotificationKind | 'all'): string {
  return kind === 'all' ? 'all notification emails' : `“${KIND_LABELS[kind]}”`;
}
