import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts';
import { decodeSearchCursor, encodeSearchCursor } from './search/index.ts';
import type { Post } from './posts.queries.ts';
import type { PostsService } from './posts.service.ts';
import {
  IdOrSlugParams,
  PostCreateSchema,
  PostListQuery,
  PostListSchema,
  PostPatchSchema,
  PostReplaceSchema,
  PostSchema,
  type PostListQueryT,
} from './posts.schema.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

/** Posts as the API answers them (PostSchema): with their address and the viewer's favourite. */
export function postPresenter(posts: PostsService, siteUrl: string) {
  const present = <P extends Post>(p: P, favorited = false) => ({
    ...p,
    featureImage: p.featureImage?.id ?? null,
    featureImageAlt: p.featureImage?.alt ?? '',
    favorited,
    url: `${siteUrl}/posts/${p.slug}`,
  });
  // Whether the viewer favourited each post: one query per page, none for anonymous readers.
  async function presentAll<P extends Post>(viewer: { id: number } | null, list: P[]) {
    const mine = viewer
      ? await posts.favoritedAmong(
          viewer.id,
          list.map((p) => p.id),
        )
      : new Set<number>();
    return list.map((p) => present(p, mine.has(p.id)));
  }
  const presentOne = async (viewer: { id: number } | null, p: Post) => (await presentAll(viewer, [p]))[0];
  return { present, presentAll, presentOne };
}

/** The JSON API for posts under /api/v1. */
export async function postsApi(root: FastifyInstance, opts: { posts: PostsService; siteUrl: string }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { posts, siteUrl } = opts;
  const { present, presentAll, presentOne } = postPresenter(posts, siteUrl);

  // Anonymous answers are kept until the database changes (platform/http/response-cache.ts).
  app.get(
    '/posts',
    {
      config: { cacheAnonymous: true },
      schema: {
        tags: ['posts'],
        summary: 'List posts',
        description: 'Newest first, with cursor pagination: pass the returned `nextCursor` as `before`. With `q`: a full-text search, best match first.',
        querystring: PostListQuery,
        response: { 200: PostListSchema, ...problems(400, 401, 403, 422) },
      },
    },
    async (request) => {
      const q = request.query;
      if (q.q !== undefined) return searchPage(request.user, q);
      const before = q.before ? decodeCursor(q.before) : undefined;
      if (before === null)
        throw new AppError('bad_request', 'before is not a cursor returned by this API', [{ field: 'before', message: 'is not a valid cursor' }]);
      // Ajv fills the defaults in; the fallbacks only satisfy the types.
      const page = await posts.list(request.user, { status: q.status ?? 'published', tag: q.tag, author: q.author, before, limit: q.limit ?? 20 });
      return { posts: await presentAll(request.user, page.posts), nextCursor: page.nextCursor ? encodeCursor(page.nextCursor) : null };
    },
  );

  // GET /posts?q=: offset paging (relevance order has no keyset), behind the same opaque cursor.
  async function searchPage(viewer: { id: number } | null, q: PostListQueryT) {
    if (q.status !== undefined && q.status !== 'published') {
      throw new AppError('validation_failed', 'Search covers published posts only', [{ field: 'status', message: 'must be published (or absent) with q' }]);
    }
    const offset = q.before ? decodeSearchCursor(q.before) : 0;
    if (offset === null)
      throw new AppError('bad_request', 'before is not a cursor returned by this search', [{ field: 'before', message: 'is not a valid cursor' }]);
    const page = await posts.search(q.q ?? '', { limit: q.limit ?? 20, offset, tag: q.tag, author: q.author });
    return { posts: await presentAll(viewer, page.posts), nextCursor: page.nextOffset !== null ? encodeSearchCursor(page.nextOffset) : null };
  }

  app.get(
    '/posts/:idOrSlug',
    {
      config: { cacheAnonymous: true },
      schema: {
        tags: ['posts'],
        summary: 'Get one post',
        params: IdOrSlugParams,
        response: { 200: PostSchema, ...problems(404) },
      },
    },
    async (request) => presentOne(request.user, await posts.get(request.user, request.params.idOrSlug)),
  );

  app.post(
    '/posts',
    {
      schema: {
        tags: ['posts'],
        summary: 'Create a post',
        security,
        body: PostCreateSchema,
        description: 'Needs the author, editor or admin role. Answers 201 with a Location header.',
        response: { 201: PostSchema, ...problems(400, 401, 403, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const post = await posts.create(request.user, request.body);
      return reply.code(201).header('location', `/api/v1/posts/${post.id}`).send(present(post));
    },
  );

  app.put(
    '/posts/:idOrSlug',
    {
      schema: {
        tags: ['posts'],
        summary: 'Replace a post',
        security,
        params: IdOrSlugParams,
        body: PostReplaceSchema,
        response: { 200: PostSchema, ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request) => presentOne(request.user, await posts.replace(request.user, request.params.idOrSlug, request.body)),
  );

  app.patch(
    '/posts/:idOrSlug',
    {
      schema: {
        tags: ['posts'],
        summary: 'Change some fields of a post',
        security,
        params: IdOrSlugParams,
        body: PostPatchSchema,
        response: { 200: PostSchema, ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request) => presentOne(request.user, await posts.patch(request.user, request.params.idOrSlug, request.body)),
  );

  app.delete(
    '/posts/:idOrSlug',
    {
      schema: {
        tags: ['posts'],
        summary: 'Delete a post',
        security,
        params: IdOrSlugParams,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await posts.remove(request.user, request.params.idOrSlug);
      return reply.code(204).send(null);
    },
  );
}
