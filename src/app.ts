import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { Config } from './config.ts';
import type { Db } from './platform/db/index.ts';
import { authPlugin } from './platform/http/auth.ts';
import { cachingPlugin } from './platform/http/caching.ts';
import { responseCachePlugin } from './platform/http/response-cache.ts';
import { securityHeadersPlugin } from './platform/http/security-headers.ts';
import { errorsPlugin } from './platform/http/errors.ts';
import { setSiteName } from './platform/http/layout.ts';
import { ProblemSchema } from './platform/http/problem.schema.ts';
import { lazySerializerFactory, lazyValidatorFactory } from './platform/http/schema-compilers.ts';
import { createSessionStore } from './platform/http/sessions.ts';
import { createSettings } from './platform/settings.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { randomToken } from './lib/secrets.ts';
import { createAccountsService } from './features/accounts/index.ts';
import { adminUsersRoutes } from './features/accounts/accounts.admin.ts';
import { accountsApi } from './features/accounts/accounts.api.ts';
import { profileRoutes } from './features/accounts/accounts.profile.ts';
import { accountsRoutes } from './features/accounts/accounts.routes.ts';
import { settingsRoutes } from './features/accounts/accounts.settings.ts';
import { adminMailRoutes } from './features/admin-mail/admin-mail.routes.ts';
import type { Mailer } from './platform/mail/index.ts';
import type { Events } from './platform/events/index.ts';
import type { LiveBus } from './platform/events/live.ts';
import type { HttpClient } from './platform/http-client/index.ts';
import type { Queue } from './platform/jobs/queue.ts';
import type { Scheduler } from './platform/jobs/scheduler.ts';
import { integrationsApi } from './features/integrations/integrations.api.ts';
import { integrationsRoutes } from './features/integrations/integrations.routes.ts';
import { createIntegrations, WEBHOOK_EVENTS } from './features/integrations/integrations.service.ts';
import { CRAWL_SCHEDULE, createCrawlService, crawlRoutes, type CrawlLimits } from './features/crawl/index.ts';
import { adminCommentsRoutes } from './features/comments/comments.admin.ts';
import { commentsApi } from './features/comments/comments.api.ts';
import { commentsRoutes } from './features/comments/comments.routes.ts';
import { createCommentsService, threadHtml } from './features/comments/index.ts';
import { notificationsApi } from './features/notifications/notifications.api.ts';
import { liveRoutes } from './features/notifications/notifications.live.ts';
import { notificationsRoutes } from './features/notifications/notifications.routes.ts';
import { createNotificationsService, type CommentCreated } from './features/notifications/notifications.service.ts';
import { apiDocsRoutes } from './features/api-docs/api-docs.routes.ts';
import { createPostsService } from './features/posts/index.ts';
import { postsApi } from './features/posts/posts.api.ts';
import { postsRoutes } from './features/posts/posts.routes.ts';
import { searchRoutes } from './features/search/search.routes.ts';
import { feedRoutes } from './features/site/site.feeds.ts';
import { createSocialService, favoriteHtml, followHtml } from './features/social/index.ts';
import { socialApi } from './features/social/social.api.ts';
import { socialRoutes } from './features/social/social.routes.ts';
import { realworldRoutes } from './features/realworld/realworld.routes.ts';
import { siteRoutes } from './features/site/site.routes.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  /** Records outgoing mail in the outbox. */
  mailer: Mailer;
  /** Domain events recorded with each change and handled after commit. */
  events: Events;
  /** Live fan-out to open event streams (all instances on PostgreSQL). */
  live: LiveBus;
  /** The durable job queue, and cron schedules on the database. */
  queue: Queue;
  scheduler: Scheduler;
  /** The one client for outgoing HTTP (refuses private addresses). */
  http: HttpClient;
  /** How long webhook and Slack receivers may take (tests shorten it). */
  outboundTimeoutMs?: number;
  /** The link checker's politeness and time limits (tests shorten them). */
  crawlLimits?: Partial<CrawlLimits>;
  clock?: Clock;
  /** Run the delivery loops and schedules in this process (main.ts); tests drive them by hand. */
  background?: boolean;
}


const REQUEST_ID = /^[\w.-]{1,100}$/;

/** Builds the whole application on a database. Never listens: main.ts or a test does. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db } = deps;
  const clock = deps.clock ?? systemClock;
  const settings = createSettings(db.kysely);
  const secret = config.sessionSecret ?? await settings.getOrInit('session_secret', () => randomToken());
  const siteName = await settings.get('site_name') ?? 'Inkwell';
  setSiteName(siteName);
  const https = config.siteUrl.startsWith('https:');

  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: 1024 * 1024,
    // A hop count trusts that many proxies in front of us (proxy-addr's hop index).
    trustProxy: typeof config.trustProxy === 'number' ? ((_addr: string, hop: number) => hop < (config.trustProxy as number)) : config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Both compilers given here, not through app.setValidatorCompiler(): Fastify
    // loads its default (@fastify/ajv-compiler, and with it Ajv, ~40 ms) for any
    // factory not given. Bodies are validated strictly; query strings and params
    // coerce (see schema-compilers.ts).
    schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory([ProblemSchema]), buildSerializer: lazySerializerFactory() } },
  });
  app.addSchema(ProblemSchema);

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Only JSON and form bodies are understood; anything else is a 415, not a guess.
  app.removeContentTypeParser('text/plain');
  await app.register(errorsPlugin);
  await app.register(securityHeadersPlugin, {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'img-src': ["'self'", 'data:', 'https:'],
        'form-action': ["'self'"],
        'upgrade-insecure-requests': https ? [] : null,
      },
    },
    hsts: https,
  });
  await app.register(cookie, { secret });
  await app.register(formbody, { bodyLimit: 1024 * 1024 });
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Inkwell API',
        version: '1',
        description: 'JSON API for Inkwell blogs. Errors are RFC 9457 application/problem+json with a stable `code`.',
      },
      servers: [{ url: config.siteUrl }],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A personal access token (npm run inkwell -- create-token).' },
          cookieAuth: { type: 'apiKey', in: 'cookie', name: 'inkwell_session', description: 'A browser session; state changes also need the X-CSRF-Token header.' },
        },
      },
    },
    hideUntagged: true,
  });
  const sessions = createSessionStore(db.kysely, clock);
  await app.register(authPlugin, { sessions, secret, secureCookies: https });
  await app.register(cachingPlugin);
  // Routes opt in with config.cacheAnonymous.
  await app.register(responseCachePlugin, { db });

  const { mailer, events, live, queue, scheduler } = deps;
  const posts = createPostsService({ db: db.kysely, clock, events });
  const accounts = createAccountsService({
    db: db.kysely, clock, settings, sessions, mailer, events, site: { url: config.siteUrl, name: () => siteName },
    passwordHashCost: config.passwordHashCost,
  });
  const comments = createCommentsService({ db: db.kysely, clock, events, settings, posts });
  const social = createSocialService({ db: db.kysely, clock, events, posts });
  const notifications = createNotificationsService({ db: db.kysely, clock, mailer, site: { url: config.siteUrl, name: () => siteName } });

  // Side effects of a new comment happen after it commits (ARCHITECTURE.md, 8).
  events.on('comment.created', notifications.onCommentCreated);
  events.on('user.followed', notifications.onUserFollowed);
  events.on('post.favorited', notifications.onPostFavorited);
  const NOTIFYING = new Set(['comment.created', 'user.followed', 'post.favorited']);
  events.afterCommit(async (event) => {
    if (!NOTIFYING.has(event.type)) return;
    const userIds = await notifications.recipientsOf(event.id);
    if (event.type === 'comment.created') {
      const p = event.payload as unknown as CommentCreated;
      await live.publish({ eventId: event.id, type: event.type, postId: p.postId, commentId: p.commentId, userIds });
    } else if (userIds.length) {
      await live.publish({ eventId: event.id, type: event.type, userIds });
    }
    mailer.kick();
  });

  app.decorateRequest('unreadCount', null);
  app.addHook('preHandler', async (request) => {
    // Pages only: a logged-in browser also fetches the stylesheet and live.js on every page.
    if (request.user && request.method === 'GET' && !request.url.startsWith('/api/') && !request.url.startsWith('/assets/')) {
      request.unreadCount = await notifications.unreadCount(request.user.id);
    }
  });

  // Integrations: each event becomes jobs (webhook deliveries, a Slack message) in the handling transaction.
  const integrations = createIntegrations({
    db: db.kysely, clock, queue, http: deps.http, mailer, settings, appSecret: secret,
    siteUrl: config.siteUrl, siteName: () => siteName, slackFromEnv: config.slackWebhookUrl, requestTimeoutMs: deps.outboundTimeoutMs,
  });
  for (const type of WEBHOOK_EVENTS) events.on(type, integrations.onEvent);
  events.afterCommit(() => queue.kickIfEnqueued());
  queue.define<{ deliveryId: string }>('webhook.deliver', { handler: (p) => integrations.deliver(p.deliveryId) });
  queue.define<{ event: string; data: Record<string, unknown> }>('slack.notify', { handler: (p) => integrations.notifySlack(p.event, p.data) });

  scheduler.register('publish-scheduled-posts', '* * * * *', async () => { await posts.publishDue(); });
  scheduler.register('notification-digests', '*/10 * * * *', async () => { await notifications.sendDigests(); });
  // The link check runs in the background, so a long crawl never holds up other schedules.
  const crawl = createCrawlService({
    db: db.kysely, clock, http: deps.http, mailer, site: { url: config.siteUrl, name: () => siteName }, limits: deps.crawlLimits, log: app.log,
  });
  scheduler.register('link-check', CRAWL_SCHEDULE, async () => { await crawl.start('schedule'); });
  app.addHook('onClose', async () => { await crawl.stop(); });

  if (deps.background) {
    mailer.start();
    events.start();
    if (config.workers > 0) {
      queue.start({ concurrency: config.workers });
      scheduler.start();
    }
    app.addHook('onClose', async () => {
      // Finish or release running jobs before the database goes away.
      await scheduler.stop();
      await queue.stop();
      await events.stop();
      await mailer.stop();
      await live.close();
    });
  }

  await app.register(siteRoutes, { db });
  await app.register(accountsRoutes, { accounts });
  await app.register(settingsRoutes, { accounts });
  await app.register(adminUsersRoutes, { accounts });
  await app.register(profileRoutes, {
    accounts, posts, aside: async (request, username) => followHtml(request, await social.relation(request.user, username)),
  });
  await app.register(adminMailRoutes, { db: db.kysely });
  await app.register(postsRoutes, {
    posts,
    below: async (request, post) => {
      const favorited = request.user ? (await posts.favoritedAmong(request.user.id, [post.id])).has(post.id) : false;
      const { items, count } = await comments.thread(request.user, post);
      return favoriteHtml(request, post, favorited) + threadHtml(items, count, {
        user: request.user, csrf: request.user ? request.csrfToken() : '', postSlug: post.slug, postAuthorId: post.author?.id ?? null, now: clock.now().getTime(),
      }, post.id);
    },
  });
  await app.register(searchRoutes, { posts });
  await app.register(commentsRoutes, { comments });
  await app.register(socialRoutes, { social, posts });
  await app.register(adminCommentsRoutes, { comments });
  await app.register(notificationsRoutes, { notifications });
  await app.register(integrationsRoutes, { integrations, queue });
  await app.register(crawlRoutes, { crawl });
  await app.register(liveRoutes, { db: db.kysely, live, notifications, comments, maxStreams: config.liveMaxStreams });
  await app.register(feedRoutes, { posts, siteUrl: config.siteUrl, siteName: () => siteName });
  await app.register(async (api) => {
    if (config.corsOrigins.length) {
      await api.register(cors, {
        origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowedHeaders: ['Authorization', 'Content-Type', 'X-CSRF-Token', 'X-Request-Id'],
        exposedHeaders: ['Location', 'Retry-After', 'X-Request-Id'],
        maxAge: 600,
      });
    }
    await api.register(postsApi, { posts, siteUrl: config.siteUrl, prefix: '/v1' });
    await api.register(accountsApi, { accounts, prefix: '/v1' });
    await api.register(commentsApi, { comments, prefix: '/v1' });
    await api.register(socialApi, { social, posts, siteUrl: config.siteUrl, prefix: '/v1' });
    await api.register(notificationsApi, { notifications, prefix: '/v1' });
    await api.register(integrationsApi, { integrations, prefix: '/v1' });
  }, { prefix: '/api' });
  if (config.realworldPath) {
    await app.register(realworldRoutes, { accounts, posts, comments, social, secret, corsOrigins: config.realworldCorsOrigins, prefix: config.realworldPath });
  }
  await app.register(apiDocsRoutes);

  return app;
}
