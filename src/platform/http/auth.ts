import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.ts';
import { hmac, randomToken, safeEqual } from '../../lib/secrets.ts';
import { SESSION_TTL_MS, type CurrentUser, type SessionStore } from './sessions.ts';
import { callbackHook } from './hooks.ts';

export const SESSION_COOKIE = 'inkwell_session';
const ANON_CSRF_COOKIE = 'inkwell_csrf';
const FLASH_COOKIE = 'inkwell_flash';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface Flash {
  kind: 'success' | 'error';
  message: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false for the rare route whose URL itself is the credential (one-click unsubscribe). */
    csrf?: boolean;
  }
  interface FastifyRequest {
    user: CurrentUser | null;
    /** How this request authenticated: a session cookie, a bearer token, or not at all. */
    authVia: 'session' | 'token' | null;
    sessionToken: string | null;
    /** The id of the bearer token used, when authVia is 'token'. */
    apiTokenId: number | null;
    flash: Flash | null;
    /** The CSRF token for forms on this page (sets an anonymous cookie if needed). */
    csrfToken(): string;
    /** Whether csrfToken() was called: the answer is then specific to this browser. */
    csrfIssued: boolean;
  }
  interface FastifyReply {
    /** Ends any current session and starts a new one (session id rotated at login). */
    logIn(userId: number): Promise<void>;
    logOut(): Promise<void>;
    /** Shows a message on the next page this browser renders. */
    setFlash(message: string, kind?: Flash['kind']): void;
  }
}

export interface AuthOptions {
  sessions: SessionStore;
  secret: string;
  secureCookies: boolean;
}

/**
 * Who is asking (session cookie or bearer token), CSRF protection for every
 * cookie-authenticated state change, login/logout and flash messages.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, opts: AuthOptions) => {
    const { sessions, secret, secureCookies } = opts;
    const cookieBase = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: secureCookies };

    app.decorateRequest('user', null);
    app.decorateRequest('authVia', null);
    app.decorateRequest('sessionToken', null);
    app.decorateRequest('apiTokenId', null);
    app.decorateRequest('flash', null);
    app.decorateRequest('csrfIssued', false);
    app.decorateRequest('csrfToken', function (this: FastifyRequest): string {
      throw new Error('csrfToken() is set per request');
    });

    app.addHook('onRequest', async (request, reply) => {
      request.csrfToken = () => {
        request.csrfIssued = true;
        let key = request.sessionToken ?? request.cookies[ANON_CSRF_COOKIE];
        if (!key) {
          key = randomToken();
          request.cookies[ANON_CSRF_COOKIE] = key;
          reply.setCookie(ANON_CSRF_COOKIE, key, cookieBase);
        }
        return hmac(secret, `csrf:${key}`);
      };

      const flash = request.cookies[FLASH_COOKIE];
      if (flash) {
        const unsigned = request.unsignCookie(flash);
        if (unsigned.valid && unsigned.value) {
          try {
            request.flash = JSON.parse(unsigned.value) as Flash;
          } catch {
            request.flash = null;
          }
        }
      }

      const authz = request.headers.authorization;
      if (authz !== undefined) {
        // "Token" is the RealWorld protocol's name for the same thing.
        const m = /^(?:Bearer|Token)\s+(\S+)$/i.exec(authz);
        const found = m ? await sessions.lookupApiToken(m[1]) : null;
        if (!found) {
          reply.header('www-authenticate', 'Bearer');
          throw new AppError('unauthenticated', 'The bearer token is missing, malformed, revoked or unknown');
        }
        const needed = UNSAFE.has(request.method) ? 'write' : 'read';
        if (!found.scopes.includes(needed) && !(needed === 'read' && found.scopes.includes('write'))) {
          throw new AppError('insufficient_scope', `This token needs the "${needed}" scope for ${request.method} requests`);
        }
        request.user = found.user;
        request.authVia = 'token';
        request.apiTokenId = found.tokenId;
        return;
      }

      const token = request.cookies[SESSION_COOKIE];
      if (token) {
        const user = await sessions.lookup(token);
        if (user) {
          request.user = user;
          request.authVia = 'session';
          request.sessionToken = token;
        } else {
          reply.clearCookie(SESSION_COOKIE, { path: '/' });
        }
      }
    });

    // After the body is parsed (the token may be a form field), before it is
    // validated: a forged form hears 403, never what was wrong with its fields.
    // A multipart body is read by its route's own plugin (in its preValidation,
    // which runs after this one): its token is checked just before the handler.
    const checkCsrf = (request: FastifyRequest) => {
      if (!UNSAFE.has(request.method) || request.authVia === 'token') return;
      if (request.routeOptions.config.csrf === false) return;
      // An API call without a session carries no ambient credentials, so there is
      // nothing to forge: it is simply anonymous (and gets a 401 where that matters).
      if (!request.sessionToken && request.url.startsWith('/api/')) return;
      const key = request.sessionToken ?? request.cookies[ANON_CSRF_COOKIE];
      const body = request.body as Record<string, unknown> | undefined;
      const sent =
        (typeof body === 'object' && body && typeof body._csrf === 'string' ? body._csrf : undefined) ??
        (request.headers['x-csrf-token'] as string | undefined);
      if (!key || !sent || !safeEqual(sent, hmac(secret, `csrf:${key}`))) {
        throw new AppError('csrf_failed');
      }
    };
    const multipart = (request: FastifyRequest) => /^multipart\//i.test(request.headers['content-type'] ?? '');
    app.addHook(
      'preValidation',
      callbackHook((request) => {
        if (UNSAFE.has(request.method) && !multipart(request)) checkCsrf(request);
      }),
    );
    app.addHook(
      'preHandler',
      callbackHook((request) => {
        if (UNSAFE.has(request.method) && multipart(request)) checkCsrf(request);
      }),
    );

    app.decorateReply('logIn', async function (this: FastifyReply, userId: number) {
      const old = this.request.sessionToken;
      if (old) await sessions.destroy(old);
      const token = await sessions.create(userId);
      this.request.sessionToken = token;
      this.setCookie(SESSION_COOKIE, token, { ...cookieBase, maxAge: SESSION_TTL_MS / 1000 });
      this.clearCookie(ANON_CSRF_COOKIE, { path: '/' });
    });

    app.decorateReply('logOut', async function (this: FastifyReply) {
      const token = this.request.sessionToken;
      if (token) await sessions.destroy(token);
      this.request.sessionToken = null;
      this.request.user = null;
      this.clearCookie(SESSION_COOKIE, { path: '/' });
    });

    app.decorateReply('setFlash', function (this: FastifyReply, message: string, kind: Flash['kind'] = 'success') {
      this.setCookie(FLASH_COOKIE, JSON.stringify({ kind, message }), { ...cookieBase, signed: true, maxAge: 60 });
    });
  },
  { name: 'inkwell-auth', dependencies: ['@fastify/cookie'] },
);

/** Clears the flash cookie once its message has been shown. */
export function consumeFlash(request: FastifyRequest, reply: FastifyReply): Flash | null {
  const flash = request.flash;
  if (flash) {
    reply.clearCookie(FLASH_COOKIE, { path: '/' });
    request.flash = null;
  }
  return flash;
}

/** The signed-in user, or a 401 (an HTML GET is sent to the login page instead). */
export function requireUser(request: FastifyRequest): CurrentUser {
  if (!request.user) throw new AppError('unauthenticated', 'Log in to do this');
  return request.user;
}

/** The signed-in admin, or 401 (login) / 403 with a message saying what only admins may do. */
export function requireAdmin(request: FastifyRequest, forbidden = 'Only admins may do this'): CurrentUser {
  const user = requireUser(request);
  if (user.role !== 'admin') throw new AppError('forbidden', forbidden);
  return user;
}

// Any origin will do to resolve against: only the path of a same-origin result is kept.
const BASE = new URL('http://inkwell.invalid');
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A redirect target taken from the request (?next=) as a path on this site,
 * or the fallback. The value is resolved the way a browser would resolve it
 * against the site's origin and kept only when it stays on that origin, so
 * "//evil", "/\\evil", "https://evil", "javascript:" and "/..//evil" all fall
 * back. Control characters are refused before parsing: browsers drop tabs and
 * newlines ("/\t/evil" is "//evil" to them), and a CR or LF cannot go into a
 * Location header at all. The answer is the parsed, percent-encoded form.
 */
export function sameSitePath(raw: unknown, fallback = '/'): string {
  if (typeof raw !== 'string' || raw.length > 2000 || !raw.startsWith('/') || CONTROL.test(raw)) return fallback;
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return fallback;
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (url.origin !== BASE.origin || !path.startsWith('/') || /^\/[/\\]/.test(path)) return fallback;
  return path;
}
