import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.ts';

// How request bodies are read, for every route and content type: JSON with
// bounded nesting, "no body" for an empty one, and no NUL characters.

/** Deeper JSON than this is refused while parsing; no Inkwell input nests past a few levels. */
export const MAX_JSON_DEPTH = 64;

/** A JSON text's nesting depth exceeds `max`: one pass over the text, no recursion. */
export function jsonNestsDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
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

const bodyError = (code: 'bad_request' | 'malformed_json', message: string) =>
  new AppError(code, `The request body ${message}`, [{ field: 'body', message }]);

export const bodyPlugin = fp(async (app: FastifyInstance) => {
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
      done(bodyError('bad_request', `nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parseJson(request, text, done);
  });

  app.addHook('preValidation', async (request) => {
    if (/%00/.test(request.url)) throw new AppError('bad_request', 'Text may not contain NUL (\\u0000) characters');
    if (containsNul(request.body)) throw bodyError('bad_request', 'may not contain NUL (\\u0000) characters');
  });
}, { name: 'inkwell-body' });
