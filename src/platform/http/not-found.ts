import type { FastifyRequest } from 'fastify';

/** Where a request for an address that has nothing should go instead. */
export interface Redirect {
  location: string;
  status: 301 | 302;
}

/** Looks up a redirect for a GET or HEAD request that found nothing; null to answer 404. */
export type NotFoundFallback = (request: FastifyRequest) => Promise<Redirect | null>;

/**
 * The extension point consulted before a page answers 404: a feature (redirects)
 * adds a fallback here, and the platform's not-found and error handlers ask it,
 * without knowing the feature. Some old addresses are answered by a route (a
 * WordPress `/?p=12` lands on the home page), so a fallback may also ask to see
 * requests its `early` test accepts, before routing.
 */
export interface NotFoundFallbacks {
  add(fallback: NotFoundFallback, opts?: { early?: (url: string) => boolean }): void;
  /** The first redirect a fallback finds for this request. */
  resolve(request: FastifyRequest): Promise<Redirect | null>;
  /** Whether some fallback wants to see this URL before routing. */
  wantsEarly(url: string): boolean;
}

/** Makes an empty list of fallbacks (every 404 stays a 404). */
export function createNotFoundFallbacks(): NotFoundFallbacks {
  const fallbacks: NotFoundFallback[] = [];
  const early: ((url: string) => boolean)[] = [];
  return {
    add(fallback, opts) {
      fallbacks.push(fallback);
      if (opts?.early) early.push(opts.early);
    },
    async resolve(request) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return null;
      for (const f of fallbacks) {
        const found = await f(request);
        if (found) return found;
      }
      return null;
    },
    wantsEarly: (url) => early.some((f) => f(url)),
  };
}
