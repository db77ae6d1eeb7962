import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.ts';
import type { Clock } from '../../lib/clock.ts';

/** One key's count in its current window. */
export interface Count {
  count: number;
  /** How long until the window ends, in ms. */
  retryAfterMs: number;
}

/**
 * Where rate-limit counters live. Fixed windows: the first hit on a key opens
 * a window of windowMs, and the count starts again when it ends. The methods
 * are async so that a shared store (PostgreSQL, for several instances) can
 * take this one's place without changing any caller.
 */
export interface CounterStore {
  /** Counts one hit on key and returns the count including it. */
  hit(key: string, windowMs: number): Promise<Count>;
  /** Takes one hit back: an attempt counted up front that turned out not to count (a right password). */
  undo(key: string): Promise<void>;
  /** Forgets a key (an account's failures after a password reset). */
  clear(key: string): Promise<void>;
}

/** Counters in this process's memory, on an injectable clock (tests move time instead of sleeping). */
export function createMemoryCounterStore(clock: Clock): CounterStore {
  const counts = new Map<string, { count: number; resetAt: number }>();
  let sinceSweep = 0;
  const live = (key: string, now: number) => {
    const c = counts.get(key);
    return c && c.resetAt > now ? c : undefined;
  };
  return {
    async hit(key, windowMs) {
      const now = clock.now().getTime();
      // Drop ended windows now and then, so addresses seen once don't stay forever.
      if (++sinceSweep >= 10_000) {
        sinceSweep = 0;
        for (const [k, c] of counts) if (c.resetAt <= now) counts.delete(k);
      }
      let c = live(key, now);
      if (!c) counts.set(key, (c = { count: 0, resetAt: now + windowMs }));
      c.count += 1;
      return { count: c.count, retryAfterMs: c.resetAt - now };
    },
    async undo(key) {
      const c = live(key, clock.now().getTime());
      if (c && c.count > 0) c.count -= 1;
    },
    async clear(key) {
      counts.delete(key);
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The rate-limit counters every limiter shares. */
    counters: CounterStore;
  }
}

/** Makes one counter store available to every route's limiters. */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, opts: { store: CounterStore }) => {
    app.decorate('counters', opts.store);
  },
  { name: 'inkwell-rate-limit' },
);

const UNITS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** '15 minutes' → 900000. */
export function windowMs(timeWindow: string): number {
  const m = /^(\d+)\s*(second|minute|hour|day)s?$/.exec(timeWindow.trim());
  if (!m) throw new Error(`not a time window: ${timeWindow}`);
  return Number(m[1]) * UNITS[m[2]];
}

/** Answers 429 with Retry-After: the seconds until the window that refused ends. */
export function refuse(reply: FastifyReply, c: Count, message = 'Too many attempts'): never {
  const seconds = Math.max(1, Math.ceil(c.retryAfterMs / 1000));
  reply.header('retry-after', String(seconds));
  throw new AppError('rate_limited', `${message}; try again in ${seconds} seconds`);
}

/** Marks a preHandler that can answer 429, so the API document lists that status for its routes. */
export const RATE_LIMITED = Symbol('rate-limited');

/** Marks fn as able to answer 429 (see RATE_LIMITED). */
export function markRateLimited<F extends object>(fn: F): F {
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
 * parsed by then, so a limiter can key on the account being tried. Limiters
 * with the same name share one budget, on whichever route they sit.
 */
export function limit(app: FastifyInstance, name: string, opts: LimitOptions) {
  const ms = windowMs(opts.timeWindow);
  return markRateLimited(async (request: FastifyRequest, reply: FastifyReply) => {
    const key = opts.key ? opts.key(request) : request.ip;
    if (key === undefined) return;
    const c = await app.counters.hit(`${name}:${key}`, ms);
    if (c.count > opts.max) refuse(reply, c);
  });
}

/** The lower-cased value of a body field, to limit attempts per account. */
export function bodyField(field: string) {
  return (request: FastifyRequest): string | undefined => {
    const v = (request.body as Record<string, unknown> | undefined)?.[field];
    return typeof v === 'string' && v.trim() ? v.trim().toLowerCase() : undefined;
  };
}
