import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts';
import { IdOrSlugParams, PostListSchema, PostSchema, postPresenter, type PostsService } from '../posts/index.ts';
import type { SocialService } from './social.service.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

const RelationSchema = Type.Object(
  {
    username: Type.String({ description: 'The person concerned.' }),
    following: Type.Boolean({ description: 'Whether you follow them (false without a login).' }),
    followers: Type.Integer({ description: 'How many people follow them.' }),
    followingCount: Type.Integer({ description: 'How many people they follow.' }),
  },
  { $id: 'Relation', description: 'You and another person: whether you follow them, and their follow counts.' },
);

const UserParams = Type.Object({ username: Type.String({ maxLength: 100, description: 'The username.' }) });

/** Follows, favourites and the personal feed in the JSON API. */
export async function socialApi(root: FastifyInstance, opts: { social: SocialService; posts: PostsService; siteUrl: string }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { social, posts } = opts;
  const { presentAll, presentOne } = postPresenter(posts, opts.siteUrl);

  app.get(
    '/users/:username/follow',
    {
      schema: {
        tags: ['social'],
        summary: 'Whether you follow someone, and their follow counts',
        params: UserParams,
        response: { 200: RelationSchema, ...problems(404) },
      },
    },
    async (request) => social.relation(request.user, request.params.username),
  );

  app.put(
    '/users/:username/follow',
    {
      schema: {
        tags: ['social'],
        summary: 'Follow someone',
        security,
        params: UserParams,
        description: 'Idempotent. Their published posts appear in your feed; they get a notification the first time.',
        response: { 200: RelationSchema, ...problems(401, 404, 422) },
      },
    },
    async (request) => social.follow(requireUser(request), request.params.username),
  );

  app.delete(
    '/users/:username/follow',
    {
      schema: {
        tags: ['social'],
        summary: 'Stop following someone',
        security,
        params: UserParams,
        description: 'Idempotent: not following them already is fine.',
        response: { 200: RelationSchema, ...problems(401, 404) },
      },
    },
    async (request) => social.unfollow(requireUser(request), request.params.username),
  );

  app.put(
    '/posts/:idOrSlug/favorite',
    {
      schema: {
        tags: ['social'],
        summary: 'Favourite (like) a published post',
        security,
        params: IdOrSlugParams,
        description: 'Idempotent. Answers the post with its new favourite count; its author gets a notification the first time.',
        response: { 200: PostSchema, ...problems(401, 404) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      return presentOne(user, await social.favorite(user, request.params.idOrSlug));
    },
  );

  app.delete(
    '/posts/:idOrSlug/favorite',
    {
      schema: {
        tags: ['social'],
        summary: 'Take a favourite back',
        security,
        params: IdOrSlugParams,
        response: { 200: PostSchema, ...problems(401, 404) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      return presentOne(user, await social.unfavorite(user, request.params.idOrSlug));
    },
  );

  app.get(
    '/feed',
    {
      schema: {
        tags: ['social'],
        summary: 'Your personal feed',
        security,
        description: 'Published posts by the people you follow, newest first, with cursor pagination: pass `nextCursor` back as `before`.',
        querystring: Type.Object({
          before: Type.Optional(Type.String({ maxLength: 100, description: 'The `nextCursor` of the previous page.' })),
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Posts per page.' }),
        }),
        response: { 200: PostListSchema, ...problems(400, 401) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const before = request.query.before ? decodeCursor(request.query.before) : undefined;
      if (before === null)
        throw new AppError('bad_request', 'before is not a cursor returned by this API', [{ field: 'before', message: 'is not a valid cursor' }]);
      const page = await posts.list(user, { followedBy: user.id, before, limit: request.query.limit ?? 20 });
      return { posts: await presentAll(user, page.posts), nextCursor: page.nextCursor ? encodeCursor(page.nextCursor) : null };
    },
  );
}
