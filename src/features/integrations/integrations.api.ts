import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireAdmin } from '../../platform/http/auth.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import { WEBHOOK_EVENTS, type Integrations } from './integrations.service.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];
const Events = Type.Array(Type.Enum([...WEBHOOK_EVENTS]), { minItems: 1, description: 'Events to receive.' });
const WebhookSchema = Type.Object(
  {
    id: Type.Integer({ description: 'Webhook id.' }),
    url: Type.String({ description: 'Where deliveries are POSTed.' }),
    events: Type.Array(Type.String(), { description: 'Events it receives.' }),
    active: Type.Boolean({ description: 'False when disabled (by hand, or after failing for days).' }),
    disabledReason: Type.Union([Type.String(), Type.Null()], { description: 'Why it was disabled.' }),
    failingSince: Type.Union([Type.String(), Type.Null()], { description: 'First failure of the current failing streak.' }),
    createdAt: Type.String({ format: 'date-time', description: 'When it was added.' }),
  },
  { $id: 'Webhook', description: 'A webhook endpoint (never its secret).' },
);
const Id = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Webhook id.' }) });

/** Webhook endpoints in the JSON API (admins only). */
export async function integrationsApi(root: FastifyInstance, opts: { integrations: Integrations }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { integrations } = opts;
  const admin = (request: Parameters<typeof requireAdmin>[0]) => requireAdmin(request, 'Only admins manage webhooks');

  app.get(
    '/webhooks',
    { schema: { tags: ['webhooks'], summary: 'List webhooks', security, response: { 200: Type.Array(WebhookSchema), ...problems(401, 403) } } },
    async (request) => {
      admin(request);
      return integrations.listWebhooks();
    },
  );

  app.post(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Add a webhook',
        security,
        description: 'The signing secret is returned once. Deliveries carry Inkwell-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">.',
        body: Type.Object(
          {
            url: Type.String({ maxLength: 500, description: 'http(s) URL.' }),
            events: Events,
            secret: Type.Optional(Type.String({ minLength: 16, maxLength: 200, description: 'Generated when omitted.' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ webhook: WebhookSchema, secret: Type.String({ description: 'Shown once.' }) }), ...problems(401, 403, 422) },
      },
    },
    async (request, reply) => {
      admin(request);
      return reply.code(201).send(await integrations.createWebhook(request.body));
    },
  );

  app.get(
    '/webhooks/:id',
    { schema: { tags: ['webhooks'], summary: 'One webhook', security, params: Id, response: { 200: WebhookSchema, ...problems(401, 403, 404) } } },
    async (request) => {
      admin(request);
      return integrations.getWebhook(request.params.id);
    },
  );

  app.patch(
    '/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook',
        security,
        params: Id,
        body: Type.Object(
          {
            url: Type.Optional(Type.String({ maxLength: 500 })),
            events: Type.Optional(Events),
            active: Type.Optional(Type.Boolean({ description: 'true re-enables a disabled endpoint.' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: WebhookSchema, ...problems(401, 403, 404, 422) },
      },
    },
    async (request) => {
      admin(request);
      return integrations.updateWebhook(request.params.id, request.body);
    },
  );

  app.delete(
    '/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Delete a webhook',
        security,
        params: Id,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      admin(request);
      await integrations.deleteWebhook(request.params.id);
      return reply.code(204).send(null);
    },
  );
}
