import { hash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** A strong ETag for a body: the one-shot sha1 (no Hash object per request, unlike @fastify/etag). */
export function strongEtag(body: string | Buffer): string {
  return `"${hash('sha1', body, 'base64')}"`;
}

/** Whether the request's If-None-Match names this ETag (weak comparison, as RFC 9110 asks for GET). */
export function notModified(request: FastifyRequest, etag: string): boolean {
  const given = request.headers['if-none-match'];
  if (!given) return false;
  if (given === etag || given === `W/${etag}` || given === '*') return true;
  return (
    given.includes(',') &&
    given.split(',').some((t) => {
      const s = t.trim();
      return s === etag || s === `W/${etag}`;
    })
  );
}

/** A Vary header value with the given field names added once each (case-insensitively). */
export function addVary(current: unknown, names: string): string {
  // The usual cases, on every answer: nothing there yet, or these very names.
  if (current === undefined || current === null || current === names) return names;
  const have =
    current === undefined || current === null
      ? []
      : String(current)
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean);
  const seen = new Set(have.map((n) => n.toLowerCase()));
  for (const n of names.split(',').map((x) => x.trim())) {
    if (!seen.has(n.toLowerCase())) {
      have.push(n);
      seen.add(n.toLowerCase());
    }
  }
  return have.join(', ');
}

/**
 * HTTP caching that makes repeat visits cheap and never leaks a private page:
 * a strong ETag on every successful read (304 on a matching If-None-Match), and
 * Cache-Control chosen by who asked. Anything answered to a signed-in person
 * or bearer token, or that sets a cookie, is private; anonymous reads may be
 * kept by shared caches but must be revalidated.
 */
export const cachingPlugin = fp(
  async (app: FastifyInstance) => {
    // One synchronous hook: an async one costs a promise and a tick per request.
    app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, p?: unknown) => void) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return done(null, payload);
      if (request.user || reply.hasHeader('set-cookie')) {
        reply.header('cache-control', request.user ? 'private, no-cache' : 'private, no-store');
      } else if (!reply.hasHeader('cache-control')) {
        reply.header('cache-control', reply.statusCode < 400 ? 'public, max-age=0, must-revalidate' : 'no-store');
      }
      // Shared caches must not hand one person's answer to another. Added to what
      // is there, never replacing it: CORS adds Origin where an answer's headers
      // depend on the caller's origin.
      reply.header('vary', addVary(reply.getHeader('vary'), 'Cookie, Authorization'));
      if (reply.statusCode !== 200 || !(typeof payload === 'string' || payload instanceof Buffer)) return done(null, payload);
      // A page is encoded to UTF-8 once, here: the hash, the response cache and the
      // socket then share the bytes (a string was encoded by each of them, ~10 % of
      // an uncached page's CPU).
      const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
      let etag = reply.getHeader('etag') as string | undefined;
      if (!etag) {
        etag = strongEtag(body);
        reply.header('etag', etag);
      }
      if (notModified(request, etag)) {
        reply.code(304);
        return done(null, '');
      }
      done(null, body);
    });
  },
  { name: 'inkwell-caching', dependencies: ['inkwell-auth'] },
);
