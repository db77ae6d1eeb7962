import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { problems } from './problem.schema.ts';
import { RATE_LIMITED } from './rate-limit.ts';

const BODYLESS = new Set(['GET', 'HEAD']);

/**
 * The error statuses the platform itself can answer on a route, whatever its
 * handler does: 400 (NUL in the URL; for bodies, bad or too deeply nested JSON),
 * 401 (a bad token), 403 (token scope or CSRF on writes), 413 and 415 (bodies),
 * 422 (a schema'd body, query or params), 404 (an unknown id in the path) and
 * 429 (a rate-limited route).
 */
export function platformStatuses(route: Pick<RouteOptions, 'method' | 'schema' | 'preHandler'>): number[] {
  const methods = ([] as string[]).concat(route.method);
  const schema = route.schema ?? {};
  const out = new Set([400, 401]);
  if (methods.some((m) => !BODYLESS.has(m))) for (const s of [403, 413, 415]) out.add(s);
  if (schema.body || schema.querystring || schema.params) out.add(422);
  if (schema.params) out.add(404);
  const preHandlers = ([] as unknown[]).concat(route.preHandler ?? []);
  if (preHandlers.some((h) => typeof h === 'function' && RATE_LIMITED in h)) out.add(429);
  return [...out];
}

/**
 * Every documented operation lists the error statuses it can produce, so the
 * OpenAPI document never hides an answer a client must handle. Registered
 * before @fastify/swagger, whose own onRoute hook then sees the full list.
 */
export const openapiProblemsPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      const schema = route.schema as (RouteOptions['schema'] & { tags?: string[]; hide?: boolean }) | undefined;
      if (!schema?.tags || schema.hide) return;
      const response = { ...(schema.response as Record<string, unknown> | undefined) };
      for (const status of platformStatuses(route)) {
        if (!(status in response)) Object.assign(response, problems(status));
      }
      route.schema = { ...schema, response };
    });
  },
  { name: 'inkwell-openapi-problems' },
);
