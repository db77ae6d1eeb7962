import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

/** Marks a preHandler that can answer 429, so the API document lists that status for its routes. */
export const RATE_LIMITED = Symbol('rate-limited');

function marked<F extends object>(fn: F): F {
  return Object.assign(fn, { [RATE_LIMITED]: true });
}

export interface LimitOptions {
  /** Requests allowed per window. */
  max: number;
  /** Window length, e.g. '1 minute', '15 minutes', '1 hour'. */
  timeWindow: string;
  /** What is counted: the client's address by default; return undefined to not count a request. */
  key?: (request: FastifyRequest) => string | undefined;
}

/**
 * A preHandler that answers 429 with Retry-After once a key has used up its
 * window. Routes stack several (per address and per account): the body is
 * parsed by then, so a limiter can key on the account being tried.
 */
export function limit(app: FastifyInstance, name: string, opts: LimitOptions) {
  // createRateLimit asks its keyGenerator for the key; hand it the one computed here.
  const keys = new WeakMap<FastifyRequest, string>();
  const check = app.createRateLimit({ max: opts.max, timeWindow: opts.timeWindow, keyGenerator: (r: FastifyRequest) => keys.get(r)! });
  return marked(async (request: FastifyRequest, reply: FastifyReply) => {
    const key = opts.key ? opts.key(request) : request.ip;
    if (key === undefined) return;
    keys.set(request, `${name}:${key}`);
    const result = await check(request);
    if (!result.isAllowed && result.isExceeded) {
      reply.header('retry-after', String(result.ttlInSeconds));
      throw new AppError('rate_limited', `Too many attempts; try again in ${result.ttlInSeconds} seconds`);
    }
  });
}

/** The lower-cased value of a body field, to limit attempts per account. */
export function bodyField(field: string) {
  return (request: FastifyRequest): string | undefined => {
    const v = (request.body as Record<string, unknown> | undefined)?.[field];
    return typeof v === 'string' && v.trim() ? v.trim().toLowerCase() : undefined;
  };
}

/**
 * A limit on failures only (wrong passwords for one account): the guard
 * refuses once `max` failures were recorded in the window, and success costs
 * nothing, so a person who logs in often is never locked out by it.
 */
export function failureLimit(app: FastifyInstance, name: string, opts: Required<Pick<LimitOptions, 'max' | 'timeWindow' | 'key'>>) {
  const keys = new WeakMap<FastifyRequest, string>();
  const check = app.createRateLimit({ max: opts.max, timeWindow: opts.timeWindow, keyGenerator: (r: FastifyRequest) => keys.get(r)! });
  const keyOf = (request: FastifyRequest) => {
    const key = opts.key(request);
    if (key !== undefined) keys.set(request, `${name}:${key}`);
    return key;
  };
  return {
    guard: marked(async (request: FastifyRequest, reply: FastifyReply) => {
      if (keyOf(request) === undefined) return;
      const result = await check(request, { increment: false });
      if (!result.isAllowed && result.remaining === 0) {
        reply.header('retry-after', String(Math.max(1, result.ttlInSeconds)));
        throw new AppError('rate_limited', `Too many failed attempts; try again in ${Math.max(1, result.ttlInSeconds)} seconds`);
      }
    }),
    async recordFailure(request: FastifyRequest): Promise<void> {
      if (keyOf(request) !== undefined) await check(request);
    },
  };
}
