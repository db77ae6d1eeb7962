import type { FastifyInstance } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import type { Events } from '../../platform/events/index.ts';
import type { LiveBus, LiveMessage } from '../../platform/events/live.ts';
import { commentHtml, type CommentsService } from '../comments/index.ts';
import type { NotificationsService } from './notifications.service.ts';

const HEARTBEAT_MS = 25_000;
const CATCH_UP_LIMIT = 200;

/**
 * GET /api/v1/events: a server-sent events stream of new notifications (for
 * the signed-in user) and new comments (under ?post=<id>). Event ids are
 * domain event ids, so a client reconnecting with Last-Event-ID gets exactly
 * what it missed, read back from the database.
 */
export async function liveRoutes(
  app: FastifyInstance,
  opts: {
    events: Events;
    live: LiveBus;
    notifications: NotificationsService;
    comments: CommentsService;
    maxStreams: number;
    /** The site's time zone now, for the comments' times of day. */
    timeZone: () => string;
  },
) {
  const { events, live, notifications, comments } = opts;
  let open = 0;
  // Every open stream, so shutting down can end them all: a stream never ends by
  // itself, and Fastify's close waits for every in-flight request.
  const streams = new Set<() => void>();
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    for (const end of streams) end();
  });

  app.get<{ Querystring: { post?: string; lastEventId?: string } }>(
    '/api/v1/events',
    {
      schema: { hide: true },
    },
    async (request, reply) => {
      const user = request.user;
      const rawPost = request.query.post;
      if (rawPost !== undefined && !/^\d{1,9}$/.test(rawPost)) {
        throw new AppError('validation_failed', undefined, [{ field: 'post', message: 'must be a post id' }]);
      }
      const post = rawPost ? await comments.postFor(user, Number(rawPost)) : null;
      if (!user && !post) throw new AppError('unauthenticated', "Log in for notifications, or pass ?post=<id> to follow a post's comments");
      if (open >= opts.maxStreams) {
        reply.header('retry-after', '30');
        throw new AppError('unavailable', 'Too many live connections right now; try again shortly');
      }
      const lastHeader = request.headers['last-event-id'] ?? request.query.lastEventId;
      let lastSent = typeof lastHeader === 'string' && /^\d{1,12}$/.test(lastHeader) ? Number(lastHeader) : null;

      if (closing) {
        reply.header('retry-after', '1');
        throw new AppError('unavailable', 'This server is shutting down; reconnect');
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      open += 1;
      res.write('retry: 3000\n\n');

      const send = (id: number, event: string, data: unknown) => {
        if (res.writableEnded) return;
        res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        if (lastSent === null || id > lastSent) lastSent = id;
      };

      async function pushComment(eventId: number, commentId: number) {
        if (!post) return;
        const item = await comments.placement(commentId);
        if (!item || item.comment.postId !== post.id) return;
        const { count } = await comments.thread(null, post);
        const html = commentHtml(item, {
          user: null,
          csrf: '',
          postSlug: post.slug,
          postAuthorId: post.author?.id ?? null,
          now: Date.now(),
          timeZone: opts.timeZone(),
        });
        send(eventId, 'comment', {
          id: commentId,
          parentId: item.comment.parentId,
          containerId: item.containerId,
          html,
          count,
          comment: { id: commentId, author: item.comment.author, bodyHtml: item.comment.bodyHtml, createdAt: item.comment.createdAt },
        });
      }

      async function pushNotifications(eventId: number) {
        if (!user) return;
        const { notifications: list, unreadCount } = await notifications.list(user.id, { after: eventId - 1, limit: 20 });
        for (const n of list.filter((x) => x.eventId === eventId)) send(eventId, 'notification', { notification: n, unreadCount });
      }

      // Serialised, so messages go out in order even when they arrive in a burst.
      let chain = Promise.resolve();
      const enqueue = (fn: () => Promise<void>) => {
        chain = chain.then(fn).catch((e) => request.log.warn({ err: (e as Error).message }, 'live push failed'));
      };

      async function catchUp() {
        if (lastSent === null) return;
        const since = lastSent;
        // Only dispatched events: their notifications exist, so the cursor never passes one still to come.
        const missed = await events.since(since, ['comment.created'], CATCH_UP_LIMIT);
        const byEvent = new Map<number, () => Promise<void>>();
        for (const e of missed) {
          if (post && e.payload.postId === post.id) byEvent.set(e.id, () => pushComment(e.id, e.payload.commentId));
        }
        if (user) {
          const { notifications: list, unreadCount } = await notifications.list(user.id, { after: since, limit: CATCH_UP_LIMIT });
          for (const n of list.reverse()) {
            const prev = byEvent.get(n.eventId);
            byEvent.set(n.eventId, async () => {
              await prev?.();
              send(n.eventId, 'notification', { notification: n, unreadCount });
            });
          }
        }
        for (const id of [...byEvent.keys()].sort((a, b) => a - b)) await byEvent.get(id)!();
      }

      const onMessage = (m: LiveMessage) => {
        enqueue(async () => {
          if (lastSent !== null && m.eventId <= lastSent) return; // already sent by a catch-up
          if (m.type === 'comment.created' && post && m.postId === post.id && m.commentId) await pushComment(m.eventId, m.commentId);
          if (user && m.userIds?.includes(user.id)) await pushNotifications(m.eventId);
        });
      };
      const unsubscribe = live.subscribe(onMessage);
      const unresync = live.onResync(() => enqueue(catchUp));
      enqueue(catchUp);
      const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
      // On shutdown: finish the stream cleanly and close its connection, so the
      // client reconnects (to another instance, with Last-Event-ID) at once and
      // this process need not wait for it.
      const end = () => {
        if (res.writableEnded) return;
        res.end();
        res.once('finish', () => res.socket?.end());
      };
      streams.add(end);

      request.raw.on('close', () => {
        streams.delete(end);
        clearInterval(heartbeat);
        unsubscribe();
        unresync();
        open -= 1;
      });
    },
  );
}
