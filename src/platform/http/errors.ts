import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ERRORS, type ErrorCode } from '../errors.ts';
import { type AjvError, fieldErrors, submittedValues } from './input.ts';
import { errorPage, sendPage } from './layout.ts';
import type { NotFoundFallbacks } from './not-found.ts';
import { isConnectionError } from '../db/errors.ts';

/** JSON API requests get problem+json; everything else gets an HTML page. */
export function wantsJson(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/');
}

// Fastify's own errors, by code, mapped onto our catalogue.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
};

/** Converts any thrown value into our AppError, without leaking internals. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as FastifyError & { validation?: unknown[]; validationContext?: string };
  if (e.validation) return new AppError('validation_failed', undefined, fieldErrors(e.validation as AjvError[], e.validationContext));
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new AppError('malformed_json', undefined, [{ field: 'body', message: 'is not valid JSON' }]);
  if (e.code && FASTIFY_CODES[e.code]) return new AppError(FASTIFY_CODES[e.code]);
  if (e.statusCode === 429) return new AppError('rate_limited', e.message);
  // A database outage is the server's, and passes: 503, not 500, so clients and
  // proxies know to try again (the pool reconnects by itself).
  if (isConnectionError(err)) return new AppError('unavailable', 'The database is unreachable for a moment; try again shortly');
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    const code = (Object.keys(ERRORS) as ErrorCode[]).find((k) => ERRORS[k].status === e.statusCode) ?? 'bad_request';
    return new AppError(code);
  }
  return new AppError('internal');
}

/** Sends an error as RFC 9457 problem+json. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  const body: Record<string, unknown> = {
    type: `about:blank`,
    title: ERRORS[err.code].title,
    status: err.status,
    code: err.code,
    detail: err.message,
    instance: request.url.split('?')[0],
  };
  if (err.errors.length) body.errors = err.errors;
  return reply.code(err.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(body));
}

export const errorsPlugin = fp(
  async (app: FastifyInstance, opts: { notFound?: NotFoundFallbacks }) => {
    const { notFound } = opts;
    // An old address (a renamed post, an imported blog's permalink) answers with its redirect rather than a 404.
    const redirectFor = async (request: FastifyRequest) => (notFound && !wantsJson(request) ? notFound.resolve(request) : null);
    if (notFound) {
      // A callback hook: most requests return at once, and an async hook that answers
      // would have to return `reply`, which Fastify waits on by watching the response.
      app.addHook('onRequest', (request, reply, done) => {
        if (!notFound.wantsEarly(request.url)) return done();
        redirectFor(request).then((to) => {
          if (to) reply.code(to.status).redirect(to.location);
          else done();
        }, done);
      });
    }

    app.setErrorHandler(async (error, request, reply) => {
      const err = toAppError(error);
      if (err.code === 'not_found') {
        const to = await redirectFor(request).catch(() => null);
        if (to) return reply.code(to.status).redirect(to.location);
      }
      if (err.code === 'unavailable' && !reply.hasHeader('retry-after')) reply.header('retry-after', '5');
      if (err.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code: err.code }, err.message);
      if (wantsJson(request)) return sendProblem(request, reply, err);
      // A page that needs a login sends the visitor to log in, then back here.
      if (err.code === 'unauthenticated' && request.method === 'GET') {
        return reply.code(303).redirect(`/login?next=${encodeURIComponent(request.url)}`);
      }
      // A refused form comes back as the form, with its messages and the input kept:
      // any error that names fields (invalid input, a slug taken, a wrong password).
      const formPage = request.routeOptions.config?.formPage;
      if (err.errors.length && formPage) {
        const page = await formPage(request, { errors: err.errors, values: submittedValues(request) });
        return sendPage(request, reply, { ...page, status: err.status });
      }
      return reply.code(err.status).type('text/html; charset=utf-8').send(errorPage(request, err));
    });
    app.setNotFoundHandler(async (request, reply) => {
      const to = await redirectFor(request);
      if (to) return reply.code(to.status).redirect(to.location);
      const err = new AppError('not_found', `Nothing lives at ${request.method} ${request.url.split('?')[0]}`);
      if (wantsJson(request)) return sendProblem(request, reply, err);
      return reply.code(404).type('text/html; charset=utf-8').send(errorPage(request, err));
    });
  },
  { name: 'inkwell-errors' },
);
