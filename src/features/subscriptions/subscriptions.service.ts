import type { Kysely, Transaction } from 'kysely';
import type { Database, SubscriberStatus, SubscriptionFrequency } from '../../platform/db/schema.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { AppError } from '../../platform/errors.ts';
import type { Mailer } from '../../platform/mail/index.ts';
import type { Queue } from '../../platform/jobs/queue.ts';
import type { Site } from '../../platform/site.ts';
import type { Clock } from '../../lib/clock.ts';
import { hashToken, hmac, randomToken, safeEqual } from '../../lib/secrets.ts';
import { confirmEmail, digestEmail, postEmail, type PostSummary } from './subscriptions.emails.ts';

export const FREQUENCIES: SubscriptionFrequency[] = ['instant', 'weekly'];
const CONFIRM_TTL_MS = 7 * 24 * 3600 * 1000;
/** Subscribers handled by one run of a sending job. */
const MAX_BATCH = 50;
/** The weekly digest goes out on Mondays from this hour, in the site's time zone. */
const DIGEST_HOUR = 8;
// One plain address, as the mailer accepts it.
const ADDRESS = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/;

type Db = Kysely<Database> | Transaction<Database>;

interface Log {
  warn(o: object, m?: string): void;
}

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

/** The local date (YYYY-MM-DD) of the Monday whose digest is due at `at`, in a time zone. */
export function digestWeek(at: Date, timeZone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', weekday: 'short', hourCycle: 'h23' })
      .formatToParts(at)
      .map((x) => [x.type, x.value]),
  );
  const sinceMonday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p.weekday);
  // Before 08:00 on a Monday, the week's digest is last Monday's.
  const back = sinceMonday === 0 && Number(p.hour) < DIGEST_HOUR ? 7 : sinceMonday;
  const day = new Date(Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) - back * 86_400_000);
  return day.toISOString().slice(0, 10);
}

/**
 * Email subscriptions: double opt-in, one-click unsubscribe, and sending new
 * posts in rate-limited batches of jobs. Each (subscriber, post) gets one
 * delivery row, written in the transaction that puts the email in the mail
 * outbox, so a job that runs again (a crash, a lease that ran out) skips
 * everyone it already handled.
 */
export function createSubscriptionsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  mailer: Mailer;
  queue: Queue;
  site: Site;
  secret: string;
  /** Emails per minute at most. */
  sendRate: number;
}) {
  const { db, clock, mailer, queue, site, secret } = deps;
  const now = () => clock.now().toISOString();
  const siteInfo = () => ({ name: site.name(), url: site.url });
  const batch = Math.max(1, Math.min(MAX_BATCH, deps.sendRate));
  /** The pause between two batches that keeps to the rate. */
  const pauseMs = Math.ceil((batch / deps.sendRate) * 60_000);

  const signature = (id: number) => hmac(secret, `subscription-unsubscribe:${id}`);
  const unsubscribeUrl = (id: number) => `${site.url}/subscriptions/unsubscribe/${id}/${signature(id)}`;

  async function authorName(d: Db, authorId: number | null): Promise<string | null> {
    if (authorId === null) return null;
    return (await d.selectFrom('users').select('username').where('id', '=', authorId).executeTakeFirst())?.username ?? null;
  }

  function scopeLabel(author: string | null): string {
    return author ? `new posts by ${author} on ${site.name()}` : `new posts on ${site.name()}`;
  }

  async function loadPost(d: Db, postId: number): Promise<PostSummary | undefined> {
    const row = await d
      .selectFrom('posts')
      .leftJoin('users', 'users.id', 'posts.author_id')
      .select(['posts.id', 'posts.title', 'posts.slug', 'posts.excerpt', 'posts.author_id', 'users.display_name', 'users.username'])
      .where('posts.id', '=', postId)
      .where('posts.status', '=', 'published')
      .where('posts.deleted_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      title: row.title,
      slug: row.slug,
      excerpt: row.excerpt,
      authorId: row.author_id,
      authorName: row.display_name ?? null,
      authorUsername: row.username ?? null,
    };
  }

  /** Whether this address already had the post through another of its subscriptions. */
  async function hadPost(trx: Db, email: string, postId: number): Promise<boolean> {
    const row = await trx
      .selectFrom('subscription_deliveries')
      .innerJoin('subscribers', 'subscribers.id', 'subscription_deliveries.subscriber_id')
      .select('subscription_deliveries.post_id')
      .where('subscribers.email', '=', email)
      .where('subscription_deliveries.post_id', '=', postId)
      .where('subscription_deliveries.status', '=', 'queued')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Records a failure for one address, so the batch goes on and the address is not tried again. */
  async function recordFailure(subscriberId: number, postIds: number[], e: unknown, log?: Log): Promise<void> {
    const error = (e instanceof AppError ? `${e.message}: ${JSON.stringify(e.errors)}` : (e as Error).message).slice(0, 500);
    log?.warn({ subscriberId, postIds, err: error }, 'subscription email refused; the others go on');
    for (const postId of postIds) {
      await db
        .insertInto('subscription_deliveries')
        .values({ subscriber_id: subscriberId, post_id: postId, status: 'failed', error, created_at: now() })
        .onConflict((oc) => oc.columns(['subscriber_id', 'post_id']).doNothing())
        .execute()
        .catch(() => {});
    }
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

  type Row = { id: number; email: string; author_id: number | null; digest_from: string | null; confirmed_at: string | null };
  const subscriberColumns = ['id', 'email', 'author_id', 'digest_from', 'confirmed_at'] as const;

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
      const rows = await db
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
        ])
        .where((eb) =>
          user.verified
            ? eb.or([eb('subscribers.user_id', '=', user.id), eb('subscribers.email', '=', user.email.toLowerCase())])
            : eb('subscribers.user_id', '=', user.id),
        )
        .where('subscribers.status', '!=', 'unsubscribed')
        .orderBy('subscribers.id')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        email: r.email,
        author: r.author ?? null,
        frequency: r.frequency,
        status: r.status,
        createdAt: r.created_at,
        confirmedAt: r.confirmed_at,
      }));
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

    /**
     * Event subscriber for post.published: starts a batched send, once per event
     * (a republished post starts another; its delivery rows skip whoever had it).
     */
    async onPostPublished(eventId: number, postId: number, trx: Transaction<Database>): Promise<void> {
      await queue.enqueue(trx, 'subscriptions.send', { postId, run: eventId, after: 0 }, { idempotencyKey: `subscriptions.send:${eventId}:0` });
    },

    /**
     * One batch of a post's instant emails: the next subscribers after `after`,
     * each in its own transaction (delivery row and outbox row together), then
     * the next batch as a job once the rate allows. Returns how many it handled.
     */
    async sendBatch(postId: number, run: number, after: number, log?: Log): Promise<number> {
      const post = await loadPost(db, postId);
      // Taken offline (or trashed) since: the rest are not sent.
      if (!post) return 0;
      const subscribers: Row[] = await db
        .selectFrom('subscribers')
        .select(subscriberColumns)
        .where('status', '=', 'confirmed')
        .where('frequency', '=', 'instant')
        .where((eb) => (post.authorId === null ? eb('author_id', 'is', null) : eb.or([eb('author_id', 'is', null), eb('author_id', '=', post.authorId)])))
        .where('id', '>', after)
        .orderBy('id')
        .limit(batch)
        .execute();
      for (const s of subscribers) {
        try {
          await db.transaction().execute(async (trx) => {
            const duplicate = await hadPost(trx, s.email, postId);
            const inserted = await trx
              .insertInto('subscription_deliveries')
              .values({ subscriber_id: s.id, post_id: postId, status: duplicate ? 'skipped' : 'queued', error: null, created_at: now() })
              .onConflict((oc) => oc.columns(['subscriber_id', 'post_id']).doNothing())
              .returning('post_id')
              .executeTakeFirst();
            if (!inserted || duplicate) return;
            const listAuthor = s.author_id === null ? null : post.authorUsername;
            await mailer.send(trx, postEmail(siteInfo(), s.email, post, unsubscribeUrl(s.id), listAuthor));
          });
        } catch (e) {
          await recordFailure(s.id, [postId], e, log);
        }
      }
      if (subscribers.length === batch) {
        const last = subscribers[subscribers.length - 1].id;
        await queue.enqueue(
          db,
          'subscriptions.send',
          { postId, run, after: last },
          { runAt: new Date(clock.now().getTime() + pauseMs), idempotencyKey: `subscriptions.send:${run}:${last}` },
        );
      }
      return subscribers.length;
    },

    /**
     * The schedule's check: from Monday 08:00 in the site's time zone, starts
     * that week's digest once across all instances. Returns the week started, or null.
     */
    async startWeeklyDigest(): Promise<string | null> {
      const { timeZone } = await site.refresh();
      const week = digestWeek(clock.now(), timeZone);
      const claimed = await db.transaction().execute(async (trx) => {
        // The very first check only marks where counting starts: no digest goes out mid-week.
        const first = !(await trx.selectFrom('subscription_digest_runs').select('week').limit(1).executeTakeFirst());
        const row = await trx
          .insertInto('subscription_digest_runs')
          .values({ week, started_at: now() })
          .onConflict((oc) => oc.column('week').doNothing())
          .returning('week')
          .executeTakeFirst();
        if (row && !first) await queue.enqueue(trx, 'subscriptions.digest', { week, after: 0 }, { idempotencyKey: `subscriptions.digest:${week}:0` });
        return row !== undefined && !first;
      });
      return claimed ? week : null;
    },

    /** One batch of a week's digests: each weekly subscriber gets the posts published since their last one. */
    async digestBatch(week: string, after: number, log?: Log): Promise<number> {
      const until = now();
      const subscribers: Row[] = await db
        .selectFrom('subscribers')
        .select(subscriberColumns)
        .where('status', '=', 'confirmed')
        .where('frequency', '=', 'weekly')
        .where('id', '>', after)
        .orderBy('id')
        .limit(batch)
        .execute();
      for (const s of subscribers) {
        let postIds: number[] = [];
        try {
          await db.transaction().execute(async (trx) => {
            let q = trx
              .selectFrom('posts')
              .select('posts.id')
              .where('posts.status', '=', 'published')
              .where('posts.deleted_at', 'is', null)
              .where('posts.published_at', '<=', until)
              .where('posts.published_at', '>', s.digest_from ?? s.confirmed_at ?? until);
            if (s.author_id !== null) q = q.where('posts.author_id', '=', s.author_id);
            const ids = (await q.orderBy('posts.published_at').limit(30).execute()).map((r) => r.id);
            const posts: PostSummary[] = [];
            for (const id of ids) {
              if (await hadPost(trx, s.email, id)) continue;
              const inserted = await trx
                .insertInto('subscription_deliveries')
                .values({ subscriber_id: s.id, post_id: id, status: 'queued', error: null, created_at: until })
                .onConflict((oc) => oc.columns(['subscriber_id', 'post_id']).doNothing())
                .returning('post_id')
                .executeTakeFirst();
              const post = inserted && (await loadPost(trx, id));
              if (post) posts.push(post);
            }
            postIds = posts.map((p) => p.id);
            if (posts.length) {
              const listAuthor = s.author_id === null ? null : await authorName(trx, s.author_id);
              await mailer.send(trx, digestEmail(siteInfo(), s.email, posts, unsubscribeUrl(s.id), listAuthor));
            }
            await trx.updateTable('subscribers').set({ digest_from: until }).where('id', '=', s.id).execute();
          });
        } catch (e) {
          await recordFailure(s.id, postIds, e, log);
        }
      }
      if (subscribers.length === batch) {
        const last = subscribers[subscribers.length - 1].id;
        await queue.enqueue(
          db,
          'subscriptions.digest',
          { week, after: last },
          { runAt: new Date(clock.now().getTime() + pauseMs), idempotencyKey: `subscriptions.digest:${week}:${last}` },
        );
      }
      return subscribers.length;
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
      let q = db
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
        ])
        .orderBy('subscribers.id', 'desc');
      if (opts.limit !== undefined) q = q.limit(opts.limit).offset(opts.offset ?? 0);
      const rows = await q.execute();
      return rows.map((r) => ({
        id: r.id,
        email: r.email,
        author: r.author ?? null,
        frequency: r.frequency,
        status: r.status,
        createdAt: r.created_at,
        confirmedAt: r.confirmed_at,
      }));
    },
  };
  return service;
}

export type SubscriptionsService = ReturnType<typeof createSubscriptionsService>;
