import type { FastifyInstance } from 'fastify';
import etag from '@fastify/etag';
import fp from 'fastify-plugin';

/**
 * HTTP caching that makes repeat visits cheap and never leaks a private page:
 * a strong ETag on every answer (304 on a matching If-None-Match), and
 * Cache-Control chosen by who asked. Anything answered to a signed-in person
 * or bearer token, or that sets a cookie, is private; anonymous reads may be
 * kept by shared caches but must be revalidated.
 */
export const cachingPlugin = fp(async (app: FastifyInstance) => {
  await app.register(etag, { algorithm: 'sha1', weak: false });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return payload;
    if (request.user || reply.hasHeader('set-cookie')) {
      reply.header('cache-control', request.user ? 'private, no-cache' : 'private, no-store');
    } else if (!reply.hasHeader('cache-control')) {
      reply.header('cache-control', reply.statusCode < 400 ? 'public, max-age=0, must-revalidate' : 'no-store');
    }
    // Shared caches must not hand one person's answer to another.
    reply.header('vary', 'Cookie, Authorization');
    return payload;
  });
}, { name: 'inkwell-caching', dependencies: ['inkwell-auth'] });
