import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

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
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const key = opts.key ? opts.key(request) : request.ip;
    if (key === undefined) return;
    keys.set(request, `${name}:${key}`);
    const result = await check(request);
    if (!result.isAllowed && result.isExceeded) {
      reply.header('retry-after', String(result.ttlInSeconds));
      throw new AppError('rate_limited', `Too many attempts; try again in ${result.ttlInSeconds} seconds`);
    }
  };
}

/** The lower-cased value of a body field, to limit attempts per account. */
export function bodyField(field: string) {
  return (request: FastifyRequest): string | undefined => {
    const v = (request.body as Record<string, unknown> | undefined)?.[field];
    return typeof v === 'string' && v.trim() ? v.trim().toLowerCase() : undefined;
  };
}
