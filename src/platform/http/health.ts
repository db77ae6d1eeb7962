import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../db/index.ts';

/** Whether this instance should be sent new requests: false from SIGTERM on. */
export interface Readiness {
  readonly draining: boolean;
  /** Marks the instance as leaving: /readyz answers 503 from now on, while requests are still served. */
  drain(): void;
}

/** A readiness flag for one process (main.ts drains it on SIGTERM). */
export function createReadiness(): Readiness {
  let draining = false;
  return {
    get draining() {
      return draining;
    },
    drain() {
      draining = true;
    },
  };
}

/**
 * /healthz: the process answers (liveness; never restart it for a database
 * outage). /readyz: send it traffic: the database takes a query and the
 * instance is not shutting down. A proxy that checks /readyz stops sending
 * requests before the instance stops accepting them, and during a database
 * outage; the pool reconnects by itself, and /readyz says so when it does.
 */
export const healthPlugin = fp(
  async (app: FastifyInstance, opts: { db: Db; readiness: Readiness }) => {
    app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

    app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
      if (opts.readiness.draining) return reply.code(503).header('cache-control', 'no-store').send({ status: 'stopping' });
      const ok = await opts.db.ping();
      return reply
        .code(ok ? 200 : 503)
        .header('cache-control', 'no-store')
        .send({ status: ok ? 'ok' : 'unavailable', database: ok ? 'reachable' : 'unreachable' });
    });
  },
  { name: 'inkwell-health' },
);
