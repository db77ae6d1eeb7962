import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../platform/db/index.ts';

const css = readFileSync(new URL('../../platform/http/assets/inkwell.css', import.meta.url), 'utf8');
const liveJs = readFileSync(new URL('../../platform/http/assets/live.js', import.meta.url), 'utf8');

/** Health checks and the stylesheet. */
export async function siteRoutes(app: FastifyInstance, opts: { db: Db }) {
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const ok = await opts.db.ping();
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', database: ok ? 'reachable' : 'unreachable' });
  });

  app.get('/assets/inkwell.css', async (_request, reply) => {
    return reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css);
  });

  app.get('/assets/live.js', async (_request, reply) => {
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(liveJs);
  });
}
