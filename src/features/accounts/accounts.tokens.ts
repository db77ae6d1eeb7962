import type { Kysely, Transaction } from 'kysely';
import type { AccountTokenPurpose, Database, Role } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { hashToken, randomToken } from '../../lib/secrets.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** How long each kind of mailed link stays valid. */
export const TOKEN_TTL_MS: Record<AccountTokenPurpose, number> = {
  verify: 3 * 24 * 3600_000,
  reset: 3600_000,
  email_change: 24 * 3600_000,
  invite: 7 * 24 * 3600_000,
  revoke_tokens: 7 * 24 * 3600_000,
};

export interface TokenRow {
  id: number;
  userId: number | null;
  email: string | null;
  role: Role | null;
  createdAt: string;
}

/**
 * Single-use links (verification, password reset, email change, invitation).
 * Only the token's hash is stored; issuing a new link of a kind for an account
 * retires the older ones, so only the newest link in someone's inbox works.
 */
export function createAccountTokens(clock: Clock) {
  return {
    async issue(db: Db, purpose: AccountTokenPurpose, target: { userId?: number; email?: string; role?: Role }): Promise<string> {
      const token = randomToken();
      const now = clock.now();
      if (target.userId !== undefined) {
        // Lock the account's row first (a no-op update, which both engines
        // serialize): two requests at once would otherwise each retire the
        // links they can see and both insert one, leaving two live links.
        await db
          .updateTable('users')
          .set((eb) => ({ id: eb.ref('id') }))
          .where('id', '=', target.userId)
          .execute();
        await db
          .updateTable('account_tokens')
          .set({ used_at: now.toISOString() })
          .where('user_id', '=', target.userId)
          .where('purpose', '=', purpose)
          .where('used_at', 'is', null)
          .execute();
      }
      await db
        .insertInto('account_tokens')
        .values({
          purpose,
          token_hash: hashToken(token),
          user_id: target.userId ?? null,
          email: target.email ?? null,
          role: target.role ?? null,
          created_at: now.toISOString(),
          expires_at: new Date(now.getTime() + TOKEN_TTL_MS[purpose]).toISOString(),
          used_at: null,
        })
        .execute();
      return token;
    },

    /** The live token's row, or token_invalid (unknown, expired or used alike). */
    async peek(db: Db, purpose: AccountTokenPurpose, token: string): Promise<TokenRow> {
      const row = await db
        .selectFrom('account_tokens')
        .select(['id', 'user_id', 'email', 'role', 'created_at'])
        .where('token_hash', '=', hashToken(token))
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', clock.now().toISOString())
        .executeTakeFirst();
      if (!row) throw new AppError('token_invalid');
      return { id: row.id, userId: row.user_id, email: row.email, role: row.role, createdAt: row.created_at };
    },

    /** Retires every live link of a kind for an account (a password reset cancels a pending email change). */
    async retire(db: Db, purpose: AccountTokenPurpose, userId: number): Promise<void> {
      await db
        .updateTable('account_tokens')
        .set({ used_at: clock.now().toISOString() })
        .where('user_id', '=', userId)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .execute();
    },

    /** Marks a token used; only one caller can win, so a link works exactly once. */
    async consume(db: Db, purpose: AccountTokenPurpose, token: string): Promise<TokenRow> {
      const row = await this.peek(db, purpose, token);
      const res = await db
        .updateTable('account_tokens')
        .set({ used_at: clock.now().toISOString() })
        .where('id', '=', row.id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw new AppError('token_invalid');
      return row;
    },
  };
}

export type AccountTokens = ReturnType<typeof createAccountTokens>;
