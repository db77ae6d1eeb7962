import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PageInputSchema } from './pages.schema.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import type { PagesService } from './pages.service.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }, {}];
const writeSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

const PageSchema = Type.Object(
  {
    id: Type.Integer(),
    slug: Type.String({ description: 'The address: /pages/{slug}.' }),
    title: Type.String(),
    body: Type.String({ description: 'Markdown.' }),
    bodyHtml: Type.String({ description: 'The body rendered and sanitized.' }),
    description: Type.String({ description: 'For search engines and sharing cards (the start of the text when none was given).' }),
    image: Type.Union([Type.Object({ id: Type.String(), url: Type.String() }), Type.Null()], { description: "The sharing cards' image." }),
    status: Type.Enum(['draft', 'published']),
    url: Type.String({ description: 'The public address.' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Page', description: 'A static page (About, Contact…): not a post, never in post lists or feeds.' },
);

const Params = Type.Object({ idOrSlug: Type.String({ maxLength: 100, description: 'Page id or slug.' }) });

/** /api/v1/pages: read by anyone (drafts by editors), written by editors and admins. */
export async function pagesApi(root: FastifyInstance, opts: { pages: PagesService }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { pages } = opts;

  app.get(
    '/pages',
    {
      schema: {
        tags: ['pages'],
        summary: 'Static pages, by title',
        description: 'Published pages; editors and admins also see drafts.',
        security,
        response: { 200: Type.Object({ pages: Type.Array(PageSchema) }) },
      },
    },
    async (request) => ({ pages: await pages.list(request.user) }),
  );

  app.get(
    '/pages/:idOrSlug',
    {
      schema: { tags: ['pages'], summary: 'One page', security, params: Params, response: { 200: Type.Object({ page: PageSchema }), ...problems(404) } },
    },
    async (request) => ({ page: await pages.get(request.user, request.params.idOrSlug) }),
  );

  app.post(
    '/pages',
    {
      schema: {
        tags: ['pages'],
        summary: 'Write a page (editors and admins)',
        security: writeSecurity,
        body: PageInputSchema,
        response: { 201: Type.Object({ page: PageSchema }), ...problems(401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const page = await pages.create(request.user, request.body);
      return reply.code(201).header('location', `/api/v1/pages/${page.id}`).send({ page });
    },
  );

  app.patch(
    '/pages/:idOrSlug',
    {
      schema: {
        tags: ['pages'],
        summary: 'Change a page (editors and admins)',
        security: writeSecurity,
        params: Params,
        body: PageInputSchema,
        response: { 200: Type.Object({ page: PageSchema }), ...problems(401, 403, 404, 409, 422) },
      },
    },
    async (request) => ({ page: await pages.update(request.user, request.params.idOrSlug, request.body) }),
  );

  app.delete(
    '/pages/:idOrSlug',
    {
      schema: {
        tags: ['pages'],
        summary: 'Delete a page (editors and admins)',
        security: writeSecurity,
        params: Params,
        response: { 204: Type.Null(), ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await pages.remove(request.user, request.params.idOrSlug);
      return reply.code(204).send(null);
    },
  );
}
