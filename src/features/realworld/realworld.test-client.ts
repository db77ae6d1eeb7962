// A small client for the RealWorld (Conduit) API tests: it speaks the wire format a
// RealWorld front end speaks (JSON bodies wrapped in {"user":…}, `Authorization: Token …`),
// over app.inject(). Written from the spec (../shared/realworld/openapi.yml), not from
// the adapter, so it imports nothing from it.
import assert from 'node:assert/strict';
import type { TestApp } from '../../../test/support/app.ts';
import { apiRequest } from '../../../test/support/request.ts';

/** Where buildApp mounts the adapter. */
export const BASE = '/realworld/api';

export interface RwResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: any;
}

export interface RwUser {
  email: string;
  username: string;
  password: string;
  token: string;
  bio: string;
  image: string;
}

export interface Profile {
  username: string;
  bio: string;
  image: string;
  following: boolean;
}

export interface Article {
  slug: string;
  title: string;
  description: string;
  body?: string;
  tagList: string[];
  createdAt: string;
  updatedAt: string;
  favorited: boolean;
  favoritesCount: number;
  author: Profile;
}

export interface Comment {
  id: number;
  createdAt: string;
  updatedAt: string;
  body: string;
  author: Profile;
}

let seq = 0;

/** A short lowercase alphanumeric string unique within this process (and very likely across processes). */
export function uniq(): string {
  seq += 1;
  return `${process.pid.toString(36)}${seq.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** The exact 401 body for a request without a token. */
export const TOKEN_MISSING = { errors: { token: ['is missing'] } };
/** The exact 404 body for an unknown article. */
export const ARTICLE_NOT_FOUND = { errors: { article: ['not found'] } };
/** The exact 401 body for wrong credentials at login. */
export const CREDENTIALS_INVALID = { errors: { credentials: ['invalid'] } };

/** Asserts a GenericErrorModel body (`{"errors":{field:[messages]}}`) that names `field`. */
export function assertFieldError(res: RwResponse, status: number, field: string, message?: string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.ok(res.body && typeof res.body.errors === 'object' && res.body.errors !== null, `errors object expected: ${res.text}`);
  const messages = res.body.errors[field];
  assert.ok(Array.isArray(messages) && messages.length > 0, `errors.${field} expected: ${res.text}`);
  for (const m of messages) assert.equal(typeof m, 'string', `errors.${field} holds strings: ${res.text}`);
  if (message !== undefined) assert.ok(messages.includes(message), `errors.${field} should include ${JSON.stringify(message)}: ${res.text}`);
}

/** Asserts a status and an exact JSON body. */
export function assertExact(res: RwResponse, status: number, body: unknown): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.deepEqual(res.body, body);
}

/** Asserts that a string is an ISO-8601 date-time that parses, and returns it as a Date. */
export function assertDate(value: unknown, what = 'date'): Date {
  assert.equal(typeof value, 'string', `${what} is a string`);
  assert.match(value as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, `${what} is an ISO date-time: ${value}`);
  const d = new Date(value as string);
  assert.ok(!Number.isNaN(d.getTime()), `${what} parses: ${value}`);
  return d;
}

/** Asserts the spec's Profile shape. */
export function assertProfile(p: unknown, username?: string): asserts p is Profile {
  assert.ok(p && typeof p === 'object', 'profile is an object');
  const o = p as Record<string, unknown>;
  assert.equal(typeof o.username, 'string');
  if (username !== undefined) assert.equal(o.username, username);
  assert.equal(typeof o.bio, 'string', 'bio is a string, never null');
  assert.equal(typeof o.image, 'string', 'image is a string, never null');
  assert.equal(typeof o.following, 'boolean', 'following is a boolean');
}

/** Asserts the spec's Article shape; list items (withBody false) must not carry `body`. */
export function assertArticle(a: unknown, withBody: boolean): asserts a is Article {
  assert.ok(a && typeof a === 'object', 'article is an object');
  const o = a as Record<string, unknown>;
  for (const f of ['slug', 'title', 'description']) assert.equal(typeof o[f], 'string', `${f} is a string`);
  assert.ok((o.slug as string).length > 0, 'slug is not empty');
  if (withBody) assert.equal(typeof o.body, 'string', 'body is a string');
  else assert.ok(!('body' in o), 'list items carry no body');
  assert.ok(Array.isArray(o.tagList) && o.tagList.every((x) => typeof x === 'string'), 'tagList is an array of strings');
  assertDate(o.createdAt, 'createdAt');
  assertDate(o.updatedAt, 'updatedAt');
  assert.equal(typeof o.favorited, 'boolean', 'favorited is a boolean');
  assert.ok(Number.isInteger(o.favoritesCount), 'favoritesCount is an integer');
  assertProfile(o.author);
}

/** Asserts the spec's Comment shape. */
export function assertComment(c: unknown): asserts c is Comment {
  assert.ok(c && typeof c === 'object', 'comment is an object');
  const o = c as Record<string, unknown>;
  assert.ok(Number.isInteger(o.id), 'id is an integer');
  assertDate(o.createdAt, 'createdAt');
  assertDate(o.updatedAt, 'updatedAt');
  assert.equal(typeof o.body, 'string', 'body is a string');
  assertProfile(o.author);
}

export interface CallOptions {
  token?: string;
  /** A JSON body; a string is sent as is. Every request says application/json unless headers say otherwise. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The client address (request.ip). */
  ip?: string;
}

let addressSeq = 0;
/**
 * A fresh client address. Registration and login spread over addresses because the
 * tests create more accounts than one visitor plausibly would; per-address limits
 * are not part of the RealWorld contract.
 */
function nextAddress(): string {
  addressSeq += 1;
  return `10.${(addressSeq >> 16) & 255}.${(addressSeq >> 8) & 255}.${addressSeq & 255}`;
}

/** The RealWorld API of one test app, the way a front end calls it. */
export class RealWorldClient {
  private readonly t: TestApp;

  constructor(t: TestApp) {
    this.t = t;
  }

  /** One request to `${BASE}${path}`. */
  async call(method: string, path: string, opts: CallOptions = {}): Promise<RwResponse> {
    // Content-Type: application/json on every request, body or not, as Conduit front ends send it.
    const res = await apiRequest(this.t.app, method, `${BASE}${path}`, {
      token: opts.token,
      scheme: 'Token',
      body: opts.body,
      headers: opts.headers,
      ip: opts.ip,
    });
    let body: any;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text: res.body, body };
  }

  get(path: string, token?: string): Promise<RwResponse> {
    return this.call('GET', path, { token });
  }

  /** POST /users with the given fields (no defaults filled in). */
  registerRaw(user: Record<string, unknown>): Promise<RwResponse> {
    return this.call('POST', '/users', { body: { user }, ip: nextAddress() });
  }

  /** Registers a new user (unique username and email unless given) and returns it with its token. */
  async register(overrides: { username?: string; email?: string; password?: string } = {}): Promise<RwUser> {
    const username = overrides.username ?? `rw${uniq()}`;
    const email = overrides.email ?? `${username}@example.test`;
    const password = overrides.password ?? `Tr0ub4dor&3-${uniq()}`;
    const res = await this.registerRaw({ username, email, password });
    assert.equal(res.status, 201, `registration: ${res.text}`);
    const u = res.body.user;
    assert.equal(typeof u.token, 'string');
    return { email: u.email, username: u.username, password, token: u.token, bio: u.bio, image: u.image };
  }

  /** POST /users/login. */
  login(email: unknown, password: unknown): Promise<RwResponse> {
    return this.call('POST', '/users/login', { body: { user: { email, password } }, ip: nextAddress() });
  }

  /** Creates an article (defaults for absent fields) and returns it; asserts 201. */
  async createArticle(token: string, fields: Partial<{ title: string; description: string; body: string; tagList: string[] }> = {}): Promise<Article> {
    const n = uniq();
    const article = { title: `Article ${n}`, description: `About ${n}`, body: `The body of ${n}.`, ...fields };
    const res = await this.call('POST', '/articles', { token, body: { article } });
    assert.equal(res.status, 201, `create article: ${res.text}`);
    return res.body.article as Article;
  }

  /** PUT /articles/:slug with {"article": fields}. */
  updateArticle(token: string | undefined, slug: string, fields: Record<string, unknown>): Promise<RwResponse> {
    return this.call('PUT', `/articles/${encodeURIComponent(slug)}`, { token, body: { article: fields } });
  }

  /** GET /articles/:slug; asserts 200 and returns the article. */
  async article(slug: string, token?: string): Promise<Article> {
    const res = await this.get(`/articles/${encodeURIComponent(slug)}`, token);
    assert.equal(res.status, 200, `get article: ${res.text}`);
    return res.body.article as Article;
  }

  /** GET /articles (or /articles/feed) with a query; asserts 200 and the list shape. */
  async list(query: Record<string, string | number> = {}, token?: string, path = '/articles'): Promise<{ articles: Article[]; articlesCount: number }> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
    const res = await this.get(qs ? `${path}?${qs}` : path, token);
    assert.equal(res.status, 200, `list ${path}?${qs}: ${res.text}`);
    assert.ok(Array.isArray(res.body.articles), 'articles is an array');
    assert.ok(Number.isInteger(res.body.articlesCount), 'articlesCount is an integer');
    for (const a of res.body.articles) assertArticle(a, false);
    return res.body;
  }

  /** POST /profiles/:username/follow; asserts 200 and returns the profile. */
  async follow(token: string, username: string): Promise<Profile> {
    const res = await this.call('POST', `/profiles/${encodeURIComponent(username)}/follow`, { token });
    assert.equal(res.status, 200, `follow: ${res.text}`);
    return res.body.profile as Profile;
  }

  /** POST /articles/:slug/favorite; asserts 200 and returns the article. */
  async favorite(token: string, slug: string): Promise<Article> {
    const res = await this.call('POST', `/articles/${encodeURIComponent(slug)}/favorite`, { token });
    assert.equal(res.status, 200, `favorite: ${res.text}`);
    return res.body.article as Article;
  }

  /** POST /articles/:slug/comments; asserts 201 and returns the comment. */
  async comment(token: string, slug: string, body: string): Promise<Comment> {
    const res = await this.call('POST', `/articles/${encodeURIComponent(slug)}/comments`, { token, body: { comment: { body } } });
    assert.equal(res.status, 201, `comment: ${res.text}`);
    return res.body.comment as Comment;
  }
}

/** Resolves when the wall clock is early in a second, so a few quick requests share that second. */
export async function startOfSecond(): Promise<void> {
  while (Date.now() % 1000 > 200) await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
