import { checkInput } from '../../platform/http/input.ts';
import { CommentCreateSchema } from '../comments/index.ts';
import { PostCreateSchema, PostPatchSchema, type PostInput } from '../posts/index.ts';
import { blank, RwError } from './realworld.present.ts';

// Request bodies come wrapped ({"user":{…}}, {"article":{…}}); these unwrap and
// check them the RealWorld way: a missing or blank field "can't be blank",
// every problem reported at once, keyed by RealWorld's field names. An article
// is then Inkwell's own create or patch command, checked by its schema (lengths,
// tags), as the API and the forms check it.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** body[key] when it is an object, else undefined. */
export function objectField(body: unknown, key: string): Obj | undefined {
  const v = isObj(body) ? body[key] : undefined;
  return isObj(v) ? v : undefined;
}

function unwrap(body: unknown, key: string): Obj {
  const v = objectField(body, key);
  if (!v) throw blank(key);
  return v;
}

class Checker {
  errors: Record<string, string[]> = {};
  private readonly o: Obj;
  constructor(o: Obj) {
    this.o = o;
  }

  add(field: string, message: string) {
    (this.errors[field] ??= []).push(message);
  }

  /** A string field: required ones must be present; present ones must not be blank. */
  text(field: string, required: boolean): string | undefined {
    const v = this.o[field];
    if (v === undefined && !required) return undefined;
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
      this.add(field, "can't be blank");
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(field, 'must be a string');
      return undefined;
    }
    return v;
  }

  /** A nullable string (bio, image): null and "" both mean "none". */
  nullable(field: string): string | undefined {
    const v = this.o[field];
    if (v === undefined) return undefined;
    if (v === null) return '';
    if (typeof v !== 'string') {
      this.add(field, 'must be a string or null');
      return undefined;
    }
    return v;
  }

  done() {
    if (Object.keys(this.errors).length) throw new RwError(422, this.errors);
  }
}

export function loginInput(body: unknown): { email: string; password: string } {
  const c = new Checker(unwrap(body, 'user'));
  const email = c.text('email', true);
  const password = c.text('password', true);
  c.done();
  return { email: email!, password: password! };
}

export function registerInput(body: unknown): { username: string; email: string; password: string } {
  const c = new Checker(unwrap(body, 'user'));
  const username = c.text('username', true);
  const email = c.text('email', true);
  const password = c.text('password', true);
  c.done();
  return { username: username!, email: email!, password: password! };
}

/** PUT /user: any of email, username, password, bio, image. */
export function updateUserInput(body: unknown): { email?: string; username?: string; password?: string; bio?: string; avatarUrl?: string } {
  const c = new Checker(unwrap(body, 'user'));
  const out = {
    email: c.text('email', false),
    username: c.text('username', false),
    password: c.text('password', false),
    bio: c.nullable('bio'),
    avatarUrl: c.nullable('image'),
  };
  c.done();
  return out;
}

/**
 * An article to create (title, description and body required) or change
 * (only what is given). tagList: absent keeps the tags, [] clears them, null is refused.
 */
export function articleInput(body: unknown, create: boolean): PostInput {
  const a = unwrap(body, 'article');
  const c = new Checker(a);
  const title = c.text('title', create);
  const description = c.text('description', create);
  const text = c.text('body', create);
  let tags: string[] | undefined;
  if (a.tagList === null) c.add('tagList', "can't be null");
  else if (a.tagList !== undefined) {
    if (!Array.isArray(a.tagList) || a.tagList.some((t) => typeof t !== 'string')) c.add('tagList', 'must be a list of strings');
    else tags = (a.tagList as string[]).map((t) => t.trim()).filter(Boolean);
  }
  c.done();
  const input: PostInput = {};
  if (title !== undefined) input.title = title;
  if (description !== undefined) input.excerpt = description;
  if (text !== undefined) input.body = text;
  if (tags !== undefined) input.tags = tags;
  else if (create) input.tags = [];
  return create ? checkInput(PostCreateSchema, input) : checkInput(PostPatchSchema, input);
}

export function commentBody(body: unknown): string {
  const c = new Checker(unwrap(body, 'comment'));
  const text = c.text('body', true);
  c.done();
  return checkInput(CommentCreateSchema, { body: text }).body;
}

/** limit (1–100, default 20; more is capped), offset (default 0), and the list filters. */
export function listParams(query: unknown): { limit: number; offset: number; tag?: string; author?: string; favorited?: string } {
  const q = isObj(query) ? query : {};
  const errors: Record<string, string[]> = {};
  const int = (field: string, fallback: number, min: number): number => {
    const v = q[field];
    if (v === undefined || v === '') return fallback;
    if (typeof v !== 'string' || !/^\d{1,9}$/.test(v) || Number(v) < min) {
      errors[field] = [`must be a whole number of at least ${min}`];
      return fallback;
    }
    return Number(v);
  };
  const str = (field: string): string | undefined => {
    const v = q[field];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string' || v.length > 100) {
      errors[field] = ['must be one value of at most 100 characters'];
      return undefined;
    }
    return v;
  };
  const out = { limit: Math.min(int('limit', 20, 1), 100), offset: int('offset', 0, 0), tag: str('tag'), author: str('author'), favorited: str('favorited') };
  if (Object.keys(errors).length) throw new RwError(422, errors);
  return out;
}
