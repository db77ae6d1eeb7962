import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import { bodyField, limit } from '../../platform/http/rate-limit.ts';
import type { AccountsService } from '../accounts/index.ts';
import { CHECK_INBOX } from './subscriptions.routes.ts';
import { FrequencyChangeSchema, FrequencySchema, SubscribeSchema } from './subscriptions.schema.ts';
import type { SubscriptionsService } from './subscriptions.service.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];
const SubscriptionSchema = Type.Object(
  {
    id: Type.Integer(),
    email: Type.String(),
    author: Type.Union([Type.String(), Type.Null()], { description: "The author's username, or null for the whole blog." }),
    frequency: FrequencySchema,
    status: Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('unsubscribed')]),
    createdAt: Type.String({ format: 'date-time' }),
    confirmedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'Subscription', description: 'An email subscription to new posts.' },
);
const Id = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });

/** Subscriptions in the JSON API: anyone subscribes; signed-in people manage theirs. */
export async function subscriptionsApi(root: FastifyInstance, opts: { subscriptions: SubscriptionsService; accounts: AccountsService }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { subscriptions, accounts } = opts;
  const perIp = limit(root, 'subscribe-ip', { max: 10, timeWindow: '1 hour' });
  const perAddress = limit(root, 'subscribe-address', { max: 3, timeWindow: '1 hour', key: bodyField('email') });

  app.post(
    '/subscriptions',
    {
      preHandler: [perIp, perAddress],
      schema: {
        tags: ['subscriptions'],
        summary: 'Subscribe to new posts by email',
        description:
          'Double opt-in: the address gets a confirmation link, and nothing else until it is followed. The answer is 202 whether or not the address is already subscribed. `author` (a username) subscribes to one author and needs a signed-in caller; `email` then defaults to the account’s. Limited per IP address and per email address (429 with Retry-After).',
        security: [...security, {}],
        body: SubscribeSchema,
        response: { 202: Type.Object({ message: Type.String() }), ...problems(400, 401, 403, 404, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const { email, frequency, author } = request.body;
      let authorId: number | null = null;
      if (author !== undefined) {
        if (!request.user) throw new AppError('unauthenticated', 'Log in to subscribe to one author');
        const profile = await accounts.profile(author);
        if (profile.role === 'reader')
          throw new AppError('validation_failed', 'This account does not publish', [{ field: 'author', message: 'does not publish' }]);
        authorId = profile.id;
      }
      await subscriptions.subscribe({ email, frequency, authorId, user: request.user });
      return reply.code(202).send({ message: CHECK_INBOX });
    },
  );

  app.get(
    '/subscriptions',
    { schema: { tags: ['subscriptions'], summary: 'Your subscriptions', security, response: { 200: Type.Array(SubscriptionSchema), ...problems(401) } } },
    async (request) => subscriptions.mine(requireUser(request)),
  );

  app.patch(
    '/subscriptions/:id',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Change how often',
        security,
        params: Id,
        body: FrequencyChangeSchema,
        response: { 204: Type.Null(), ...problems(401, 404, 415, 422) },
      },
    },
    async (request, reply) => {
      await subscriptions.change(requireUser(request), request.params.id, { frequency: request.body.frequency });
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/subscriptions/:id',
    { schema: { tags: ['subscriptions'], summary: 'Unsubscribe', security, params: Id, response: { 204: Type.Null(), ...problems(401, 404) } } },
    async (request, reply) => {
      await subscriptions.change(requireUser(request), request.params.id, { cancel: true });
      return reply.code(204).send(null);
    },
  );
}
