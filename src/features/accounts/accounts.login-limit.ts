import type { FastifyReply, FastifyRequest } from 'fastify';
import { refuse, type CounterStore } from '../../platform/http/rate-limit.ts';

const MINUTE = 60_000;
const WINDOW = 15 * MINUTE;

/** The documented budgets (README, Accounts and email). */
export const LOGIN_LIMITS = {
  /** Attempts per address per minute, on every login route together. */
  perAddress: 60,
  /** Failed attempts per account per 15 minutes, however the account was named and on whichever route. */
  perAccount: 10,
  /** Once an account is locked: attempts per 15 minutes still let through from addresses that have not failed. */
  lockedFromCleanAddresses: 50,
} as const;

/** What a login route says about the attempt once the password was checked. */
export interface LoginAttempt {
  /** The password was right: the attempt does not count against the account. */
  succeeded(): Promise<void>;
}

/**
 * The one login limiter that the HTML form, POST /api/v1/sessions and the
 * RealWorld login share. Every attempt is counted before the password is
 * checked, so guesses sent at once are refused like guesses sent one by one;
 * a right password then takes its count back, so logging in often never
 * locks anyone out. Failures are counted per account (the account the login
 * names, whether by email or username; an unknown name counts under itself,
 * so the answers do not tell whether an account exists).
 *
 * Someone else's guesses must not lock the owner out: once an account has
 * used its failures, attempts still pass from addresses that have not failed
 * a login in the last 15 minutes (one at a time each, and at most
 * lockedFromCleanAddresses of them per window), and a password reset clears
 * the account's count.
 */
export function createLoginLimiter(store: CounterStore, resolve: (login: string) => Promise<number | undefined>) {
  const accountKey = async (login: string) => {
    const id = await resolve(login);
    return id !== undefined ? `login-account:${id}` : `login-account:?${login.trim().toLowerCase()}`;
  };
  return {
    /** Counts an attempt, or answers 429 with Retry-After. */
    async begin(request: FastifyRequest, reply: FastifyReply, login: string): Promise<LoginAttempt> {
      const address = await store.hit(`login-address:${request.ip}`, MINUTE);
      if (address.count > LOGIN_LIMITS.perAddress) refuse(reply, address, 'Too many login attempts');
      const account = await accountKey(login);
      // Reserved before the check: this attempt is a failure from this address until it succeeds.
      const failedFrom = `login-failed-from:${request.ip}`;
      const [acct, fromHere] = [await store.hit(account, WINDOW), await store.hit(failedFrom, WINDOW)];
      const takeBack = async () => {
        await store.undo(account);
        await store.undo(failedFrom);
      };
      if (acct.count > LOGIN_LIMITS.perAccount) {
        const clean = fromHere.count === 1;
        const lane = clean ? await store.hit(`${account}:clean`, WINDOW) : undefined;
        if (!clean || lane!.count > LOGIN_LIMITS.lockedFromCleanAddresses) {
          await takeBack();
          refuse(reply, acct, 'Too many failed attempts for this account');
        }
      }
      return { succeeded: takeBack };
    },

    /** Forgets an account's failures (after a password reset, its owner is back in control). */
    async clear(userId: number): Promise<void> {
      await store.clear(`login-account:${userId}`);
      await store.clear(`login-account:${userId}:clean`);
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;
