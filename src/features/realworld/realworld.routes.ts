import { createRequire } from 'node:module';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import { AppError } from '../../platform/errors.ts';
import type { CurrentUser } from '../../platform/http/sessions.ts';
import { limit } from '../../platform/http/rate-limit.ts';
import { hmac, randomToken } from '../../lib/secrets.ts';
import { slugify } from '../../lib/slugify.ts';
import { createLoginLimiter, type AccountsService } from '../accounts/index.ts';
import type { Comment, CommentsService } from '../comments/index.ts';
import { canEditPost, type Post, type PostsService } from '../posts/index.ts';
import type { SocialService } from '../social/index.ts';
import { articleInput, commentBody, listParams, loginInput, registerInput, updateUserInput } from './realworld.input.ts';
import { fromAppError, fromFastifyError, notFound, RwError, toArticle, toComment, toProfile, toUser, type People } from './realworld.present.ts';

const TOKEN_TTL_MS = 30 * 24 * 3600_000;

// fast-jwt (with asn1.js, ~40 ms of start-up) loads when the first token is
// signed, not with the app: most processes never serve a RealWorld login.
const require = createRequire(import.meta.url);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a RealWorld route's 403 and 404 errors are keyed by (article, comment, profile). */
    resource?: string;
  }
}

export interface RealWorldOptions {
  accounts: AccountsService;
  posts: PostsService;
  comments: CommentsService;
  social: SocialService;
  /** The app secret: the JWTs' signing key is derived from it. */
  secret: string;
  corsOrigins: string[];
}

/**
 * The RealWorld (Conduit) API, spec version 2, over Inkwell's own services:
 * articles are posts, profiles are accounts, favourites and follows are the
 * native ones. It authenticates by the Authorization header only (never the
 * session cookie), so it needs no CSRF token and may be open to any origin.
 */
export async function realworldRoutes(app: FastifyInstance, opts: RealWorldOptions) {
  const { accounts, posts, comments, social } = opts;
  // A real JWT (front ends may read its claims), stored hashed as an API token
  // like any other, so it can be listed and revoked in /settings.
  let signer: ((payload: object) => string) | undefined;
  const sign = (payload: object) => {
    if (!signer) {
      const { createSigner } = require('fast-jwt') as typeof import('fast-jwt');
      signer = createSigner({ key: hmac(opts.secret, 'realworld-jwt'), algorithm: 'HS256', expiresIn: TOKEN_TTL_MS });
    }
    return signer(payload);
  };

  await app.register(cors, {
    origin: opts.corsOrigins.includes('*') ? '*' : opts.corsOrigins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Requested-With'],
    maxAge: 600,
  });

  // Every route here: no CSRF (no cookies are read), and errors in RealWorld's shape.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, csrf: false };
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let rw: RwError;
    if (err instanceof RwError) rw = err;
    else if (err instanceof AppError) {
      rw =
        err.code === 'unauthenticated' && request.headers.authorization !== undefined
          ? new RwError(401, { token: ['is invalid'] })
          : fromAppError(err, request.routeOptions.config.resource);
    } else rw = fromFastifyError(err);
    if (rw.status >= 500) request.log.error({ err }, 'RealWorld adapter error');
    return reply.code(rw.status).header('cache-control', 'no-store').send({ errors: rw.errors });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ errors: { resource: ['not found'] } }));

  // Only a token makes a user here; a browser's Inkwell session cookie is ignored.
  const viewerOf = (request: FastifyRequest): CurrentUser | null => (request.authVia === 'token' ? request.user : null);
  // The RealWorld protocol has no email verification, so accounts registered
  // through it publish and comment at once. Accounts made by Inkwell's own
  // sign-up keep its rule: unverified, they may not publish, here either.
  const registeredHere = new WeakSet<FastifyRequest>();
  app.addHook('preHandler', async (request) => {
    const v = viewerOf(request);
    if (v && !v.verified && (await accounts.registeredThroughRealworld(v.id))) registeredHere.add(request);
  });
  function requireViewer(request: FastifyRequest): CurrentUser {
    const v = viewerOf(request);
    if (!v) throw new RwError(401, { token: ['is missing'] });
    return registeredHere.has(request) ? { ...v, verified: true } : v;
  }
  const bearer = (request: FastifyRequest) => /^\S+\s+(\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';

  async function issueToken(userId: number, username: string): Promise<string> {
    const jwt = sign({ sub: String(userId), username, jti: randomToken() });
    await accounts.createApiToken(userId, 'RealWorld login', ['read', 'write'], { ttlMs: TOKEN_TTL_MS, token: jwt, kind: 'login' });
    return jwt;
  }
  const userBody = async (userId: number, token: string) => ({ user: toUser(await accounts.me(userId), token) });

  // Authors' profiles and the viewer's follows and favourites, one query each per answer.
  async function context(viewer: CurrentUser | null, authorIds: number[], postIds: number[]) {
    const people: People = await accounts.publicProfiles(authorIds);
    const following = viewer ? await social.followingAmong(viewer.id, authorIds) : new Set<number>();
    const favorited = viewer ? await posts.favoritedAmong(viewer.id, postIds) : new Set<number>();
    return { people, following, favorited };
  }
  async function articleBody(viewer: CurrentUser | null, post: Post) {
    const ctx = await context(viewer, post.author ? [post.author.id] : [], [post.id]);
    return { article: toArticle(post, { ...ctx, withBody: true }) };
  }
  async function articlesBody(viewer: CurrentUser | null, page: { posts: Post[]; total: number }) {
    const ctx = await context(
      viewer,
      page.posts.flatMap((p) => (p.author ? [p.author.id] : [])),
      page.posts.map((p) => p.id),
    );
    return { articles: page.posts.map((p) => toArticle(p, { ...ctx, withBody: false })), articlesCount: page.total };
  }
  // Articles are published, authored posts: drafts and the author-less welcome post are not part of this API.
  async function findArticle(viewer: CurrentUser | null, slug: string): Promise<Post> {
    const post = await posts.get(viewer, slug).catch((e) => {
      if (e instanceof AppError && e.code === 'not_found') throw notFound('article');
      throw e;
    });
    if (post.status !== 'published' || !post.author) throw notFound('article');
    return post;
  }
  async function profileBody(viewer: CurrentUser | null, username: string) {
    const p = await accounts.profile(username).catch((e) => {
      if (e instanceof AppError && e.code === 'not_found') throw notFound('profile');
      throw e;
    });
    const following = viewer ? (await social.followingAmong(viewer.id, [p.id])).has(p.id) : false;
    return { profile: toProfile(p, following) };
  }

  // ---- users ----
  // The same login limits as Inkwell's own login routes, sharing their counters.
  const logins = createLoginLimiter(app.counters, (login) => accounts.findUserId(login));
  app.post('/users/login', async (request, reply) => {
    const { email, password } = loginInput(request.body);
    const attempt = await logins.begin(request, reply, email);
    const userId = await accounts.authenticate(email, password).catch(async (e) => {
      if (e instanceof AppError && e.code === 'account_suspended') await attempt.succeeded();
      throw e;
    });
    await attempt.succeeded();
    const me = await accounts.me(userId);
    return userBody(userId, await issueToken(userId, me.username));
  });

  // The blog's one sign-up budget per address (shared with /signup and /api/v1/users).
  app.post('/users', { preHandler: limit(app, 'signup-ip', { max: 20, timeWindow: '1 hour' }) }, async (request, reply) => {
    const created = await accounts.signup(registerInput(request.body), 'length', 'realworld');
    return reply.code(201).send(await userBody(created.id, await issueToken(created.id, created.username)));
  });

  app.get('/user', async (request) => {
    const viewer = requireViewer(request);
    return userBody(viewer.id, bearer(request));
  });

  app.put('/user', async (request) => {
    const viewer = requireViewer(request);
    // A new email waits for confirmation from that address: the answer still shows the current one.
    await accounts.updateAccount(viewer.id, updateUserInput(request.body), 'length', { apiTokenId: request.apiTokenId });
    return userBody(viewer.id, bearer(request));
  });

  // ---- profiles ----
  const profileRoute = { config: { resource: 'profile' } };
  app.get<{ Params: { username: string } }>('/profiles/:username', profileRoute, async (request) => profileBody(viewerOf(request), request.params.username));

  const follow = (on: boolean) => async (request: FastifyRequest<{ Params: { username: string } }>) => {
    const viewer = requireViewer(request);
    await (on ? social.follow(viewer, request.params.username) : social.unfollow(viewer, request.params.username));
    return profileBody(viewer, request.params.username);
  };
  app.post('/profiles/:username/follow', profileRoute, follow(true));
  app.delete('/profiles/:username/follow', profileRoute, follow(false));

  // ---- articles ----
  const articleRoute = { config: { resource: 'article' } };
  app.get('/articles', articleRoute, async (request) => {
    const q = listParams(request.query);
    const tag = q.tag !== undefined ? slugify(q.tag) : undefined;
    // A tag with no letters or digits matches nothing rather than everything.
    if (tag === '') return { articles: [], articlesCount: 0 };
    const page = await posts.listPage({
      tag,
      author: q.author?.toLowerCase(),
      favoritedBy: q.favorited?.toLowerCase(),
      withAuthor: true,
      limit: q.limit,
      offset: q.offset,
      summary: true,
    });
    return articlesBody(viewerOf(request), page);
  });

  app.get('/articles/feed', articleRoute, async (request) => {
    const viewer = requireViewer(request);
    const q = listParams(request.query);
    return articlesBody(viewer, await posts.listPage({ followedBy: viewer.id, withAuthor: true, limit: q.limit, offset: q.offset, summary: true }));
  });

  app.post('/articles', articleRoute, async (request, reply) => {
    const viewer = requireViewer(request);
    const input = articleInput(request.body, true);
    const post = await posts.create(viewer, { ...input, status: 'published' });
    return reply.code(201).send(await articleBody(viewer, post));
  });

  app.get<{ Params: { slug: string } }>('/articles/:slug', articleRoute, async (request) => {
    const viewer = viewerOf(request);
    return articleBody(viewer, await findArticle(viewer, request.params.slug));
  });

  app.put<{ Params: { slug: string } }>('/articles/:slug', articleRoute, async (request) => {
    const viewer = requireViewer(request);
    const post = await findArticle(viewer, request.params.slug);
    // Whose article it is comes before what is wrong with the changes.
    if (!canEditPost(viewer, { authorId: post.author?.id ?? null, status: post.status })) throw new RwError(403, { article: ['forbidden'] });
    return articleBody(viewer, await posts.patch(viewer, post.id, articleInput(request.body, false)));
  });

  app.delete<{ Params: { slug: string } }>('/articles/:slug', articleRoute, async (request, reply) => {
    const viewer = requireViewer(request);
    const post = await findArticle(viewer, request.params.slug);
    await posts.remove(viewer, post.id);
    return reply.code(204).send();
  });

  const favorite = (on: boolean) => async (request: FastifyRequest<{ Params: { slug: string } }>) => {
    const viewer = requireViewer(request);
    const post = await findArticle(viewer, request.params.slug);
    return articleBody(viewer, await (on ? social.favorite(viewer, post.id) : social.unfavorite(viewer, post.id)));
  };
  app.post('/articles/:slug/favorite', articleRoute, favorite(true));
  app.delete('/articles/:slug/favorite', articleRoute, favorite(false));

  // ---- comments ----
  app.get<{ Params: { slug: string } }>('/articles/:slug/comments', articleRoute, async (request) => {
    const viewer = viewerOf(request);
    const post = await findArticle(viewer, request.params.slug);
    const { items } = await comments.thread(viewer, post);
    // The thread flattened in reading order; placeholders of deleted or hidden comments have no body to show.
    const flat: Comment[] = [];
    const walk = (list: typeof items) => {
      for (const item of list) {
        if (item.comment.author && item.comment.body) flat.push(item.comment);
        walk(item.replies);
      }
    };
    walk(items);
    const authorIds = flat.map((c) => c.author!.id);
    const people = await accounts.publicProfiles(authorIds);
    const following = viewer ? await social.followingAmong(viewer.id, authorIds) : new Set<number>();
    return { comments: flat.map((c) => toComment(c, { people, following })) };
  });

  app.post<{ Params: { slug: string } }>('/articles/:slug/comments', articleRoute, async (request, reply) => {
    const viewer = requireViewer(request);
    const body = commentBody(request.body);
    const post = await findArticle(viewer, request.params.slug);
    const c = await comments.create(viewer, post.id, { body });
    const people = await accounts.publicProfiles([viewer.id]);
    return reply.code(201).send({ comment: toComment(c, { people, following: new Set() }) });
  });

  app.delete<{ Params: { slug: string; id: string } }>(
    '/articles/:slug/comments/:id',
    { config: { resource: 'comment' } },
    async (request, reply: FastifyReply) => {
      const viewer = requireViewer(request);
      const post = await findArticle(viewer, request.params.slug);
      const id = /^\d{1,9}$/.test(request.params.id) ? Number(request.params.id) : NaN;
      const c = Number.isNaN(id) ? undefined : await comments.get(id).catch(() => undefined);
      if (!c || c.postId !== post.id || c.status === 'deleted') throw notFound('comment');
      await comments.remove(viewer, c.id);
      return reply.code(204).send();
    },
  );

  // ---- tags ----
  app.get('/tags', async () => ({ tags: (await posts.allTags()).map((t) => t.name) }));
}
