import type { FastifyError } from 'fastify';
import type { AppError } from '../../platform/errors.ts';
import { TAKEN } from '../accounts/index.ts';
import type { Comment } from '../comments/index.ts';
import type { Post } from '../posts/index.ts';

// The RealWorld (Conduit) shapes, and RealWorld's error format, from Inkwell's own values.

// bio and image are always strings ("" when unset), never null: front ends put them
// straight into text and <img src>, and the spec's examples are strings.
export interface RwProfile {
  username: string;
  bio: string;
  image: string;
  following: boolean;
}

export type People = Map<number, { username: string; bio: string | null; avatarUrl: string | null }>;

export function toProfile(p: { username: string; bio: string | null; avatarUrl: string | null }, following: boolean): RwProfile {
  return { username: p.username, bio: p.bio ?? '', image: p.avatarUrl ?? '', following };
}

export function toUser(a: { email: string; username: string; bio: string | null; avatarUrl: string | null }, token: string) {
  return { email: a.email, token, username: a.username, bio: a.bio ?? '', image: a.avatarUrl ?? '' };
}

// The author's RealWorld profile, from the batch of people loaded for one answer.
function authorProfile(author: { id: number; username: string } | null, o: { people: People; following: Set<number> }): RwProfile {
  const id = author?.id ?? 0;
  return toProfile(o.people.get(id) ?? { username: author?.username ?? 'ghost', bio: null, avatarUrl: null }, o.following.has(id));
}

/** An article; lists leave the body out (the spec's list items carry none). */
export function toArticle(p: Post, o: { people: People; following: Set<number>; favorited: Set<number>; withBody: boolean }) {
  return {
    slug: p.slug,
    title: p.title,
    description: p.customExcerpt ?? p.excerpt,
    ...(o.withBody ? { body: p.body } : {}),
    tagList: p.tags.map((t) => t.name),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    favorited: o.favorited.has(p.id),
    favoritesCount: p.favoritesCount,
    author: authorProfile(p.author, o),
  };
}

export function toComment(c: Comment, o: { people: People; following: Set<number> }) {
  return { id: c.id, createdAt: c.createdAt, updatedAt: c.updatedAt, body: c.body, author: authorProfile(c.author, o) };
}

/** A RealWorld error answer: a status and `{"errors":{"<key>":["<message>"]}}`. */
export class RwError extends Error {
  readonly status: number;
  readonly errors: Record<string, string[]>;

  constructor(status: number, errors: Record<string, string[]>) {
    super(
      Object.entries(errors)
        .map(([k, v]) => `${k} ${v.join(', ')}`)
        .join('; '),
    );
    this.status = status;
    this.errors = errors;
  }
}

export const notFound = (what: string) => new RwError(404, { [what]: ['not found'] });
export const blank = (field: string) => new RwError(422, { [field]: ["can't be blank"] });

// Inkwell's field names where RealWorld's differ.
const FIELD_NAMES: Record<string, string> = { excerpt: 'description', tags: 'tagList', avatarUrl: 'image' };

/**
 * Turns what Inkwell's services throw into RealWorld's answer. `resource`
 * names what a 403/404 is about (article, comment, profile).
 */
export function fromAppError(e: AppError, resource = 'resource'): RwError {
  switch (e.code) {
    case 'validation_failed': {
      const taken = e.errors.filter((f) => f.message === TAKEN.email || f.message === TAKEN.username);
      if (taken.length) return new RwError(409, Object.fromEntries(taken.map((f) => [f.field, ['has already been taken']])));
      const errors: Record<string, string[]> = {};
      for (const f of e.errors) (errors[FIELD_NAMES[f.field] ?? f.field] ??= []).push(f.message);
      return new RwError(422, Object.keys(errors).length ? errors : { body: [e.message] });
    }
    case 'slug_taken':
      return new RwError(409, { slug: ['has already been taken'] });
    case 'unauthenticated':
      return new RwError(401, { token: ['is missing'] });
    case 'invalid_credentials':
      return new RwError(401, { credentials: ['invalid'] });
    case 'not_found':
      return notFound(resource);
    case 'forbidden':
      return new RwError(403, { [resource]: ['forbidden'] });
    case 'account_suspended':
      return new RwError(403, { account: ['is suspended'] });
    case 'email_unverified':
      return new RwError(403, { email: ['is not verified'] });
    case 'signup_closed':
      return new RwError(403, { registration: ['is closed'] });
    default: {
      // A body the platform refused while reading it (too deep, NUL characters): RealWorld's 422 naming the body.
      const body = e.errors.filter((f) => f.field === 'body').map((f) => f.message);
      if (body.length && e.status === 400) return new RwError(422, { body });
      return new RwError(e.status, { [e.status === 429 ? 'rate' : 'request']: [e.message] });
    }
  }
}

/** Fastify's own errors (bad JSON, wrong content type, too large) in RealWorld's shape. */
export function fromFastifyError(e: FastifyError): RwError {
  const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  if (status === 500) return new RwError(500, { server: ['something went wrong on our side'] });
  // A body that is not JSON is an unprocessable entity in RealWorld's terms.
  return new RwError(status === 400 ? 422 : status, { body: [status === 400 ? 'is not valid JSON' : e.message] });
}
