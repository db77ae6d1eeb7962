import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { addVary } from './caching.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Keep this route's anonymous 200 answers in memory until the database
     * changes. Only for answers that depend on nothing but the URL and the
     * database (not on the time, cookies or this process's state).
     */
    cacheAnonymous?: boolean;
  }
}

export interface ResponseCacheOptions {
  /** Bounds, so a crawler walking every page cannot grow memory. */
  maxEntries?: number;
  maxBytes?: number;
}

interface Entry {
  /** Encoded once, so a hit skips the UTF-8 encoding of the page too. */
  body: Buffer;
  headers: Record<string, string>;
  bytes: number;
}

const TOKEN = Symbol('response-cache-token');
// Set per request; never cached or replayed. CORS headers (access-control-*)
// are set by a hook for the request at hand (one allowed origin must not get
// another's Access-Control-Allow-Origin), so they are never stored either.
const PER_REQUEST = new Set(['x-request-id', 'content-length', 'set-cookie', 'date']);
const perRequest = (name: string) => PER_REQUEST.has(name) || name.startsWith('access-control-');

/**
 * An in-process cache of rendered anonymous answers that is never stale. Each
 * lookup first reads the database's change token (request.changeToken(): on
 * SQLite, this connection's row-change count and the commit counter of every
 * other connection and process), and a different token empties the cache. So any
 * committed write to any table (posts, comments, tags, favourites, settings,
 * whatever a page reads) invalidates it, without features having to say what
 * they changed. On PostgreSQL the token is the server's snapshot (one round
 * trip, far cheaper than a page's queries), so a write through any instance
 * empties every instance's cache before its next answer.
 *
 * Only anonymous GETs are served from it: no session, no bearer token, no flash
 * message; answers that set a cookie or embed a CSRF token are never stored.
 */
export const responseCachePlugin = fp(
  async (app: FastifyInstance, opts: ResponseCacheOptions) => {
    const maxEntries = opts.maxEntries ?? 1000;
    // A blog's hot set (front page, feeds, popular posts) is small; the bound counts toward RSS.
    const maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
    let token: string | null = null;
    let bytes = 0;
    const entries = new Map<string, Entry>();

    const cacheable = (request: FastifyRequest) =>
      request.method === 'GET' && request.user === null && request.flash === null && request.headers.authorization === undefined;

    // Answers from the cache, or notes the token the handler's answer will be stored under.
    // A callback hook: an async one that sends must return `reply`, a thenable that
    // Fastify waits on by watching the response stream (listeners and garbage on every hit).
    const lookup = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
      if (!cacheable(request)) return done();
      // Read before the handler's queries, so a stored answer is never older than its token.
      const now = request.changeToken();
      if (now instanceof Promise) now.then((at) => answer(request, reply, done, at), done);
      else answer(request, reply, done, now);
    };
    const answer = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void, now: string | null) => {
      if (now === null) return done();
      if (now !== token) {
        entries.clear();
        bytes = 0;
        token = now;
      }
      const hit = entries.get(request.url);
      if (!hit) {
        (request as unknown as Record<symbol, string>)[TOKEN] = now;
        return done();
      }
      // Vary is merged, not replaced: CORS set Origin on this reply already.
      const vary = reply.getHeader('vary');
      reply.headers(hit.headers);
      if (vary !== undefined && hit.headers.vary !== undefined) reply.header('vary', addVary(vary, hit.headers.vary));
      reply.code(200).send(hit.body);
    };

    // Route-level hooks, only on the routes that opted in, so no other request pays for them.
    // A route's own hooks run after the app's, so the ETag (caching plugin) is set before store().
    app.addHook('onRoute', (route) => {
      if (route.config?.cacheAnonymous !== true) return;
      route.preHandler = [...toList(route.preHandler), lookup];
      route.onSend = [...toList(route.onSend), store];
    });

    const store = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, p?: unknown) => void) => {
      const at = (request as unknown as Record<symbol, string | undefined>)[TOKEN];
      if (at === undefined || at !== token || reply.statusCode !== 200 || request.csrfIssued || reply.hasHeader('set-cookie')) return done(null, payload);
      if (typeof payload !== 'string' && !(payload instanceof Buffer)) return done(null, payload);
      const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
      const size = body.length;
      if (size > maxBytes / 8) return done(null, payload);
      while (entries.size >= maxEntries || (bytes + size > maxBytes && entries.size)) {
        const [oldest, e] = entries.entries().next().value!;
        entries.delete(oldest);
        bytes -= e.bytes;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (!perRequest(name) && value !== undefined) headers[name] = String(value);
      }
      entries.set(request.url, { body, headers, bytes: size });
      bytes += size;
      done(null, payload);
    };
  },
  { name: 'inkwell-response-cache', dependencies: ['inkwell-auth', 'inkwell-caching', 'inkwell-change-token'] },
);

function toList<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}
