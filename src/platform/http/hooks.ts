import type { FastifyReply, FastifyRequest } from 'fastify';

type Done = (err?: Error) => void;

/**
 * A hook whose work is synchronous, as a callback hook: an async hook costs a
 * promise and a microtask turn on every request, though most of these hooks
 * only look at the request and return. A thrown error goes to Fastify's error
 * handler as from an async hook.
 */
export function syncHook(fn: (request: FastifyRequest, reply: FastifyReply) => void) {
  return (request: FastifyRequest, reply: FastifyReply, done: Done): void => {
    try {
      fn(request, reply);
    } catch (e) {
      done(e as Error);
      return;
    }
    done();
  };
}

/** A hook that is synchronous unless it returns a promise (then it is waited for; any other value is ignored). */
export function maybeAsyncHook(fn: (request: FastifyRequest, reply: FastifyReply) => unknown) {
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
