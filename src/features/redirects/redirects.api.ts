import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireAdmin } from '../../platform/http/auth.ts';
import { RedirectCreateSchema } from './redirects.schema.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import type { RedirectsService } from './redirects.service.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];
const RedirectSchema = Type.Object(
  {
    id: Type.Integer({ description: 'Redirect id.' }),
    from: Type.String({ description: 'The old path (percent-decoded, no trailing slash; may carry a query such as /?p=12).' }),
    to: Type.String({ description: 'Where it leads: a path on this site or an http(s) address.' }),
    status: Type.Union([Type.Literal(301), Type.Literal(302)], { description: '301 moved for good, 302 for now.' }),
    source: Type.String({ description: 'Who made it: admin, slug (a renamed post) or import.' }),
    createdAt: Type.String({ format: 'date-time', description: 'When it was added.' }),
  },
  { $id: 'Redirect', description: 'An old address answered with a redirect when nothing else lives there.' },
);
const Id = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Redirect id.' }) });

/** Redirects in the JSON API (admins only). */
export async function redirectsApi(root: FastifyInstance, opts: { redirects: RedirectsService }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { redirects } = opts;
  const admin = (request: Parameters<typeof requireAdmin>[0]) => requireAdmin(request, 'Only admins manage redirects');

  app.get(
    '/redirects',
    { schema: { tags: ['redirects'], summary: 'List redirects', security, response: { 200: Type.Array(RedirectSchema), ...problems(401, 403) } } },
    async (request) => {
      admin(request);
      return redirects.list();
    },
  );

  app.post(
    '/redirects',
    {
      schema: {
        tags: ['redirects'],
        summary: 'Add a redirect',
        security,
        description: 'Answers 201 with a Location header; 409 when the old path already has a redirect.',
        body: RedirectCreateSchema,
        response: { 201: RedirectSchema, ...problems(400, 401, 403, 409, 415, 422) },
      },
    },
    async (request, reply) => {
      admin(request);
      const r = await redirects.create(request.body);
      return reply.code(201).header('location', `/api/v1/redirects/${r.id}`).send(r);
    },
  );

  app.get(
    '/redirects/:id',
    { schema: { tags: ['redirects'], summary: 'One redirect', security, params: Id, response: { 200: RedirectSchema, ...problems(401, 403, 404) } } },
    async (request) => {
      admin(request);
      return redirects.get(request.params.id);
    },
  );

  app.delete(
    '/redirects/:id',
    {
      schema: {
        tags: ['redirects'],
        summary: 'Delete a redirect',
        security,
        params: Id,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      admin(request);
      await redirects.remove(request.params.id);
      return reply.code(204).send(null);
    },
  );
}
