import type { Kysely } from 'kysely';
import type { Database, Role } from '../../platform/db/schema.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { AppError, assertValid, type FieldError } from '../../platform/errors.ts';
import type { Settings } from '../../platform/settings.ts';
import type { Clock } from '../../lib/clock.ts';
import { hashPassword, hashToken, randomToken, safeEqual, verifyPassword } from '../../lib/secrets.ts';

export const ROLES: Role[] = ['admin', 'editor', 'author', 'reader'];
const SETUP_KEY = 'setup_token_hash';

export interface NewUser {
  email: string;
  username: string;
  displayName?: string;
  password: string;
  role: Role;
}

/** Checks a new account's fields; throws validation_failed naming each bad field. */
export function validateNewUser(u: Partial<NewUser>): NewUser {
  const errors: FieldError[] = [];
  const email = (u.email ?? '').trim().toLowerCase();
  const username = (u.username ?? '').trim().toLowerCase();
  const password = u.password ?? '';
  if (!/^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/.test(email) || email.length > 254) errors.push({ field: 'email', message: 'must be an email address like you@example.com' });
  if (!/^[a-z0-9_]{2,30}$/.test(username)) errors.push({ field: 'username', message: 'must be 2–30 lowercase letters, digits or underscores' });
  if (password.length < 8) errors.push({ field: 'password', message: 'must be at least 8 characters' });
  else if (password.length > 200) errors.push({ field: 'password', message: 'must be at most 200 characters' });
  const displayName = (u.displayName ?? '').trim() || username;
  if (displayName.length > 80) errors.push({ field: 'displayName', message: 'must be at most 80 characters' });
  if (!ROLES.includes(u.role as Role)) errors.push({ field: 'role', message: `must be one of ${ROLES.join(', ')}` });
  assertValid(errors);
  return { email, username, displayName, password, role: u.role as Role };
}

/** Accounts at their most basic: create users, check passwords, set up the first admin, mint API tokens. */
export function createAccountsService(deps: { db: Kysely<Database>; clock: Clock; settings: Settings }) {
  const { db, clock, settings } = deps;

  return {
    async createUser(input: Partial<NewUser>): Promise<{ id: number; username: string }> {
      const u = validateNewUser(input);
      const now = clock.now().toISOString();
      try {
        return await db.transaction().execute(async (trx) => {
          const row = await trx.insertInto('users').values({
            email: u.email, username: u.username, display_name: u.displayName!, password_hash: await hashPassword(u.password),
            role: u.role, created_at: now, updated_at: now,
          }).returning(['id', 'username']).executeTakeFirstOrThrow();
          // The first admin adopts what the blog was seeded with.
          if (u.role === 'admin') await trx.updateTable('posts').set({ author_id: row.id }).where('author_id', 'is', null).execute();
          return row;
        });
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        const taken = await db.selectFrom('users').select(['email', 'username'])
          .where((eb) => eb.or([eb('email', '=', u.email), eb('username', '=', u.username)])).execute();
        const errors: FieldError[] = [];
        if (taken.some((t) => t.email === u.email)) errors.push({ field: 'email', message: 'is already registered' });
        if (taken.some((t) => t.username === u.username)) errors.push({ field: 'username', message: 'is taken' });
        throw new AppError('validation_failed', undefined, errors.length ? errors : [{ field: 'email', message: 'is already registered' }]);
      }
    },

    /** The user id for a login, or invalid_credentials whether the account is missing or the password wrong. */
    async authenticate(login: string, password: string): Promise<number> {
      const key = login.trim().toLowerCase();
      const user = await db.selectFrom('users').select(['id', 'password_hash'])
        .where((eb) => eb.or([eb('email', '=', key), eb('username', '=', key)])).executeTakeFirst();
      const ok = await verifyPassword(password, user?.password_hash ?? null);
      if (!user || !ok) throw new AppError('invalid_credentials');
      return user.id;
    },

    async findUserId(emailOrUsername: string): Promise<number | undefined> {
      const key = emailOrUsername.trim().toLowerCase();
      const row = await db.selectFrom('users').select('id')
        .where((eb) => eb.or([eb('email', '=', key), eb('username', '=', key)])).executeTakeFirst();
      return row?.id;
    },

    async hasAdmin(): Promise<boolean> {
      return !!(await db.selectFrom('users').select('id').where('role', '=', 'admin').limit(1).executeTakeFirst());
    },

    /** A fresh one-time setup token while no admin exists (the old one is replaced), else null. */
    async issueSetupToken(): Promise<string | null> {
      if (await this.hasAdmin()) return null;
      const token = randomToken();
      await settings.set(SETUP_KEY, hashToken(token));
      return token;
    },

    async checkSetupToken(token: string): Promise<boolean> {
      const stored = await settings.get(SETUP_KEY);
      return !!stored && !!token && safeEqual(stored, hashToken(token)) && !(await this.hasAdmin());
    },

    async finishSetup(): Promise<void> {
      await settings.delete(SETUP_KEY);
    },

    /** Mints a personal access token; the plain token is returned once and only its hash is kept. */
    async createApiToken(userId: number, name: string, scopes: string[]): Promise<string> {
      const bad = scopes.filter((s) => s !== 'read' && s !== 'write');
      if (bad.length || scopes.length === 0) throw new AppError('validation_failed', undefined, [{ field: 'scopes', message: 'must be read, write or both' }]);
      if (!name.trim() || name.length > 80) throw new AppError('validation_failed', undefined, [{ field: 'name', message: 'must be 1–80 characters' }]);
      const token = randomToken('iwk_');
      await db.insertInto('api_tokens').values({
        user_id: userId, name: name.trim(), token_hash: hashToken(token), scopes: [...new Set(scopes)].join(' '),
        created_at: clock.now().toISOString(), last_used_at: null,
      }).execute();
      return token;
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
