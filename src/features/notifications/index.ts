import { readFileSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { CommentsService } from '../comments/index.ts';
import type { PostsService } from '../posts/index.ts';
import { notificationsApi } from './notifications.api.ts';
import { liveRoutes } from './notifications.live.ts';
import { notificationsRoutes } from './notifications.routes.ts';
import { createNotificationsService, type NotificationsService } from './notifications.service.ts';

export { createNotificationsService, type NotificationOwners, type NotificationsService } from './notifications.service.ts';

const liveJs = readFileSync(new URL('./live.js', import.meta.url), 'utf8');
/** Events that notify someone, and so are pushed to their open pages. */
const NOTIFYING = new Set(['comment.created', 'comment.held', 'user.followed', 'post.favorited']);

/**
 * Notifications: made from comment, follow and favourite events; shown in-app
 * (the header's badge, /notifications), live over SSE, and by email (instant or a digest).
 */
export function notificationsFeature(
  ctx: AppContext,
  deps: { accounts: AccountsService; posts: PostsService; comments: CommentsService },
): Feature<NotificationsService> {
  const { events, live, mailer } = ctx;
  const service = createNotificationsService({
    db: ctx.db.kysely,
    clock: ctx.clock,
    mailer,
    site: ctx.site,
    owners: { accounts: deps.accounts, posts: deps.posts, comments: deps.comments },
  });
  // The header's badge: loaded before each signed-in page, read while rendering it.
  const unread = new WeakMap<FastifyRequest, number>();
  return {
    service,
    async plugin(app) {
      // Side effects of a new comment, follow or favourite happen after it commits.
      events.on('comment.created', service.onCommentCreated);
      events.on('user.followed', service.onUserFollowed);
      events.on('post.favorited', service.onPostFavorited);
      events.on('comment.held', service.onCommentHeld);
      events.afterCommit(async (event) => {
        if (!NOTIFYING.has(event.type)) return;
        const userIds = await service.recipientsOf(event.id);
        if (event.type === 'comment.created') {
          await live.publish({ eventId: event.id, type: event.type, postId: event.payload.postId, commentId: event.payload.commentId, userIds });
        } else if (userIds.length) {
          await live.publish({ eventId: event.id, type: event.type, userIds });
        }
      });
      ctx.scheduler.register('notification-digests', '*/10 * * * *', async () => {
        await service.sendDigests();
      });

      ctx.chrome.preload(async (request) => {
        if (request.user) unread.set(request, await service.unreadCount(request.user.id));
      });
      ctx.chrome.add('nav', {
        order: 50,
        render: (request) => {
          if (!request.user) return '';
          const n = unread.get(request) ?? 0;
          return html`<a href="/notifications">Notifications <span id="unread-badge" class="badge-count" aria-label="${n} unread"!${n ? '' : ' hidden'}>${n}</span></a>`;
        },
      });
      ctx.chrome.add('head', { order: 0, render: () => html`<script src="/assets/live.js" defer></script>` });
      app.get('/assets/live.js', async (_request, reply) => {
        return reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(liveJs);
      });

      await app.register(notificationsRoutes, { notifications: service });
      await app.register(liveRoutes, {
        events,
        live,
        notifications: service,
        comments: deps.comments,
        maxStreams: ctx.config.liveMaxStreams,
        timeZone: () => ctx.site.settings().timeZone,
      });
    },
    async api(api) {
      await api.register(notificationsApi, { notifications: service });
    },
  };
}
