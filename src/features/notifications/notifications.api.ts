import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireUser } from '../../platform/http/auth.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import type { NotificationsService } from './notifications.service.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];
const Pref = Type.Enum(['instant', 'daily', 'off'], { description: 'instant: one email each; daily: a digest; off: no email.' });
const Prefs = Type.Object(
  {
    comment_on_post: Type.Optional(Pref),
    reply_to_comment: Type.Optional(Pref),
    new_follower: Type.Optional(Pref),
    post_favorited: Type.Optional(Pref),
    comment_held: Type.Optional(Pref),
  },
  { additionalProperties: false, description: 'Email preference per kind of notification.' },
);

const NotificationSchema = Type.Object(
  {
    id: Type.Integer({ description: 'Notification id.' }),
    kind: Type.Enum(['comment_on_post', 'reply_to_comment', 'new_follower', 'post_favorited', 'comment_held'], {
      description: 'What happened (comment_held: to moderators, a comment awaits approval).',
    }),
    read: Type.Boolean({ description: 'Whether it was marked read.' }),
    createdAt: Type.String({ format: 'date-time', description: 'When it happened.' }),
    eventId: Type.Integer({ description: "The domain event behind it (the live stream's event id)." }),
    actor: Type.Union([Type.Object({ username: Type.String(), displayName: Type.String() }), Type.Null()], { description: 'Who did it.' }),
    post: Type.Union([Type.Object({ id: Type.Integer(), slug: Type.String(), title: Type.String() }), Type.Null()], { description: 'The post concerned.' }),
    commentId: Type.Union([Type.Integer(), Type.Null()], { description: 'The comment concerned.' }),
    excerpt: Type.String({ description: 'The start of the comment, as text (empty for follows and favourites).' }),
    message: Type.String({ description: 'A sentence saying what happened.' }),
    url: Type.String({ description: 'Where to read it.' }),
  },
  { $id: 'Notification', description: 'Something that happened to you.' },
);

/** Notifications and their email preferences in the JSON API. */
export async function notificationsApi(root: FastifyInstance, opts: { notifications: NotificationsService }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { notifications } = opts;

  app.get(
    '/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Your notifications, newest first',
        security,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Per page.' })),
          before: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'The nextCursor of the previous page.' })),
        }),
        response: {
          200: Type.Object({
            notifications: Type.Array(NotificationSchema),
            unreadCount: Type.Integer({ description: 'Unread notifications in all.' }),
            nextCursor: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as before for the next page.' }),
          }),
          ...problems(401, 422),
        },
      },
    },
    async (request) => notifications.list(requireUser(request).id, { before: request.query.before, limit: request.query.limit ?? 20 }),
  );

  app.post(
    '/notifications/read',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Mark notifications read',
        security,
        description: 'With `ids`, marks those (only yours); without, marks all.',
        body: Type.Optional(
          Type.Object(
            { ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 2147483647 }), { maxItems: 500, description: 'Notification ids.' })) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Type.Object({ unreadCount: Type.Integer({ description: 'Unread left.' }) }), ...problems(401, 422) },
      },
    },
    async (request) => ({ unreadCount: await notifications.markRead(requireUser(request).id, request.body?.ids) }),
  );

  app.get(
    '/me/notification-preferences',
    {
      schema: { tags: ['notifications'], summary: 'Your email preferences', security, response: { 200: Prefs, ...problems(401) } },
    },
    async (request) => notifications.prefs(requireUser(request).id),
  );

  app.put(
    '/me/notification-preferences',
    {
      schema: { tags: ['notifications'], summary: 'Change your email preferences', security, body: Prefs, response: { 200: Prefs, ...problems(401, 422) } },
    },
    async (request) => {
      const id = requireUser(request).id;
      await notifications.setPrefs(id, request.body);
      return notifications.prefs(id);
    },
  );
}
