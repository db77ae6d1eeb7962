import type { Role } from '../../platform/db/schema.ts';
import { AppError, assertValid, type FieldError } from '../../platform/errors.ts';
import { isCommonPassword } from '../../lib/common-passwords.ts';
import { nonXmlCharProblem } from '../../lib/xml.ts';

export const ROLES: Role[] = ['admin', 'editor', 'author', 'reader'];
export const LIMITS = { displayName: 80, bio: 1000, avatarUrl: 500, password: 200, tokenName: 80 };

const EMAIL = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/;

/** Normalizes an email address, or returns a field error. */
export function checkEmail(raw: unknown, errors: FieldError[], field = 'email'): string {
  const email = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (!EMAIL.test(email) || email.length > 254) errors.push({ field, message: 'must be an email address like you@example.com' });
  return email;
}

export function checkUsername(raw: unknown, errors: FieldError[]): string {
  const username = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (!/^[a-z0-9_]{2,30}$/.test(username)) errors.push({ field: 'username', message: 'must be 2–30 lowercase letters, digits or underscores' });
  return username;
}

/**
 * A new password: long enough, not absurdly long, not a common one, not the
 * username or email. `lengthOnly` checks length alone (the RealWorld protocol's rule).
 */
export function checkPassword(raw: unknown, errors: FieldError[], related: string[] = [], field = 'password', lengthOnly = false): string {
  const password = typeof raw === 'string' ? raw : '';
  if (password.length < 8) errors.push({ field, message: 'must be at least 8 characters' });
  else if (password.length > LIMITS.password) errors.push({ field, message: `must be at most ${LIMITS.password} characters` });
  else if (lengthOnly) return password;
  else if (isCommonPassword(password) || related.some((r) => r && password.toLowerCase() === r.toLowerCase())) {
    errors.push({ field, message: 'is too easy to guess; choose a longer or less common one' });
  }
  return password;
}

export function checkDisplayName(raw: unknown, errors: FieldError[], fallback: string): string {
  const name = (typeof raw === 'string' ? raw.trim().replace(/\s+/g, ' ') : '') || fallback;
  const problem = nonXmlCharProblem(raw);
  if (problem) errors.push({ field: 'displayName', message: problem });
  else if (name.length > LIMITS.displayName) errors.push({ field: 'displayName', message: `must be at most ${LIMITS.displayName} characters` });
  return name;
}

export function checkRole(raw: unknown, errors: FieldError[]): Role {
  if (!ROLES.includes(raw as Role)) errors.push({ field: 'role', message: `must be one of ${ROLES.join(', ')}` });
  return raw as Role;
}

export interface ProfileInput {
  displayName?: unknown;
  bio?: unknown;
  avatarUrl?: unknown;
}

/** Checks profile fields that are present; absent ones stay as they are. */
export function checkProfile(input: ProfileInput): { display_name?: string; bio?: string | null; avatar_url?: string | null; avatar_media_id?: null } {
  const errors: FieldError[] = [];
  const out: { display_name?: string; bio?: string | null; avatar_url?: string | null; avatar_media_id?: null } = {};
  if (input.displayName !== undefined) {
    const name = typeof input.displayName === 'string' ? input.displayName.trim().replace(/\s+/g, ' ') : '';
    const problem = nonXmlCharProblem(input.displayName);
    if (problem) errors.push({ field: 'displayName', message: problem });
    else if (!name) errors.push({ field: 'displayName', message: 'cannot be blank' });
    else if (name.length > LIMITS.displayName) errors.push({ field: 'displayName', message: `must be at most ${LIMITS.displayName} characters` });
    out.display_name = name;
  }
  if (input.bio !== undefined) {
    const bio = typeof input.bio === 'string' ? input.bio.trim().replace(/\r\n/g, '\n') : '';
    const problem = nonXmlCharProblem(input.bio);
    if (problem) errors.push({ field: 'bio', message: problem });
    else if (bio.length > LIMITS.bio) errors.push({ field: 'bio', message: `must be at most ${LIMITS.bio} characters` });
    out.bio = bio || null;
  }
  if (input.avatarUrl !== undefined) {
    const url = typeof input.avatarUrl === 'string' ? input.avatarUrl.trim() : '';
    if (url) {
      let ok = false;
      try {
        const u = new URL(url);
        ok = (u.protocol === 'https:' || u.protocol === 'http:') && url.length <= LIMITS.avatarUrl;
      } catch {
        ok = false;
      }
      if (!ok || nonXmlCharProblem(url)) errors.push({ field: 'avatarUrl', message: 'must be an http(s) address of an image, at most 500 characters' });
    }
    out.avatar_url = url || null;
    // A typed address replaces an uploaded avatar (which is then no longer in use).
    out.avatar_media_id = null;
  }
  assertValid(errors);
  return out;
}

/** Personal access token input: a name and scopes read and/or write. */
export function checkTokenInput(name: unknown, scopes: unknown): { name: string; scopes: string[] } {
  const errors: FieldError[] = [];
  const n = typeof name === 'string' ? name.trim() : '';
  if (!n || n.length > LIMITS.tokenName) errors.push({ field: 'name', message: `must be 1–${LIMITS.tokenName} characters` });
  const list = (Array.isArray(scopes) ? scopes : typeof scopes === 'string' ? scopes.split(/[\s,]+/) : []).map(String).filter(Boolean);
  if (list.length === 0 || list.some((s) => s !== 'read' && s !== 'write')) errors.push({ field: 'scopes', message: 'must be read, write or both' });
  if (errors.length) throw new AppError('validation_failed', undefined, errors);
  return { name: n, scopes: [...new Set(list)] };
}
