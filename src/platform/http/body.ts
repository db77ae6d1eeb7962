import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.ts';
import { callbackHook } from './hooks.ts';

// How request bodies are read, for every route and content type: JSON with
// bounded nesting, "no body" for an empty one, no NUL characters, and a body
// the answer did not need read (up to a bound) before the answer goes out.

/** Deeper JSON than this is refused while parsing; no Inkwell input nests past a few levels. */
export const MAX_JSON_DEPTH = 64;

/**
 * The most unread body read and thrown away so an early answer (413, 415,
 * 401, 404…) reaches the client; past it the connection is closed.
 */
export const MAX_DISCARD_BYTES = 32 * 1024 * 1024;

/** A JSON text's nesting depth exceeds `max`: one pass over the text, no recursion. */
export function jsonNestsDeeper(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // Skip the string: jump to its closing quote, one not escaped by an odd run of backslashes.
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end === -1) return false; // unterminated: the parser refuses it
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 92) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = end;
    } else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/**
 * Whether any string (or key) in a parsed body holds NUL: PostgreSQL cannot
 * store it and no legitimate input contains it. Iterative, so no input depth
 * can overflow the stack; each value is visited once.
 */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

const bodyError = (message: string) => new AppError('bad_request', `The request body ${message}`, [{ field: 'body', message }]);

/** A request that announced a body (Content-Length above 0, or chunked) the server has not read to its end. */
function hasUnreadBody(request: FastifyRequest): boolean {
  const raw = request.raw;
  if (raw.complete || raw.readableEnded || raw.destroyed) return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Reads and discards the rest of a request body, up to `limit` bytes. Resolves
 * true when the body ended (the client will read the answer), false when the
 * limit was passed or the connection went away.
 */
function discardBody(request: FastifyRequest, limit: number): Promise<boolean> {
  const raw = request.raw;
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (ended: boolean) => {
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onGone);
      raw.off('close', onGone);
      if (!ended) raw.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) finish(false);
    };
    const onEnd = () => finish(true);
    const onGone = () => finish(raw.complete);
    raw.on('data', onData);
    raw.once('end', onEnd);
    raw.once('error', onGone);
    raw.once('close', onGone);
    raw.resume();
  });
}

/** Reads request bodies for every route: JSON and forms, bounded, and drained before early answers. */
export const bodyPlugin = fp(
  async (app: FastifyInstance) => {
    // Only JSON and form bodies are understood; anything else is a 415, not a guess.
    app.removeContentTypeParser('text/plain');

    // Many clients (axios instances, generated API clients, Conduit front ends)
    // send Content-Type: application/json on every request, body or not: an
    // empty body is no body. Nesting is bounded before parsing, so no body can
    // make a later walk (or a serializer) recurse without end.
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const text = body as string;
      if (text.trim() === '') {
        done(null, undefined);
        return;
      }
      if (jsonNestsDeeper(text, MAX_JSON_DEPTH)) {
        done(bodyError(`nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
        return;
      }
      parseJson(request, text, done);
    });

    app.addHook(
      'preValidation',
      callbackHook((request) => {
        if (request.url.includes('%00')) throw new AppError('bad_request', 'Text may not contain NUL (\\u0000) characters');
        // No body where every field is optional is an empty object (POST
        // /notifications/read with nothing marks all read); where a field is
        // required, the schema's 422 names the body.
        const schema = request.routeOptions.schema?.body as { type?: string; required?: string[] } | undefined;
        if (request.body === undefined && schema?.type === 'object' && !schema.required?.length) request.body = {};
        if (containsNul(request.body)) throw bodyError('may not contain NUL (\\u0000) characters');
      }),
    );

    // An answer sent before the body was read (too large, wrong type, not
    // allowed, not found) would otherwise be followed by closing a socket the
    // client is still writing to: the client's TCP stack then drops the answer
    // unread and reports EPIPE/ECONNRESET. So the rest of the body is read and
    // thrown away first, up to a bound; past it the connection is closed.
    app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void) => {
      if (!hasUnreadBody(request)) return done(null, payload);
      discardBody(request, MAX_DISCARD_BYTES).then((whole) => {
        if (!whole) reply.header('connection', 'close');
        done(null, payload);
      }, done);
    });

    // Live event streams stay open for hours, sending a heartbeat now and then;
    // the idle-connection timeout is for connections that stall, not for them.
    // (The request timeout still covers their request, which has no body.)
    app.addHook(
      'onRequest',
      callbackHook((request) => {
        if (request.method === 'GET' && request.headers.accept?.includes('text/event-stream')) request.raw.socket?.setTimeout(0);
      }),
    );
  },
  { name: 'inkwell-body' },
);
