import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts';
import { decodeSearchCursor, encodeSearchCursor } from './search/index.ts';
import type { Post } from './posts.queries.ts';
import { TRASH_DAYS, type PostsService } from './posts.service.ts';
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
        summary: 'Move a post to the trash (or delete it for good)',
        security,
        params: IdOrSlugParams,
        querystring: Type.Object({
          permanent: Type.Optional(Type.Boolean({ default: false, description: 'Admins only: remove the post for good at once (also from the trash).' })),
        }),
        description:
          `The post leaves the blog at once (lists, feeds, search, its address answers 404) and stays in the trash for ${TRASH_DAYS} days: ` +
          '`GET /posts?status=trashed` lists it, `POST /posts/{id}/restore` brings it back. Then it is removed for good with its comments. ' +
          'A published post records `post.deleted` (webhooks) when it goes to the trash, and `post.published` if it is restored.',
        response: { 204: Type.Null({ description: 'In the trash (or deleted for good).' }), ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await posts.remove(request.user, request.params.idOrSlug, { permanent: request.query.permanent === true });
      return reply.code(204).send(null);
    },
  );

  const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,9}$', description: 'Numeric post id.' }) });

  app.post(
    '/posts/:id/restore',
    {
      schema: {
        tags: ['posts'],
        summary: 'Restore a post from the trash',
        security,
        params: IdParams,
        description: `Within ${TRASH_DAYS} days of its deletion; the post comes back as it was (published, draft or scheduled).`,
        response: { 200: PostSchema, ...problems(401, 404, 409) },
      },
    },
    async (request) => presentOne(request.user, await posts.restore(request.user, Number(request.params.id))),
  );

  app.post(
    '/posts/:idOrSlug/preview',
    {
      schema: {
        tags: ['posts'],
        summary: 'Make a secret preview link for a draft',
        security,
        params: IdOrSlugParams,
        description:
          'Anyone with the link can read the draft without an account (the page is marked as a preview and noindex). ' +
          'The link is returned only now (only its hash is stored); making a new one ends the previous one.',
        response: {
          201: Type.Object({ url: Type.String({ description: 'The preview link.' }) }, { description: 'The new preview link.' }),
          ...problems(401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const token = await posts.createPreview(request.user, request.params.idOrSlug);
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ url: `${siteUrl}/preview/${token}` });
    },
  );

  app.delete(
    '/posts/:idOrSlug/preview',
    {
      schema: {
        tags: ['posts'],
        summary: 'Revoke the preview link',
        security,
        params: IdOrSlugParams,
        response: { 204: Type.Null({ description: 'The link no longer works.' }), ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await posts.revokePreview(request.user, request.params.idOrSlug);
      return reply.code(204).send(null);
    },
  );

  const RevisionSummary = Type.Object({
    id: Type.Integer({ description: 'Revision id.' }),
    title: Type.String({ description: 'The title then.' }),
    savedAt: Type.String({ format: 'date-time', description: 'When a save replaced this version.' }),
    savedBy: Type.Union([Type.String(), Type.Null()], { description: 'Username of who made that save.' }),
  });
  const RevParams = Type.Object({ ...IdOrSlugParams.properties, revisionId: Type.String({ pattern: '^[0-9]{1,9}$', description: 'Revision id.' }) });

  app.get(
    '/posts/:idOrSlug/revisions',
    {
      schema: {
        tags: ['posts'],
        summary: 'Earlier versions of a post',
        security,
        params: IdOrSlugParams,
        description: 'Each save of a published post keeps the version it replaced. Newest first; for those who may edit the post.',
        response: { 200: Type.Object({ revisions: Type.Array(RevisionSummary) }), ...problems(401, 403, 404) },
      },
    },
    async (request) => ({ revisions: (await posts.revisions(request.user, request.params.idOrSlug)).revisions }),
  );

  app.get(
    '/posts/:idOrSlug/revisions/:revisionId',
    {
      schema: {
        tags: ['posts'],
        summary: 'One earlier version of a post',
        security,
        params: RevParams,
        response: {
          200: Type.Object({
            ...RevisionSummary.properties,
            body: Type.String({ description: 'The Markdown then.' }),
            bodyHtml: Type.String({ description: 'That Markdown rendered (sanitized).' }),
            excerpt: Type.Union([Type.String(), Type.Null()], { description: 'The custom excerpt then.' }),
            tags: Type.Array(Type.String(), { description: 'Tag names then.' }),
          }),
          ...problems(401, 403, 404),
        },
      },
    },
    async (request) => (await posts.revision(request.user, request.params.idOrSlug, Number(request.params.revisionId))).revision,
  );

  app.post(
    '/posts/:idOrSlug/revisions/:revisionId/restore',
    {
      schema: {
        tags: ['posts'],
        summary: 'Restore an earlier version',
        security,
        params: RevParams,
        description: 'Brings back its title, body, excerpt and tags; the status stays. The version it replaces is kept as a revision too.',
        response: { 200: PostSchema, ...problems(401, 403, 404) },
      },
    },
    async (request) => presentOne(request.user, await posts.restoreRevision(request.user, request.params.idOrSlug, Number(request.params.revisionId))),
  );
}
