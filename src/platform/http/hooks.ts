import type { FastifyReply, FastifyRequest } from 'fastify';

type Done = (err?: Error) => void;

/**
 * A hook run as a callback hook: synchronous work costs no promise, unlike an
 * async hook's promise and microtask turn on every request, though most of these
 * hooks only look at the request and return. If `fn` returns a promise it is
 * waited for (any other value is ignored); a thrown or rejected error goes to
 * Fastify's error handler as from an async hook.
 */
export function callbackHook(fn: (request: FastifyRequest, reply: FastifyReply) => unknown) {
  return (request: FastifyRequest, reply: FastifyReply, done: Done): void => {
    let result: unknown;
    try {
      result = fn(request, reply);
    } catch (e) {
      done(e as Error);
      return;
    }
    if (result instanceof Promise) result.then(() => done(), done);
    else done();
  };
}
