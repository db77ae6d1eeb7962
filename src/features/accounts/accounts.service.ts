import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ApiTokenKind, Database, Role, UsersTable } from '../../platform/db/schema.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { AppError, assertValid, type FieldError } from '../../platform/errors.ts';
import type { Mailer } from '../../platform/mail/index.ts';
import type { Events } from '../../platform/events/index.ts';
import type { Queue } from '../../platform/jobs/queue.ts';
import { endLogins, type KeepLogin } from '../../platform/http/sessions.ts';
import type { Settings } from '../../platform/settings.ts';
import type { Clock } from '../../lib/clock.ts';
import { hashPassword, hashToken, randomToken, safeEqual, verifyPassword } from '../../lib/secrets.ts';
import { adoptAuthorlessPosts, releaseAuthorsPosts } from '../posts/index.ts';
import * as emails from './accounts.emails.ts';
import { createAccountTokens } from './accounts.tokens.ts';
import {
  checkDisplayName,
  checkEmail,
  checkPassword,
  checkProfile,
  checkRole,
  checkTokenInput,
  checkUsername,
  type ProfileInput,
} from './accounts.validate.ts';

export { ROLES } from './accounts.validate.ts';

const SETUP_KEY = 'setup_token_hash';
export const SIGNUP_MODES = ['open', 'invite', 'closed'] as const;
export type SignupMode = (typeof SIGNUP_MODES)[number];
const API_LOGIN_TTL_MS = 30 * 24 * 3600_000;
const RESET_JOB = 'accounts.password-reset';

export interface NewUser {
  email: string;
  username: string;
  displayName?: string;
  password: string;
  role: Role;
}

export interface AccountsDeps {
  db: Kysely<Database>;
  clock: Clock;
  settings: Settings;
  /** Absent only in tools that never send mail (CLI set-up paths still record it if given). */
  mailer?: Mailer;
  /** Records user.created (Slack, webhooks); absent in tools that run without the app. */
  events?: Events;
  /** Runs reset requests after the answer; without one (tools), they run at once. */
  queue?: Queue;
  /** For links and names in mail; needed only with a mailer. */
  site?: { url: string; name: () => string; refresh?: () => Promise<{ signupRole: 'reader' | 'author' }> };
  /** scrypt cost of new password hashes, log2(N) (config PASSWORD_HASH_COST; default 15). */
  passwordHashCost?: number;
}

/** What a taken email or username is reported as (clients may map it to 409). */
export const TAKEN = { email: 'is already registered', username: 'is taken' } as const;

/** How strict the password rule is: Inkwell's own, or only 8+ characters (the RealWorld protocol). */
export type PasswordRule = 'inkwell' | 'length';

/** Checks a new account's fields; throws validation_failed naming each bad field. */
export function validateNewUser(u: Partial<NewUser>, rule: PasswordRule = 'inkwell'): NewUser {
  const errors: FieldError[] = [];
  const email = checkEmail(u.email, errors);
  const username = checkUsername(u.username, errors);
  const password = checkPassword(u.password, errors, [username, email, email.split('@')[0]], 'password', rule === 'length');
  const displayName = checkDisplayName(u.displayName, errors, username);
  const role = checkRole(u.role, errors);
  assertValid(errors);
  return { email, username, displayName, password, role };
}

/** Accounts: sign-up and verification, passwords, profiles, tokens, and the admin's controls. */
export function createAccountsService(deps: AccountsDeps) {
  const { db, clock, settings, mailer, events, queue } = deps;
  const tokens = createAccountTokens(clock);
  const site = () => ({ name: deps.site?.name() ?? 'Inkwell', url: deps.site?.url ?? '' });
  const now = () => clock.now().toISOString();

  async function mail(trx: Transaction<Database> | Kysely<Database>, msg: ReturnType<typeof emails.verifyEmail>) {
    if (!mailer) throw new Error('this accounts service was built without a mailer');
    await mailer.send(trx, msg);
  }

  async function user(id: number) {
    const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('not_found', 'No such account');
    return row;
  }

  async function insertUser(trx: Transaction<Database>, u: NewUser, verified: boolean, via: 'realworld' | null = null) {
    const at = now();
    const row = await trx
      .insertInto('users')
      .values({
        email: u.email,
        username: u.username,
        display_name: u.displayName!,
        password_hash: await hashPassword(u.password, deps.passwordHashCost),
        role: u.role,
        bio: null,
        avatar_url: null,
        email_verified_at: verified ? at : null,
        suspended_at: null,
        comments_banned_at: null,
        registered_via: via,
        created_at: at,
        updated_at: at,
      })
      .returning(['id', 'username', 'email', 'display_name'])
      .executeTakeFirstOrThrow();
    if (events) await events.record(trx, 'user.created', { userId: row.id });
    return row;
  }

  // Turns a unique-index failure into field errors saying which value is taken.
  async function takenErrors(email: string, username?: string): Promise<AppError> {
    const rows = await db
      .selectFrom('users')
      .select(['email', 'username'])
      .where((eb) => eb.or([eb('email', '=', email), eb('username', '=', username ?? '')]))
      .execute();
    const errors: FieldError[] = [];
    if (rows.some((r) => r.email === email)) errors.push({ field: 'email', message: TAKEN.email });
    if (username && rows.some((r) => r.username === username)) errors.push({ field: 'username', message: TAKEN.username });
    return new AppError('validation_failed', undefined, errors.length ? errors : [{ field: 'email', message: TAKEN.email }]);
  }

  /**
   * What every password change and reset does in its transaction: end every
   * other login, and tell the owner, listing the personal access tokens that
   * still work with a link to revoke them.
   */
  async function passwordChangedTrx(trx: Transaction<Database>, u: { id: number; email: string; display_name: string }, keep: KeepLogin) {
    await endLogins(trx, u.id, keep);
    const personal = await trx
      .selectFrom('api_tokens')
      .select(['name', 'created_at', 'last_used_at'])
      .where('user_id', '=', u.id)
      .where('kind', '=', 'personal')
      .orderBy('id')
      .execute();
    const revokeUrl = personal.length ? `${site().url}/settings/tokens/revoke/${await tokens.issue(trx, 'revoke_tokens', { userId: u.id })}` : undefined;
    await mail(
      trx,
      emails.passwordChanged(
        site(),
        { email: u.email, name: u.display_name },
        personal.map((t) => ({ name: t.name, createdAt: t.created_at, lastUsedAt: t.last_used_at })),
        revokeUrl,
      ),
    );
  }

  // Checks that a new address is free and mails the confirmation link to it,
  // and a notice to the current one; the address changes once it is confirmed.
  async function emailChangeTrx(trx: Transaction<Database>, u: { id: number; email: string; display_name: string }, email: string) {
    const taken = await trx.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    if (taken) throw new AppError('validation_failed', undefined, [{ field: 'email', message: TAKEN.email }]);
    const token = await tokens.issue(trx, 'email_change', { userId: u.id, email });
    await mail(trx, emails.confirmNewEmail(site(), { email, name: u.display_name }, `${site().url}/settings/email/${token}`));
    await mail(trx, emails.emailChangeRequested(site(), { email: u.email, name: u.display_name }, email));
  }

  const service = {
    /** Creates an account directly (setup, CLI, tests): verified unless told otherwise. */
    async createUser(input: Partial<NewUser>, opts: { verified?: boolean } = {}): Promise<{ id: number; username: string }> {
      const u = validateNewUser(input);
      try {
        return await db.transaction().execute(async (trx) => {
          const row = await insertUser(trx, u, opts.verified ?? true);
          // The first admin adopts what the blog was seeded with.
          if (u.role === 'admin') await adoptAuthorlessPosts(trx, row.id);
          return row;
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw await takenErrors(u.email, u.username);
        throw e;
      }
    },

    /**
     * An author brought in by an import: no usable password (they choose one
     * through "forgot password" on their own address), not yet verified, and
     * no user.created event (moving a blog in announces nobody). The username is
     * made unique with a number.
     */
    async createImportedAuthor(input: {
      email: string;
      username: string;
      displayName: string;
      role?: Role;
      bio?: string | null;
    }): Promise<{ id: number; username: string }> {
      const base =
        input.username
          .toLowerCase()
          .replace(/[^a-z0-9_]/g, '_')
          .replace(/^_+|_+$/g, '')
          .slice(0, 24)
          .padEnd(2, '_') || 'author';
      for (let n = 1; ; n++) {
        const username = n === 1 ? base : `${base}_${n}`;
        const at = now();
        try {
          return await db
            .insertInto('users')
            .values({
              email: input.email.toLowerCase(),
              username,
              display_name: input.displayName.slice(0, 60) || username,
              password_hash: null,
              role: input.role ?? 'author',
              bio: input.bio ?? null,
              avatar_url: null,
              email_verified_at: null,
              suspended_at: null,
              comments_banned_at: null,
              created_at: at,
              updated_at: at,
            })
            .returning(['id', 'username'])
            .executeTakeFirstOrThrow();
        } catch (e) {
          if (!isUniqueViolation(e) || n > 50) throw e;
          const taken = await db.selectFrom('users').select(['id', 'username']).where('email', '=', input.email.toLowerCase()).executeTakeFirst();
          if (taken) return taken;
        }
      }
    },

    /** The id of the account with this email address, if any. */
    async idByEmail(email: string): Promise<number | undefined> {
      return (await db.selectFrom('users').select('id').where('email', '=', email.trim().toLowerCase()).executeTakeFirst())?.id;
    },

    async signupMode(): Promise<SignupMode> {
      const v = await settings.get('signup_mode');
      return SIGNUP_MODES.includes(v as SignupMode) ? (v as SignupMode) : 'open';
    },

    async setSignupMode(mode: string): Promise<void> {
      if (!SIGNUP_MODES.includes(mode as SignupMode)) {
        throw new AppError('validation_failed', undefined, [{ field: 'signupMode', message: 'must be open, invite or closed' }]);
      }
      await settings.set('signup_mode', mode);
    },

    /** What an invitation link is for (to show on the sign-up form), or token_invalid. */
    async invitation(token: string): Promise<{ email: string; role: Role }> {
      const row = await tokens.peek(db, 'invite', token);
      return { email: row.email!, role: row.role ?? 'author' };
    },

    /**
     * Self-service sign-up. Open blogs create an unverified account (of the site's sign-up role) and mail a
     * verification link; invite-only blogs need an invitation for that address
     * (which proves it, so the account starts verified); closed blogs refuse.
     */
    async signup(
      input: { email?: unknown; username?: unknown; displayName?: unknown; password?: unknown; invite?: unknown },
      rule: PasswordRule = 'inkwell',
      via: 'realworld' | null = null,
    ) {
      const mode = await this.signupMode();
      const invite = typeof input.invite === 'string' && input.invite ? input.invite : undefined;
      if (mode === 'closed' && !invite) throw new AppError('signup_closed');
      if (mode === 'invite' && !invite) throw new AppError('signup_closed', 'This blog takes new members by invitation only');
      // An open sign-up gets the site's chosen role (reader unless the admin said
      // otherwise); the RealWorld protocol assumes every user writes.
      let role: Role = via === 'realworld' ? 'author' : ((await deps.site?.refresh?.())?.signupRole ?? 'reader');
      if (invite) {
        const inv = await this.invitation(invite);
        role = inv.role;
        if (typeof input.email !== 'string' || input.email.trim().toLowerCase() !== inv.email) {
          throw new AppError('validation_failed', undefined, [{ field: 'email', message: `must be the invited address (${inv.email})` }]);
        }
      }
      const u = validateNewUser(
        {
          email: input.email as string,
          username: input.username as string,
          displayName: input.displayName as string,
          password: input.password as string,
          role,
        },
        rule,
      );
      try {
        const created = await db.transaction().execute(async (trx) => {
          const row = await insertUser(trx, u, !!invite, via);
          if (invite) await tokens.consume(trx, 'invite', invite);
          else {
            const token = await tokens.issue(trx, 'verify', { userId: row.id });
            await mail(trx, emails.verifyEmail(site(), { email: row.email, name: row.display_name }, `${site().url}/verify/${token}`));
          }
          return { id: row.id, username: row.username, verified: !!invite };
        });
        return created;
      } catch (e) {
        if (isUniqueViolation(e)) throw await takenErrors(u.email, u.username);
        throw e;
      }
    },

    /** Mails a fresh verification link (the older ones stop working). */
    async resendVerification(userId: number): Promise<void> {
      const u = await user(userId);
      if (u.email_verified_at) throw new AppError('conflict', 'This address is already verified');
      await db.transaction().execute(async (trx) => {
        const token = await tokens.issue(trx, 'verify', { userId });
        await mail(trx, emails.verifyEmail(site(), { email: u.email, name: u.display_name }, `${site().url}/verify/${token}`));
      });
    },

    async verifyEmail(token: string): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const row = await tokens.consume(trx, 'verify', token);
        await trx
          .updateTable('users')
          .set({ email_verified_at: now(), updated_at: now() })
          .where('id', '=', row.userId!)
          .where('email_verified_at', 'is', null)
          .execute();
        return row.userId!;
      });
    },

    /**
     * The user id for a login, or invalid_credentials whether the account is
     * missing or the password wrong. A suspended account is told so only
     * after its password was right.
     */
    async authenticate(login: string, password: string): Promise<number> {
      const key = login.trim().toLowerCase();
      const row = await db
        .selectFrom('users')
        .select(['id', 'password_hash', 'suspended_at'])
        .where((eb) => eb.or([eb('email', '=', key), eb('username', '=', key)]))
        .executeTakeFirst();
      const ok = await verifyPassword(password, row?.password_hash ?? null, deps.passwordHashCost);
      if (!row || !ok) throw new AppError('invalid_credentials');
      if (row.suspended_at) throw new AppError('account_suspended', "This account is suspended; contact the site's administrator");
      return row.id;
    },

    /**
     * Asks for a reset link. The request only checks the address's form and
     * queues a job, the same one whether or not the address has an account:
     * looking the account up, issuing the link and writing the mail happen
     * after the answer, so neither its content nor its timing tells.
     */
    async requestPasswordReset(email: unknown): Promise<void> {
      const errors: FieldError[] = [];
      const address = checkEmail(email, errors);
      assertValid(errors);
      if (!queue) return this.sendPasswordReset(address);
      await db.transaction().execute((trx) => queue.enqueue(trx, RESET_JOB, { email: address }));
    },

    /** The reset job: mails a link if the address has an active account, else does nothing. */
    async sendPasswordReset(address: string): Promise<void> {
      const row = await db.selectFrom('users').select(['id', 'email', 'display_name', 'suspended_at']).where('email', '=', address).executeTakeFirst();
      if (!row || row.suspended_at) return;
      await db.transaction().execute(async (trx) => {
        const token = await tokens.issue(trx, 'reset', { userId: row.id });
        await mail(trx, emails.resetPassword(site(), { email: row.email, name: row.display_name }, `${site().url}/password/reset/${token}`));
      });
    },

    /** Checks a reset link without using it up (to show the form). */
    async checkResetToken(token: string): Promise<void> {
      await tokens.peek(db, 'reset', token);
    },

    /**
     * Sets a new password from a reset link: ends every login (sessions and
     * login-issued tokens), cancels a pending email change, and tells the owner.
     */
    async resetPassword(token: string, password: unknown): Promise<number> {
      const row = await tokens.peek(db, 'reset', token);
      const u = await user(row.userId!);
      const errors: FieldError[] = [];
      const pw = checkPassword(password, errors, [u.username, u.email]);
      assertValid(errors);
      const hash = await hashPassword(pw, deps.passwordHashCost);
      await db.transaction().execute(async (trx) => {
        await tokens.consume(trx, 'reset', token);
        // Proving control of the inbox also verifies the address.
        await trx
          .updateTable('users')
          .set({ password_hash: hash, updated_at: now(), email_verified_at: u.email_verified_at ?? now() })
          .where('id', '=', u.id)
          .execute();
        // Whoever had the account may have asked to move it to their own address.
        await tokens.retire(trx, 'email_change', u.id);
        await passwordChangedTrx(trx, u, {});
      });
      return u.id;
    },

    /** Changes the password (the current one is required) and ends every other login: keep names the one making the change. */
    async changePassword(userId: number, current: unknown, next: unknown, keep: KeepLogin = {}): Promise<void> {
      const u = await user(userId);
      if (!(await verifyPassword(typeof current === 'string' ? current : '', u.password_hash))) {
        throw new AppError('validation_failed', undefined, [{ field: 'currentPassword', message: 'is not your current password' }]);
      }
      const errors: FieldError[] = [];
      const pw = checkPassword(next, errors, [u.username, u.email], 'newPassword');
      assertValid(errors);
      const hash = await hashPassword(pw, deps.passwordHashCost);
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('users').set({ password_hash: hash, updated_at: now() }).where('id', '=', userId).execute();
        await passwordChangedTrx(trx, u, keep);
      });
    },

    /** Makes an uploaded image (by id, with its URL) this account's avatar. */
    async setAvatarImage(userId: number, image: { id: string; url: string }): Promise<void> {
      await db.updateTable('users').set({ avatar_media_id: image.id, avatar_url: image.url, updated_at: now() }).where('id', '=', userId).execute();
    },

    /** The accounts whose avatar is one of these uploaded images, by image id (media's "still used" check). */
    async avatarUses(ids: string[]): Promise<Map<string, { username: string }[]>> {
      const out = new Map<string, { username: string }[]>();
      if (!ids.length) return out;
      const rows = await db.selectFrom('users').select(['avatar_media_id', 'username']).where('avatar_media_id', 'in', ids).execute();
      for (const r of rows) out.set(r.avatar_media_id!, [...(out.get(r.avatar_media_id!) ?? []), { username: r.username }]);
      return out;
    },

    async updateProfile(userId: number, input: ProfileInput): Promise<void> {
      const changes = checkProfile(input);
      if (Object.keys(changes).length === 0) return;
      await db
        .updateTable('users')
        .set({ ...changes, updated_at: now() })
        .where('id', '=', userId)
        .execute();
    },

    /**
     * Changes several account fields at once (the RealWorld protocol's PUT
     * /user, whose bearer token is the only proof, with no current password).
     * So that a stolen token cannot take the account: a new address only gets
     * a confirmation link (the current one is told, and keeps the account
     * until the new one confirms), and a new password ends every other login
     * like any password change (keep names the token that made it).
     */
    async updateAccount(
      userId: number,
      input: { email?: unknown; username?: unknown; password?: unknown; bio?: unknown; avatarUrl?: unknown },
      rule: PasswordRule = 'inkwell',
      keep: KeepLogin = {},
    ): Promise<{ emailPending: boolean }> {
      const u = await user(userId);
      const errors: FieldError[] = [];
      const email = input.email !== undefined ? checkEmail(input.email, errors) : u.email;
      const username = input.username !== undefined ? checkUsername(input.username, errors) : u.username;
      const password =
        input.password !== undefined ? checkPassword(input.password, errors, [username, email, u.email], 'password', rule === 'length') : undefined;
      let profile: ReturnType<typeof checkProfile> = {};
      try {
        profile = checkProfile({ bio: input.bio, avatarUrl: input.avatarUrl });
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        errors.push(...e.errors);
      }
      assertValid(errors);
      const at = now();
      const newEmail = email !== u.email;
      const hash = password ? await hashPassword(password, deps.passwordHashCost) : undefined;
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('users')
            .set({
              ...profile,
              username,
              updated_at: at,
              // A display name that was just the username follows it.
              ...(username !== u.username && u.display_name === u.username ? { display_name: username } : {}),
              ...(hash ? { password_hash: hash } : {}),
            })
            .where('id', '=', userId)
            .execute();
          if (newEmail) await emailChangeTrx(trx, u, email);
          if (hash) await passwordChangedTrx(trx, u, keep);
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw await takenErrors('', username !== u.username ? username : undefined);
        throw e;
      }
      return { emailPending: newEmail };
    },

    /** Mails a confirmation link to the new address and a notice to the current one; the change happens when the link is followed. */
    async requestEmailChange(userId: number, newEmail: unknown, password: unknown): Promise<void> {
      const u = await user(userId);
      const errors: FieldError[] = [];
      const email = checkEmail(newEmail, errors);
      assertValid(errors);
      if (!(await verifyPassword(typeof password === 'string' ? password : '', u.password_hash))) {
        throw new AppError('validation_failed', undefined, [{ field: 'password', message: 'is not your current password' }]);
      }
      if (email === u.email) throw new AppError('validation_failed', undefined, [{ field: 'email', message: 'is already your address' }]);
      await db.transaction().execute((trx) => emailChangeTrx(trx, u, email));
    },

    async confirmEmailChange(token: string): Promise<number> {
      const result = await db.transaction().execute(async (trx) => {
        const row = await tokens.consume(trx, 'email_change', token);
        const u = await trx.selectFrom('users').select(['email', 'display_name']).where('id', '=', row.userId!).executeTakeFirstOrThrow();
        try {
          await trx.updateTable('users').set({ email: row.email!, email_verified_at: now(), updated_at: now() }).where('id', '=', row.userId!).execute();
        } catch (e) {
          if (isUniqueViolation(e)) throw new AppError('conflict', 'That address was registered by someone else meanwhile');
          throw e;
        }
        await mail(trx, emails.emailChanged(site(), { email: u.email, name: u.display_name }, row.email!));
        return row.userId!;
      });
      return result;
    },

    /**
     * Deletes an account (password required). Drafts go with it; published
     * posts stay on the blog, shown without an author, so links keep working.
     */
    async deleteAccount(userId: number, password: unknown): Promise<void> {
      const u = await user(userId);
      if (!(await verifyPassword(typeof password === 'string' ? password : '', u.password_hash))) {
        throw new AppError('validation_failed', undefined, [{ field: 'password', message: 'is not your current password' }]);
      }
      if (u.role === 'admin' && (await this.adminCount()) <= 1) {
        throw new AppError('conflict', 'You are the only admin; make someone else admin first');
      }
      await db.transaction().execute(async (trx) => {
        await releaseAuthorsPosts(trx, userId);
        await trx.deleteFrom('users').where('id', '=', userId).execute();
      });
    },

    async adminCount(): Promise<number> {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('role', '=', 'admin')
        .where('suspended_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async me(userId: number) {
      return toAccount(await user(userId));
    },

    /** An account by id, or undefined; `on` is the caller's transaction (an event subscriber reads through it). */
    async account(userId: number, on: Kysely<Database> = db): Promise<Account | undefined> {
      const row = await on.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
      return row && toAccount(row);
    },

    /**
     * Where to tell the admins something (a webhook disabled, links that broke): the
     * active admins' addresses, oldest account first; in the caller's transaction if given.
     */
    async adminContacts(trx?: Transaction<Database>): Promise<{ email: string; name: string }[]> {
      const rows = await (trx ?? db)
        .selectFrom('users')
        .select(['email', 'display_name'])
        .where('role', '=', 'admin')
        .where('suspended_at', 'is', null)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ email: r.email, name: r.display_name }));
    },

    /**
     * The export's users, a page at a time after an id: who they are, never a password
     * hash, token or session (the archive's "users", README "Export format").
     */
    async exportPage(after: number, limit: number) {
      const rows = await db
        .selectFrom('users')
        .select(['id', 'email', 'username', 'display_name', 'role', 'bio', 'created_at'])
        .where('id', '>', after)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((u) => ({
        id: u.id,
        email: u.email,
        username: u.username,
        displayName: u.display_name,
        role: u.role,
        bio: u.bio,
        createdAt: u.created_at,
      }));
    },

    /** Who moderates comments (editors and admins, not suspended): told of a held comment. */
    async moderatorIds(trx: Transaction<Database>): Promise<number[]> {
      const rows = await trx.selectFrom('users').select('id').where('role', 'in', ['admin', 'editor']).where('suspended_at', 'is', null).execute();
      return rows.map((r) => r.id);
    },

    /** A public profile: never the email address. */
    async profile(username: string) {
      const row = await db
        .selectFrom('users')
        .select(['id', 'username', 'display_name', 'bio', 'avatar_url', 'role', 'created_at'])
        .where('username', '=', username.toLowerCase())
        .where('suspended_at', 'is', null)
        .executeTakeFirst();
      if (!row) throw new AppError('not_found', 'No user with that name');
      return {
        id: row.id,
        username: row.username,
        displayName: row.display_name,
        bio: row.bio,
        avatarUrl: row.avatar_url,
        role: row.role,
        joinedAt: row.created_at,
      };
    },

    /** Public profile fields of several people at once, by id. */
    async publicProfiles(ids: number[]): Promise<Map<number, { username: string; bio: string | null; avatarUrl: string | null }>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom('users')
        .select(['id', 'username', 'bio', 'avatar_url'])
        .where('id', 'in', [...new Set(ids)])
        .execute();
      return new Map(rows.map((r) => [r.id, { username: r.username, bio: r.bio, avatarUrl: r.avatar_url }]));
    },

    /** Whether the account was registered through the RealWorld adapter (whose protocol has no email verification). */
    async registeredThroughRealworld(userId: number): Promise<boolean> {
      const row = await db.selectFrom('users').select('registered_via').where('id', '=', userId).executeTakeFirst();
      return row?.registered_via === 'realworld';
    },

    async findUserId(emailOrUsername: string): Promise<number | undefined> {
      const key = emailOrUsername.trim().toLowerCase();
      const row = await db
        .selectFrom('users')
        .select('id')
        .where((eb) => eb.or([eb('email', '=', key), eb('username', '=', key)]))
        .executeTakeFirst();
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
    async createApiToken(
      userId: number,
      name: unknown,
      scopes: unknown,
      opts: { ttlMs?: number; token?: string; kind?: ApiTokenKind } = {},
    ): Promise<{ id: number; token: string }> {
      const t = checkTokenInput(name, scopes);
      // A caller may shape the token (the RealWorld adapter makes a signed JWT); it is stored hashed all the same.
      const token = opts.token ?? randomToken('iwk_');
      const at = clock.now();
      const row = await db
        .insertInto('api_tokens')
        .values({
          user_id: userId,
          name: t.name,
          token_hash: hashToken(token),
          scopes: t.scopes.join(' '),
          kind: opts.kind ?? 'personal',
          created_at: at.toISOString(),
          last_used_at: null,
          expires_at: opts.ttlMs ? new Date(at.getTime() + opts.ttlMs).toISOString() : null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: row.id, token };
    },

    async listApiTokens(userId: number) {
      const rows = await db
        .selectFrom('api_tokens')
        .select(['id', 'name', 'scopes', 'created_at', 'last_used_at', 'expires_at'])
        .where('user_id', '=', userId)
        .orderBy('id', 'desc')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        scopes: r.scopes.split(' '),
        createdAt: r.created_at,
        lastUsedAt: r.last_used_at,
        expiresAt: r.expires_at,
      }));
    },

    async revokeApiToken(userId: number, tokenId: number): Promise<void> {
      const res = await db.deleteFrom('api_tokens').where('id', '=', tokenId).where('user_id', '=', userId).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw new AppError('not_found', 'No such token');
    },

    /** How many personal access tokens a revoke link (from a password notice) would revoke; token_invalid if it is dead. */
    async checkRevokeLink(token: string): Promise<{ count: number }> {
      const row = await tokens.peek(db, 'revoke_tokens', token);
      const n = await db
        .selectFrom('api_tokens')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', row.userId!)
        .where('kind', '=', 'personal')
        .where('created_at', '<=', row.createdAt)
        .executeTakeFirstOrThrow();
      return { count: Number(n.n) };
    },

    /** Revokes the personal access tokens that existed when the notice was sent (newer ones are the owner's own). */
    async revokeByLink(token: string): Promise<{ count: number }> {
      return db.transaction().execute(async (trx) => {
        const row = await tokens.consume(trx, 'revoke_tokens', token);
        const res = await trx
          .deleteFrom('api_tokens')
          .where('user_id', '=', row.userId!)
          .where('kind', '=', 'personal')
          .where('created_at', '<=', row.createdAt)
          .executeTakeFirst();
        return { count: Number(res.numDeletedRows) };
      });
    },

    /** Logs in for an API client: a bearer token (read and write) that expires in 30 days. */
    async apiLogin(login: string, password: string): Promise<{ token: string; expiresAt: string; userId: number }> {
      const userId = await this.authenticate(login, password);
      const { token } = await this.createApiToken(userId, 'API login', ['read', 'write'], { ttlMs: API_LOGIN_TTL_MS, kind: 'login' });
      return { token, userId, expiresAt: new Date(clock.now().getTime() + API_LOGIN_TTL_MS).toISOString() };
    },

    // ---- the admin's controls ----

    async listUsers(opts: { before?: number; limit: number }) {
      let q = db
        .selectFrom('users')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(opts.limit + 1);
      if (opts.before !== undefined) q = q.where('id', '<', opts.before);
      const rows = await q.execute();
      return { users: rows.slice(0, opts.limit).map(toAccount), hasMore: rows.length > opts.limit };
    },

    async setRole(_actorId: number, userId: number, role: unknown): Promise<void> {
      const errors: FieldError[] = [];
      const r = checkRole(role, errors);
      assertValid(errors);
      const target = await user(userId);
      if (target.role === 'admin' && r !== 'admin' && (await this.adminCount()) <= 1) {
        throw new AppError('conflict', 'That is the only admin; make someone else admin first');
      }
      await db.updateTable('users').set({ role: r, updated_at: now() }).where('id', '=', userId).execute();
    },

    /**
     * Suspends or reinstates an account. Suspension deletes every session and
     * API token (personal ones too), so reinstating does not bring back
     * credentials that may have been the reason for it.
     */
    async setSuspended(actorId: number, userId: number, suspended: boolean): Promise<void> {
      if (actorId === userId) throw new AppError('conflict', 'You cannot suspend yourself');
      await user(userId);
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('users')
          .set({ suspended_at: suspended ? now() : null, updated_at: now() })
          .where('id', '=', userId)
          .execute();
        if (suspended) {
          await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
          await trx.deleteFrom('api_tokens').where('user_id', '=', userId).execute();
        }
      });
    },

    /** Whether a moderator has banned this person from commenting. */
    async commentsBanned(userId: number): Promise<boolean> {
      const row = await db.selectFrom('users').select('comments_banned_at').where('id', '=', userId).executeTakeFirst();
      return !!row?.comments_banned_at;
    },

    /** Bans a person from commenting (comments' moderation), in the caller's transaction. */
    async banFromComments(trx: Transaction<Database>, userId: number): Promise<void> {
      await trx.updateTable('users').set({ comments_banned_at: now() }).where('id', '=', userId).execute();
    },

    /** Mails an invitation to join with a role (works even when sign-up is closed). */
    async invite(actorId: number, email: unknown, role: unknown): Promise<void> {
      const errors: FieldError[] = [];
      const address = checkEmail(email, errors);
      const r = checkRole(role ?? 'author', errors);
      assertValid(errors);
      if (await db.selectFrom('users').select('id').where('email', '=', address).executeTakeFirst()) {
        throw new AppError('validation_failed', undefined, [{ field: 'email', message: 'already has an account' }]);
      }
      const actor = await user(actorId);
      await db.transaction().execute(async (trx) => {
        const token = await tokens.issue(trx, 'invite', { email: address, role: r });
        await mail(trx, emails.invitation(site(), { email: address }, actor.display_name, r, `${site().url}/signup?invite=${token}`));
      });
    },
  };
  queue?.define<{ email: string }>(RESET_JOB, { handler: (p) => service.sendPasswordReset(p.email) });
  return service;
}

/** The account as its owner and admins see it. */
function toAccount(row: Selectable<UsersTable>) {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    displayName: row.display_name,
    bio: row.bio,
    avatarUrl: row.avatar_url,
    role: row.role,
    verified: row.email_verified_at !== null,
    suspended: row.suspended_at !== null,
    createdAt: row.created_at,
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
export type Account = ReturnType<typeof toAccount>;
