import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import { preparedQuery } from '../../platform/db/prepared.ts';
import { AppError } from '../../platform/errors.ts';
import type { Mailer } from '../../platform/mail/index.ts';
import type { Queue } from '../../platform/jobs/queue.ts';
import type { Site } from '../../platform/site.ts';
import type { Clock } from '../../lib/clock.ts';
import { digestEmail, postEmail, type PostSummary } from './subscriptions.emails.ts';

/** Subscribers handled by one run of a sending job. */
const MAX_BATCH = 50;
/** The weekly digest goes out on Mondays from this hour, in the site's time zone. */
const DIGEST_HOUR = 8;

type Db = Kysely<Database> | Transaction<Database>;

interface Log {
  warn(o: object, m?: string): void;
}

// Whether anyone takes this post's instant email: a confirmed, instant subscriber of
// the whole blog or of the post's author. Asked once per published post.
const instantSubscriberFor = preparedQuery((d: Kysely<Database>, s: { postId: number }) =>
  d
    .selectFrom('subscribers')
    .select('id')
    .where('status', '=', 'confirmed')
    .where('frequency', '=', 'instant')
    .where((eb) => eb.or([eb('author_id', 'is', null), eb('author_id', '=', eb.selectFrom('posts').select('author_id').where('id', '=', s.postId))]))
    .limit(1),
);

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
 * Sending: a published post to instant subscribers, and the weekly digests, in
 * batches of jobs that keep to the rate. Each (subscriber, post) gets one
 * delivery row, written in the transaction that puts the email in the mail
 * outbox, so a job that runs again (a crash, a lease that ran out) skips
 * everyone it already handled.
 */
export function createSubscriptionSender(deps: {
  db: Kysely<Database>;
  clock: Clock;
  mailer: Mailer;
  queue: Queue;
  site: Site;
  /** Emails per minute at most. */
  sendRate: number;
  /** The signed one-click unsubscribe link of a subscription. */
  unsubscribeUrl: (subscriberId: number) => string;
}) {
  const { db, clock, mailer, queue, site, unsubscribeUrl } = deps;
  const now = () => clock.now().toISOString();
  const siteInfo = () => ({ name: site.name(), url: site.url });
  const batch = Math.max(1, Math.min(MAX_BATCH, deps.sendRate));
  /** The pause between two batches that keeps to the rate. */
  const pauseMs = Math.ceil((batch / deps.sendRate) * 60_000);

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

  /** Records an address the mailer refused, so the batch goes on and the address is not tried again for these posts. */
  async function recordFailure(subscriberId: number, postIds: number[], e: AppError, log?: Log): Promise<void> {
    const error = `${e.message}: ${JSON.stringify(e.errors)}`.slice(0, 500);
    log?.warn({ subscriberId, postIds, err: error }, 'subscription email refused; the others go on');
    for (const postId of postIds) {
      await db
        .insertInto('subscription_deliveries')
        .values({ subscriber_id: subscriberId, post_id: postId, status: 'failed', error, created_at: now() })
        .onConflict((oc) => oc.columns(['subscriber_id', 'post_id']).doNothing())
        .execute();
    }
  }

  type Row = { id: number; email: string; author_id: number | null; digest_from: string | null; confirmed_at: string | null };
  const subscriberColumns = ['id', 'email', 'author_id', 'digest_from', 'confirmed_at'] as const;

  return {
    /**
     * Event subscriber for post.published: starts a batched send, once per event
     * (a republished post starts another; its delivery rows skip whoever had it).
     */
    async onPostPublished(eventId: number, postId: number, trx: Transaction<Database>): Promise<void> {
      // A blog (or author) nobody follows by email yet gets no job: claiming and running
      // one per post for nobody was ~a third of a published post's background work.
      if ((await instantSubscriberFor(trx, { postId })).rows.length === 0) return;
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
          // The database failing is not the address's fault: the job runs again, and skips whoever had it.
          if (!(e instanceof AppError)) throw e;
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
              // An author's subscribers get only that author's posts.
              const listAuthor = s.author_id === null ? null : posts[0].authorUsername;
              await mailer.send(trx, digestEmail(siteInfo(), s.email, posts, unsubscribeUrl(s.id), listAuthor));
            }
            await trx.updateTable('subscribers').set({ digest_from: until }).where('id', '=', s.id).execute();
          });
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
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
  };
}

export type SubscriptionSender = ReturnType<typeof createSubscriptionSender>;
