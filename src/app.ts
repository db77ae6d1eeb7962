import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import type { Feature } from './platform/feature.ts';
import type { Infrastructure } from './platform/infrastructure.ts';
import { authPlugin } from './platform/http/auth.ts';
import { bodyPlugin } from './platform/http/body.ts';
import { healthPlugin } from './platform/http/health.ts';
import { inputPlugin } from './platform/http/input.ts';
import { openapiProblemsPlugin } from './platform/http/openapi-problems.ts';
import { cachingPlugin } from './platform/http/caching.ts';
import { responseCachePlugin } from './platform/http/response-cache.ts';
import { changeTokenPlugin } from './platform/http/change-token.ts';
import { securityHeadersPlugin } from './platform/http/security-headers.ts';
import { errorsPlugin } from './platform/http/errors.ts';
import { layoutPlugin } from './platform/http/layout.ts';
import { ProblemSchema } from './platform/http/problem.schema.ts';
import { lazySerializerFactory, lazyValidatorFactory } from './platform/http/schema-compilers.ts';
import { createSessionStore } from './platform/http/sessions.ts';
import { rateLimitPlugin } from './platform/http/rate-limit.ts';
import { createPageChrome } from './platform/http/slots.ts';
import { createNotFoundFallbacks } from './platform/http/not-found.ts';
import { createSettings } from './platform/settings.ts';
import { createSite } from './platform/site.ts';
import { randomToken } from './lib/secrets.ts';
import { encodeLocation } from './lib/slugify.ts';
import { accountsFeature } from './features/accounts/index.ts';
import { adminMailFeature } from './features/admin-mail/index.ts';
import { apiDocsFeature } from './features/api-docs/index.ts';
import { commentsFeature } from './features/comments/index.ts';
import { crawlFeature, type CrawlLimits } from './features/crawl/index.ts';
import { galleriesFeature } from './features/galleries/index.ts';
import { integrationsFeature } from './features/integrations/index.ts';
import { mediaFeature } from './features/media/index.ts';
import { pagesFeature } from './features/pages/index.ts';
import { notificationsFeature } from './features/notifications/index.ts';
import { postsFeature } from './features/posts/index.ts';
import { movingFeature } from './features/moving/index.ts';
import { redirectsFeature } from './features/redirects/index.ts';
import { realworldFeature } from './features/realworld/index.ts';
import { siteFeature } from './features/site/index.ts';
import { socialFeature } from './features/social/index.ts';
import { subscriptionsFeature } from './features/subscriptions/index.ts';

/** What buildApp needs: the infrastructure, and limits that tests shorten. */
export interface AppDeps extends Infrastructure {
  /** How long webhook and Slack receivers may take. */
  outboundTimeoutMs?: number;
  /** The link checker's politeness and time limits. */
  crawlLimits?: Partial<CrawlLimits>;
}

const REQUEST_ID = /^[\w.-]{1,100}$/;

/** Builds the whole application on a database. Never listens: main.ts or a test does. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db, clock } = deps;
  const settings = createSettings(db.kysely);
  const secret = config.sessionSecret ?? (await settings.getOrInit('session_secret', () => randomToken()));
  const site = createSite({ db, url: config.siteUrl, timezone: config.timezone });
  await site.refresh();
  const https = config.siteUrl.startsWith('https:');

  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: 1024 * 1024,
    // A client that sends its headers and then trickles (or never finishes) the
    // body would hold a connection forever. Node checks request deadlines on an
    // interval (30 s by default), so short timeouts get a finer check.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(60_000, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(config.requestTimeoutMs / 4))),
    },
    // A hop count trusts that many proxies in front of us (proxy-addr's hop index).
    trustProxy: typeof config.trustProxy === 'number' ? (_addr: string, hop: number) => hop < (config.trustProxy as number) : config.trustProxy,
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

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // Slugs may be in any script: a Location header carries them percent-encoded (a raw one is refused by Node).
    const location = reply.getHeader('location');
    if (typeof location === 'string' && /[^\x21-\x7e]/.test(location)) reply.header('location', encodeLocation(location));
    done(null, payload);
  });

  const notFound = createNotFoundFallbacks();
  await app.register(errorsPlugin, { notFound });
  await app.register(bodyPlugin);
  await app.register(openapiProblemsPlugin);
  await app.register(securityHeadersPlugin, {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'img-src': ["'self'", 'data:', 'https:', ...(config.media.publicUrl ? [new URL(config.media.publicUrl).origin] : [])],
        'form-action': ["'self'"],
        'upgrade-insecure-requests': https ? [] : null,
      },
    },
    hsts: https,
  });
  await app.register(cookie, { secret });
  await app.register(formbody, { bodyLimit: 1024 * 1024 });
  // Shared by every instance on PostgreSQL, in memory on SQLite (infrastructure.ts chooses).
  await app.register(rateLimitPlugin, { store: deps.counters });
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
          cookieAuth: {
            type: 'apiKey',
            in: 'cookie',
            name: 'inkwell_session',
            description: 'A browser session; state changes also need the X-CSRF-Token header.',
          },
        },
      },
    },
    hideUntagged: true,
  });
  const sessions = createSessionStore(db.kysely, clock);
  await app.register(authPlugin, { sessions, secret, secureCookies: https });
  await app.register(changeTokenPlugin, { db });
  // Form bodies become the route's command schema's types (after the CSRF check).
  await app.register(inputPlugin, { timeZone: () => site.settings().timeZone });
  await app.register(cachingPlugin);
  // Routes opt in with config.cacheAnonymous.
  await app.register(responseCachePlugin);
  const chrome = createPageChrome();
  await app.register(layoutPlugin, { site, chrome });

  // The features, each given what it uses and nothing more; their order is the
  // order of their header entries' registration only, never of their behaviour.
  const ctx = { ...deps, settings, sessions, site, chrome, notFound, secret };
  const posts = postsFeature(ctx);
  const accounts = accountsFeature(ctx, { posts: posts.service });
  const comments = commentsFeature(ctx, { posts, accounts });
  const social = socialFeature(ctx, { posts, accounts });
  const redirects = redirectsFeature(ctx);
  const media = mediaFeature(ctx, { posts, accounts });
  const pages = pagesFeature(ctx, { media: media.service });
  const galleries = galleriesFeature(ctx, { media, posts });
  const features: Feature<unknown>[] = [
    siteFeature(ctx, { posts: posts.service, accounts: accounts.service, media: media.service, pages: pages.service, images: posts.images }),
    accounts,
    adminMailFeature(ctx),
    posts,
    media,
    pages,
    galleries,
    comments,
    social,
    notificationsFeature(ctx, { accounts: accounts.service, posts: posts.service, comments: comments.service }),
    subscriptionsFeature(ctx, { accounts }),
    integrationsFeature(ctx, { accounts: accounts.service, posts: posts.service, comments: comments.service }),
    crawlFeature(ctx, { accounts: accounts.service, limits: deps.crawlLimits }),
    redirects,
    movingFeature(ctx, {
      posts: posts.service,
      pages: pages.service,
      galleries: galleries.service,
      comments: comments.service,
      accounts: accounts.service,
      redirects: redirects.service,
      media: media.service,
    }),
    realworldFeature(ctx, { accounts: accounts.service, posts: posts.service, comments: comments.service, social: social.service }),
    apiDocsFeature(ctx),
  ];

  await app.register(healthPlugin, { db, readiness: deps.readiness });
  for (const f of features) if (f.plugin) await app.register(f.plugin);
  await app.register(
    async (api) => {
      if (config.corsOrigins.length) {
        await api.register(cors, {
          origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
          methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
          allowedHeaders: ['Authorization', 'Content-Type', 'X-CSRF-Token', 'X-Request-Id'],
          exposedHeaders: ['Location', 'Retry-After', 'X-Request-Id'],
          maxAge: 600,
        });
      }
      for (const f of features) if (f.api) await api.register(f.api, { prefix: '/v1' });
    },
    { prefix: '/api' },
  );

  return app;
}
