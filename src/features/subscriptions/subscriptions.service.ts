import type { Kysely, Transaction } from 'kysely';
import type { Database, SubscriberStatus, SubscriptionFrequency } from '../../platform/db/schema.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { AppError } from '../../platform/errors.ts';
import type { Mailer } from '../../platform/mail/index.ts';
import type { Site } from '../../platform/site.ts';
import type { Clock } from '../../lib/clock.ts';
import { hashToken, hmac, randomToken, safeEqual } from '../../lib/secrets.ts';
import { confirmEmail } from './subscriptions.emails.ts';

export const FREQUENCIES: SubscriptionFrequency[] = ['instant', 'weekly'];
const CONFIRM_TTL_MS = 7 * 24 * 3600 * 1000;
// One plain address, as the mailer accepts it.
const ADDRESS = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/;

type Db = Kysely<Database> | Transaction<Database>;

export interface Subscription {
  id: number;
  email: string;
  /** The author's username, or null for the whole blog. */
  author: string | null;
  frequency: SubscriptionFrequency;
  status: SubscriberStatus;
  createdAt: string;
  confirmedAt: string | null;
}

export interface SubscribeInput {
  email?: unknown;
  frequency?: unknown;
  /** Only one author's posts (signed-in readers). */
  authorId?: number | null;
  /** The signed-in account subscribing, and whether its address is verified (then no confirmation is needed). */
  user?: { id: number; email: string; verified: boolean } | null;
}

/** The address, trimmed and lower-cased, or validation_failed naming the field. */
export function normalizeEmail(raw: unknown): string {
  const email = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (!email) throw new AppError('validation_failed', 'Enter your email address', [{ field: 'email', message: 'is required' }]);
  if (email.length > 254 || !ADDRESS.test(email))
    throw new AppError('validation_failed', 'That is not an email address', [{ field: 'email', message: 'must be an email address like you@example.com' }]);
  return email;
}

export function normalizeFrequency(raw: unknown): SubscriptionFrequency {
  if (raw === undefined || raw === null || raw === '') return 'instant';
  if (FREQUENCIES.includes(raw as SubscriptionFrequency)) return raw as SubscriptionFrequency;
  throw new AppError('validation_failed', 'Choose how often', [{ field: 'frequency', message: 'must be instant or weekly' }]);
}

/**
 * Email subscriptions: subscribing with double opt-in, one-click unsubscribe,
 * managing one's own, and the admin's counts and list. Sending is in
 * subscriptions.sending.ts.
 */
export function createSubscriptionsService(deps: { db: Kysely<Database>; clock: Clock; mailer: Mailer; site: Site; secret: string }) {
  const { db, clock, mailer, site, secret } = deps;
  const now = () => clock.now().toISOString();
  const siteInfo = () => ({ name: site.name(), url: site.url });

  const signature = (id: number) => hmac(secret, `subscription-unsubscribe:${id}`);
  const unsubscribeUrl = (id: number) => `${site.url}/subscriptions/unsubscribe/${id}/${signature(id)}`;

  async function authorName(d: Db, authorId: number | null): Promise<string | null> {
    if (authorId === null) return null;
    return (await d.selectFrom('users').select('username').where('id', '=', authorId).executeTakeFirst())?.username ?? null;
  }

  function scopeLabel(author: string | null): string {
    return author ? `new posts by ${author} on ${site.name()}` : `new posts on ${site.name()}`;
  }

  async function subscribeIn(email: string, frequency: SubscriptionFrequency, authorId: number | null, trusted: boolean, accountId: number | null, at: string) {
    await db.transaction().execute(async (trx) => {
      const scoped = trx.selectFrom('subscribers').selectAll().where('email', '=', email);
      const existing = await (authorId === null ? scoped.where('author_id', 'is', null) : scoped.where('author_id', '=', authorId)).executeTakeFirst();
      const userId = accountId ?? existing?.user_id ?? null;
      if (existing?.status === 'confirmed') {
        // Only the owner of the address may change it without the link.
        if (trusted) await trx.updateTable('subscribers').set({ frequency, user_id: userId }).where('id', '=', existing.id).execute();
        return;
      }
      const token = trusted ? null : randomToken();
      const values = {
        frequency,
        user_id: userId,
        status: trusted ? ('confirmed' as const) : ('pending' as const),
        confirm_token_hash: token ? hashToken(token) : null,
        confirm_sent_at: token ? at : null,
        confirmed_at: trusted ? at : null,
        unsubscribed_at: null,
        digest_from: trusted ? at : null,
      };
      if (existing) await trx.updateTable('subscribers').set(values).where('id', '=', existing.id).execute();
      else
        await trx
          .insertInto('subscribers')
          .values({ email, author_id: authorId, created_at: at, ...values })
          .execute();
      if (token) {
        const what = scopeLabel(await authorName(trx, authorId));
        await mailer.send(trx, confirmEmail(siteInfo(), email, `${site.url}/subscriptions/confirm/${token}`, what));
      }
    });
  }

  // What a subscription shows (the subscriber's own list and the admin's), with its author's name.
  const subscriptionRows = () =>
    db
      .selectFrom('subscribers')
      .leftJoin('users as authors', 'authors.id', 'subscribers.author_id')
      .select([
        'subscribers.id',
        'subscribers.email',
        'authors.username as author',
        'subscribers.frequency',
        'subscribers.status',
        'subscribers.created_at',
        'subscribers.confirmed_at',
      ]);
  type SubscriptionRow = Awaited<ReturnType<ReturnType<typeof subscriptionRows>['execute']>>[number];
  const toSubscription = (r: SubscriptionRow): Subscription => ({
    id: r.id,
    email: r.email,
    author: r.author ?? null,
    frequency: r.frequency,
    status: r.status,
    createdAt: r.created_at,
    confirmedAt: r.confirmed_at,
  });

  const service = {
    /**
     * Starts a subscription, or does nothing visible: the answer is the same
     * whether or not the address is already subscribed. A new (or lapsed)
     * subscription gets a confirmation email, unless a signed-in account with a
     * verified address subscribes its own address.
     */
    async subscribe(input: SubscribeInput): Promise<void> {
      const email = normalizeEmail(input.email ?? input.user?.email);
      const frequency = normalizeFrequency(input.frequency);
      const authorId = input.authorId ?? null;
      const trusted = !!input.user?.verified && input.user.email.toLowerCase() === email;
      const at = now();
      try {
        await subscribeIn(email, frequency, authorId, trusted, input.user?.id ?? null, at);
      } catch (e) {
        // The same address subscribing twice at once: the other request made the row.
        if (!isUniqueViolation(e)) throw e;
      }
    },

    /** What a confirmation link would confirm, changing nothing (the page with the button). */
    async pendingByToken(token: string): Promise<{ email: string; what: string }> {
      const row = await db
        .selectFrom('subscribers')
        .select(['email', 'author_id', 'confirm_sent_at'])
        .where('confirm_token_hash', '=', hashToken(token))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (!row?.confirm_sent_at || Date.parse(row.confirm_sent_at) < clock.now().getTime() - CONFIRM_TTL_MS)
        throw new AppError('token_invalid', 'This confirmation link is invalid, expired or already used');
      return { email: row.email, what: scopeLabel(await authorName(db, row.author_id)) };
    },

    /** Confirms with the single-use link. */
    async confirm(token: string): Promise<{ what: string }> {
      const { what } = await service.pendingByToken(token);
      const at = now();
      const res = await db
        .updateTable('subscribers')
        .set({ status: 'confirmed', confirmed_at: at, digest_from: at, confirm_token_hash: null })
        .where('confirm_token_hash', '=', hashToken(token))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw new AppError('token_invalid', 'This confirmation link is invalid, expired or already used');
      return { what };
    },

    unsubscribeUrl,

    /** What an unsubscribe link names (its page), or token_invalid for a forged one. */
    async byUnsubscribeLink(id: number, sig: string): Promise<{ email: string; what: string; status: SubscriberStatus }> {
      if (!safeEqual(sig, signature(id))) throw new AppError('token_invalid', 'This unsubscribe link is invalid');
      const row = await db.selectFrom('subscribers').select(['email', 'author_id', 'status']).where('id', '=', id).executeTakeFirst();
      if (!row) throw new AppError('token_invalid', 'This unsubscribe link is invalid');
      return { email: row.email, status: row.status, what: scopeLabel(await authorName(db, row.author_id)) };
    },

    /** One-click unsubscribe: the signed link is the authority; doing it twice is harmless. */
    async unsubscribe(id: number, sig: string): Promise<{ what: string }> {
      const { what } = await service.byUnsubscribeLink(id, sig);
      await db
        .updateTable('subscribers')
        .set({ status: 'unsubscribed', unsubscribed_at: now(), confirm_token_hash: null })
        .where('id', '=', id)
        .where('status', '!=', 'unsubscribed')
        .execute();
      return { what };
    },

    /** A signed-in person's subscriptions: made from their account, or to their verified address. */
    async mine(user: { id: number; email: string; verified: boolean }): Promise<Subscription[]> {
      const rows = await subscriptionRows()
        .where((eb) =>
          user.verified
            ? eb.or([eb('subscribers.user_id', '=', user.id), eb('subscribers.email', '=', user.email.toLowerCase())])
            : eb('subscribers.user_id', '=', user.id),
        )
        .where('subscribers.status', '!=', 'unsubscribed')
        .orderBy('subscribers.id')
        .execute();
      return rows.map(toSubscription);
    },

    /** Changes how often, or ends, one of the signed-in person's subscriptions; not_found if not theirs. */
    async change(user: { id: number; email: string; verified: boolean }, id: number, change: { frequency?: unknown; cancel?: boolean }): Promise<void> {
      if (!(await service.mine(user)).some((s) => s.id === id)) throw new AppError('not_found', 'No subscription of yours with that id');
      if (change.cancel) {
        await db.updateTable('subscribers').set({ status: 'unsubscribed', unsubscribed_at: now(), confirm_token_hash: null }).where('id', '=', id).execute();
      } else {
        await db
          .updateTable('subscribers')
          .set({ frequency: normalizeFrequency(change.frequency) })
          .where('id', '=', id)
          .execute();
      }
    },

    /** The signed-in person's subscription to one author, if any (the profile's button). */
    async toAuthor(user: { id: number; email: string; verified: boolean }, authorId: number): Promise<Subscription | undefined> {
      const rows = await service.mine(user);
      const author = await authorName(db, authorId);
      return rows.find((s) => s.author !== null && s.author === author);
    },

    /** Counts for the admin page: by status, and confirmed per author (null: the whole blog). */
    async counts(): Promise<{ byStatus: Record<SubscriberStatus, number>; perAuthor: { author: string | null; confirmed: number }[] }> {
      const rows = await db
        .selectFrom('subscribers')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute();
      const byStatus: Record<SubscriberStatus, number> = { confirmed: 0, pending: 0, unsubscribed: 0 };
      for (const r of rows) byStatus[r.status] = Number(r.n);
      const per = await db
        .selectFrom('subscribers')
        .leftJoin('users', 'users.id', 'subscribers.author_id')
        .select(['users.username', (eb) => eb.fn.countAll<number>().as('n')])
        .where('subscribers.status', '=', 'confirmed')
        .groupBy('users.username')
        .orderBy('users.username')
        .execute();
      return { byStatus, perAuthor: per.map((r) => ({ author: r.username ?? null, confirmed: Number(r.n) })) };
    },

    /** Every subscription, newest first (the admin list and the CSV export). */
    async list(opts: { limit?: number; offset?: number } = {}): Promise<Subscription[]> {
      let q = subscriptionRows().orderBy('subscribers.id', 'desc');
      if (opts.limit !== undefined) q = q.limit(opts.limit).offset(opts.offset ?? 0);
      const rows = await q.execute();
      return rows.map(toSubscription);
    },
  };
  return service;
}

export type SubscriptionsService = ReturnType<typeof createSubscriptionsService>;
