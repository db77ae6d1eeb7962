import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireUser } from '../../platform/http/auth.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import { GalleryInputSchema } from './galleries.schema.ts';
import type { GalleriesService, Gallery } from './galleries.service.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

export const GallerySchema = Type.Object(
  {
    id: Type.Integer({ description: 'Gallery id.' }),
    slug: Type.String({ description: 'Its address: /galleries/{slug}; embed it in a post with a line [gallery:{slug}].' }),
    title: Type.String({ description: 'Title.' }),
    description: Type.String({ description: 'Plain-text description, shown above the grid.' }),
    url: Type.String({ description: "Absolute address of the gallery's page." }),
    owner: Type.Union([Type.Object({ id: Type.Integer({ description: 'User id.' }), username: Type.String({ description: 'Username.' }) }), Type.Null()], {
      description: 'Who made it; null once that account is deleted.',
    }),
    items: Type.Array(
      Type.Object({
        mediaId: Type.String({ description: 'An uploaded image (GET /api/v1/media/{id} has its variants).' }),
        caption: Type.String({ description: "Caption in this gallery; empty shows the image's own." }),
      }),
      { description: 'The images, in order.' },
    ),
    createdAt: Type.String({ format: 'date-time', description: 'When it was made (UTC).' }),
    updatedAt: Type.String({ format: 'date-time', description: 'When it last changed (UTC).' }),
  },
  { $id: 'Gallery', description: 'An ordered set of uploaded images with captions.' },
);

const SlugParams = Type.Object({ slug: Type.String({ maxLength: 100, description: 'Gallery slug.' }) });

/** Galleries in the JSON API: anyone reads, writers make them, the maker, editors and admins change them. */
export async function galleriesApi(root: FastifyInstance, opts: { galleries: GalleriesService; siteUrl: string }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { galleries, siteUrl } = opts;
  const present = (g: Gallery) => ({ ...g, url: `${siteUrl}/galleries/${g.slug}` });

  app.get(
    '/galleries',
    {
      schema: {
        tags: ['galleries'],
        summary: 'List galleries',
        description: 'Newest first.',
        response: { 200: Type.Object({ galleries: Type.Array(GallerySchema, { description: 'Every gallery.' }) }) },
      },
    },
    async () => ({ galleries: (await galleries.list()).map(present) }),
  );

  app.post(
    '/galleries',
    {
      schema: {
        tags: ['galleries'],
        summary: 'Make a gallery',
        description: 'Authors, editors and admins.',
        security,
        body: GalleryInputSchema,
        response: { 201: GallerySchema, ...problems(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const g = await galleries.create(requireUser(request), request.body);
      return reply.code(201).header('location', `/api/v1/galleries/${g.slug}`).send(present(g));
    },
  );

  app.get(
    '/galleries/:slug',
    {
      schema: { tags: ['galleries'], summary: 'One gallery', params: SlugParams, response: { 200: GallerySchema, ...problems(404) } },
    },
    async (request) => present(await galleries.get(request.params.slug)),
  );

  app.put(
    '/galleries/:slug',
    {
      schema: {
        tags: ['galleries'],
        summary: 'Replace a gallery',
        description: 'Title, description and items are replaced; an omitted slug keeps the current one. Its maker, editors and admins.',
        security,
        params: SlugParams,
        body: GalleryInputSchema,
        response: { 200: GallerySchema, ...problems(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => present(await galleries.replace(requireUser(request), request.params.slug, request.body)),
  );

  app.delete(
    '/galleries/:slug',
    {
      schema: {
        tags: ['galleries'],
        summary: 'Delete a gallery',
        description: 'Its images stay in the library. Its maker, editors and admins.',
        security,
        params: SlugParams,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await galleries.remove(requireUser(request), request.params.slug);
      return reply.code(204).send(null);
    },
  );
}
