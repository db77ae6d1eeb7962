import type { Kysely, Transaction } from 'kysely';
import type { Database, Role } from '../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { hashToken, randomToken } from '../../lib/secrets.ts';
import { preparedQuery } from '../db/prepared.ts';

/** The signed-in user as the rest of the app sees them. */
export interface CurrentUser {
  id: number;
  username: string;
  displayName: string;
  email: string;
  role: Role;
  /** Whether the email address was confirmed; unverified accounts cannot publish. */
  verified: boolean;
}

export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;

const userColumns = ['users.id', 'users.username', 'users.display_name', 'users.email', 'users.role', 'users.email_verified_at'] as const;

function toCurrentUser(row: { id: number; username: string; display_name: string; email: string; role: Role; email_verified_at: string | null }): CurrentUser {
  return { id: row.id, username: row.username, displayName: row.display_name, email: row.email, role: row.role, verified: row.email_verified_at !== null };
}

// Every signed-in request and every API call runs one of these: compiled once.
const sessionQuery = preparedQuery((db: Kysely<Database>, s: { hash: string; now: string }) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(userColumns)
    .where('sessions.id_hash', '=', s.hash)
    .where('sessions.expires_at', '>', s.now)
    .where('users.suspended_at', 'is', null),
);
const apiTokenQuery = preparedQuery((db: Kysely<Database>, s: { hash: string }) =>
  db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select([...userColumns, 'api_tokens.id as token_id', 'api_tokens.scopes', 'api_tokens.last_used_at', 'api_tokens.expires_at'])
    .where('api_tokens.token_hash', '=', s.hash)
    .where('users.suspended_at', 'is', null),
);

/** Which login survives endLogins: the one that made the change. */
export interface KeepLogin {
  /** A browser session's token. */
  sessionToken?: string | null;
  /** The id of a login-issued bearer token (API or RealWorld login). */
  apiTokenId?: number | null;
}

/**
 * Ends every login of a user: browser sessions and the bearer tokens that
 * logins handed out, except the one named in keep. Personal access tokens
 * (made by hand) stay. Runs in the caller's transaction, so a password
 * change and the end of the old logins commit together.
 */
export async function endLogins(db: Kysely<Database> | Transaction<Database>, userId: number, keep: KeepLogin = {}): Promise<void> {
  let sessions = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keep.sessionToken) sessions = sessions.where('id_hash', '!=', hashToken(keep.sessionToken));
  await sessions.execute();
  let tokens = db.deleteFrom('api_tokens').where('user_id', '=', userId).where('kind', '=', 'login');
  if (keep.apiTokenId) tokens = tokens.where('id', '!=', keep.apiTokenId);
  await tokens.execute();
}

/**
 * Database-backed sessions. The cookie holds a random token; the table holds
 * only its hash, so a leaked database does not leak live sessions.
 */
export function createSessionStore(db: Kysely<Database>, clock: Clock) {
  return {
    /** Starts a session and returns the token for the cookie. */
    async create(userId: number): Promise<string> {
      const token = randomToken();
      const now = clock.now();
      // Logins are rare enough to carry the clean-up of expired sessions.
      await db.deleteFrom('sessions').where('expires_at', '<=', now.toISOString()).execute();
      await db
        .insertInto('sessions')
        .values({
          id_hash: hashToken(token),
          user_id: userId,
          created_at: now.toISOString(),
          expires_at: new Date(now.getTime() + SESSION_TTL_MS).toISOString(),
        })
        .execute();
      return token;
    },

    /** The user behind a session token, if the session exists and has not expired. */
    async lookup(token: string): Promise<CurrentUser | null> {
      const row = (await sessionQuery(db, { hash: hashToken(token), now: clock.now().toISOString() })).rows[0];
      return row ? toCurrentUser(row) : null;
    },

    async destroy(token: string): Promise<void> {
      await db.deleteFrom('sessions').where('id_hash', '=', hashToken(token)).execute();
    },

    /** Looks up a personal access token; records its use at most once a minute. */
    async lookupApiToken(token: string): Promise<{ user: CurrentUser; tokenId: number; scopes: string[] } | null> {
      const row = (await apiTokenQuery(db, { hash: hashToken(token) })).rows[0];
      const now = clock.now();
      if (!row || (row.expires_at && Date.parse(row.expires_at) <= now.getTime())) return null;
      if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > 60_000) {
        await db.updateTable('api_tokens').set({ last_used_at: now.toISOString() }).where('id', '=', row.token_id).execute();
      }
      return { user: toCurrentUser(row), tokenId: row.token_id, scopes: row.scopes.split(/[\s,]+/).filter(Boolean) };
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
