import type { Kysely, Transaction } from 'kysely';
import type { Database, EmailPreference, NotificationKind } from '../../platform/db/schema.ts';
import { preparedQuery } from '../../platform/db/prepared.ts';
import { AppError, assertValid, type FieldError } from '../../platform/errors.ts';
import type { DomainEvent } from '../../platform/events/index.ts';
import type { Mailer } from '../../platform/mail/index.ts';
import type { Clock } from '../../lib/clock.ts';
import { excerptOf, htmlToText } from '../../lib/markdown.ts';
import { hashToken, randomToken } from '../../lib/secrets.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { CommentsService } from '../comments/index.ts';
import type { PostsService } from '../posts/index.ts';
import { digestEmail, describe, instantEmail, type NotificationSummary } from './notifications.emails.ts';

export const KINDS: NotificationKind[] = ['comment_on_post', 'reply_to_comment', 'new_follower', 'post_favorited', 'comment_held'];
export const PREFERENCES: EmailPreference[] = ['instant', 'daily', 'off'];
const DIGEST_HOUR = 8;

/** The date (YYYY-MM-DD) and hour of an instant in a time zone. */
function localDayAndHour(at: Date, timeZone: string): { day: string; hour: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) };
}

export interface Notification {
  id: number;
  kind: NotificationKind;
  read: boolean;
  createdAt: string;
  eventId: number;
  actor: { username: string; displayName: string } | null;
  post: { id: number; slug: string; title: string } | null;
  commentId: number | null;
  excerpt: string;
  message: string;
  url: string;
}

type Db = Kysely<Database> | Transaction<Database>;

// The header's unread badge: on every signed-in page, so built and compiled once.
const unreadQuery = preparedQuery((db: Kysely<Database>, s: { userId: number }) =>
  db
    .selectFrom('notifications')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', s.userId)
    .where('read_at', 'is', null),
);

/** What notifications reads from the features that own people, posts and comments (in the dispatch's transaction). */
export interface NotificationOwners {
  accounts: Pick<AccountsService, 'account' | 'moderatorIds'>;
  posts: Pick<PostsService, 'byId'>;
  comments: Pick<CommentsService, 'byId'>;
}

/** In-app notifications, their emails (instant or daily digest) and the preferences behind them. */
export function createNotificationsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  mailer: Mailer;
  site: { url: string; name: () => string; refresh?: (through?: Db) => Promise<{ timeZone: string }> };
  /** Accounts, posts and comments as the app built them. */
  owners: NotificationOwners;
}) {
  const { db, clock, mailer } = deps;
  const { accounts, posts, comments } = deps.owners;
  const site = () => ({ url: deps.site.url, name: deps.site.name() });
  const now = () => clock.now().toISOString();

  function listQuery(d: Db) {
    return d
      .selectFrom('notifications')
      .leftJoin('users as actor', 'actor.id', 'notifications.actor_id')
      .leftJoin('posts', 'posts.id', 'notifications.post_id')
      .leftJoin('comments', 'comments.id', 'notifications.comment_id')
      .select([
        'notifications.id',
        'notifications.kind',
        'notifications.read_at',
        'notifications.created_at',
        'notifications.event_id',
        'notifications.comment_id',
        'notifications.post_id',
        'notifications.user_id',
        'actor.username as actor_username',
        'actor.display_name as actor_name',
        'posts.slug as post_slug',
        'posts.title as post_title',
        'comments.body_html as comment_html',
      ]);
  }
  type Row = Awaited<ReturnType<ReturnType<typeof listQuery>['executeTakeFirstOrThrow']>>;

  function toNotification(r: Row): Notification {
    const actor = r.actor_username ? { username: r.actor_username, displayName: r.actor_name ?? r.actor_username } : null;
    const post = r.post_id && r.post_slug ? { id: r.post_id, slug: r.post_slug, title: r.post_title ?? '' } : null;
    const summary = { kind: r.kind, actor: actor?.displayName ?? 'Someone', postTitle: post?.title ?? 'a post' };
    return {
      id: r.id,
      kind: r.kind,
      read: r.read_at !== null,
      createdAt: r.created_at,
      eventId: r.event_id,
      actor,
      post,
      commentId: r.comment_id,
      excerpt: excerptOf(htmlToText(r.comment_html ?? ''), 160),
      message: describe(summary),
      url:
        r.kind === 'comment_held'
          ? `${site().url}/admin/comments`
          : r.kind === 'new_follower' && actor
            ? `${site().url}/@${actor.username}`
            : post
              ? `${site().url}/posts/${post.slug}${r.comment_id ? `#comment-${r.comment_id}` : ''}`
              : `${site().url}/notifications`,
    };
  }

  function summaryOf(n: Notification): NotificationSummary {
    return { kind: n.kind, actor: n.actor?.displayName ?? 'Someone', postTitle: n.post?.title ?? 'a post', excerpt: n.excerpt, url: n.url };
  }

  async function preference(d: Db, userId: number, kind: NotificationKind): Promise<EmailPreference> {
    const row = await d.selectFrom('notification_prefs').select('email').where('user_id', '=', userId).where('kind', '=', kind).executeTakeFirst();
    return row?.email ?? 'instant';
  }

  async function unsubscribeUrl(d: Db, userId: number, kind: NotificationKind | 'all'): Promise<string> {
    const token = randomToken();
    await d
      .insertInto('unsubscribe_tokens')
      .values({ token_hash: hashToken(token), user_id: userId, kind, created_at: now(), used_at: null })
      .execute();
    return `${site().url}/unsubscribe/${token}`;
  }

  /**
   * Records one notification per recipient for an event and mails it now
   * unless the person chose a digest or no email. Runs in the event's
   * transaction; the unique index makes a re-run of the event a no-op.
   */
  async function notify(
    trx: Transaction<Database>,
    eventId: number,
    recipients: Map<number, NotificationKind>,
    about: { actorId: number | null; postId: number | null; commentId: number | null },
  ): Promise<void> {
    for (const [userId, kind] of recipients) {
      const inserted = await trx
        .insertInto('notifications')
        .values({
          user_id: userId,
          event_id: eventId,
          kind,
          actor_id: about.actorId,
          post_id: about.postId,
          comment_id: about.commentId,
          created_at: now(),
          read_at: null,
          emailed_at: null,
        })
        .onConflict((oc) => oc.columns(['event_id', 'user_id', 'kind']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) continue;
      const pref = await preference(trx, userId, kind);
      if (pref === 'daily') continue; // the digest picks it up
      if (pref === 'instant') {
        const user = await accounts.account(userId, trx);
        if (user && !user.suspended) {
          const n = toNotification(await listQuery(trx).where('notifications.id', '=', inserted.id).executeTakeFirstOrThrow());
          // An event subscriber runs outside any request: the name may have changed on another instance.
          await deps.site.refresh?.(trx);
          await mailer.send(trx, instantEmail(site(), { email: user.email, name: user.displayName }, summaryOf(n), await unsubscribeUrl(trx, userId, kind)));
        }
      }
      await trx.updateTable('notifications').set({ emailed_at: now() }).where('id', '=', inserted.id).execute();
    }
  }

  const service = {
    /**
     * Subscriber of comment.created: the post's author and the answered
     * comment's author hear of it, never the commenter themself, and one
     * person once per event (a reply to your comment under your own post is
     * one notification).
     */
    async onCommentCreated(event: DomainEvent<'comment.created'>, trx: Transaction<Database>): Promise<void> {
      const { commentId, postId, parentId, authorId } = event.payload;
      const recipients = new Map<number, NotificationKind>();
      if (parentId !== null) {
        const parent = await comments.byId(parentId, trx);
        if (parent?.author) recipients.set(parent.author.id, 'reply_to_comment');
      }
      const post = await posts.byId(postId, trx);
      if (post?.author && !recipients.has(post.author.id)) recipients.set(post.author.id, 'comment_on_post');
      if (authorId !== null) recipients.delete(authorId);
      await notify(trx, event.id, recipients, { actorId: authorId, postId, commentId });
    },

    /**
     * Subscriber of comment.held: every moderator (editors and admins, not suspended)
     * hears that a comment waits for approval, in-app and by email per their preferences.
     */
    async onCommentHeld(event: DomainEvent<'comment.held'>, trx: Transaction<Database>): Promise<void> {
      const { commentId, postId, authorId } = event.payload;
      const mods = await accounts.moderatorIds(trx);
      const recipients = new Map<number, NotificationKind>(mods.filter((id) => id !== authorId).map((id) => [id, 'comment_held']));
      await notify(trx, event.id, recipients, { actorId: authorId, postId, commentId });
    },

    /** Subscriber of user.followed: the person followed hears who it was. */
    async onUserFollowed(event: DomainEvent<'user.followed'>, trx: Transaction<Database>): Promise<void> {
      const { followerId, followeeId } = event.payload;
      if (followerId === followeeId) return;
      // Unfollowing and following again must not become a way to ping someone.
      const before = await trx
        .selectFrom('notifications')
        .select('id')
        .where('user_id', '=', followeeId)
        .where('kind', '=', 'new_follower')
        .where('actor_id', '=', followerId)
        .executeTakeFirst();
      if (before) return;
      await notify(trx, event.id, new Map([[followeeId, 'new_follower']]), { actorId: followerId, postId: null, commentId: null });
    },

    /** Subscriber of post.favorited: the post's author hears of it (not of their own favourite). */
    async onPostFavorited(event: DomainEvent<'post.favorited'>, trx: Transaction<Database>): Promise<void> {
      const { userId, postId } = event.payload;
      const authorId = (await posts.byId(postId, trx))?.author?.id;
      if (!authorId || authorId === userId) return;
      const before = await trx
        .selectFrom('notifications')
        .select('id')
        .where('user_id', '=', authorId)
        .where('kind', '=', 'post_favorited')
        .where('actor_id', '=', userId)
        .where('post_id', '=', postId)
        .executeTakeFirst();
      if (before) return;
      await notify(trx, event.id, new Map([[authorId, 'post_favorited']]), { actorId: userId, postId, commentId: null });
    },

    /** Who was notified by an event (for live pushes). */
    async recipientsOf(eventId: number): Promise<number[]> {
      const rows = await db.selectFrom('notifications').select('user_id').where('event_id', '=', eventId).execute();
      return rows.map((r) => r.user_id);
    },

    async list(
      userId: number,
      opts: { before?: number; after?: number; limit: number },
    ): Promise<{ notifications: Notification[]; nextCursor: number | null; unreadCount: number }> {
      let q = listQuery(db)
        .where('notifications.user_id', '=', userId)
        .orderBy('notifications.id', 'desc')
        .limit(opts.limit + 1);
      if (opts.before !== undefined) q = q.where('notifications.id', '<', opts.before);
      if (opts.after !== undefined) q = q.where('notifications.event_id', '>', opts.after);
      const rows = await q.execute();
      const page = rows.slice(0, opts.limit).map(toNotification);
      return { notifications: page, nextCursor: rows.length > opts.limit ? page.at(-1)!.id : null, unreadCount: await this.unreadCount(userId) };
    },

    async unreadCount(userId: number): Promise<number> {
      return Number((await unreadQuery(db, { userId })).rows[0].n);
    },

    /** Marks the given notifications read (only the user's own), or all of them without ids. */
    async markRead(userId: number, ids?: number[]): Promise<number> {
      let q = db.updateTable('notifications').set({ read_at: now() }).where('user_id', '=', userId).where('read_at', 'is', null);
      if (ids) {
        if (ids.length === 0) return this.unreadCount(userId);
        q = q.where('id', 'in', ids);
      }
      await q.execute();
      return this.unreadCount(userId);
    },

    /** Email preference per kind; pass the transaction when inside one (SQLite has one connection). */
    async prefs(userId: number, d: Db = db): Promise<Record<NotificationKind, EmailPreference>> {
      const rows = await d.selectFrom('notification_prefs').select(['kind', 'email']).where('user_id', '=', userId).execute();
      const out = Object.fromEntries(KINDS.map((k) => [k, 'instant'])) as Record<NotificationKind, EmailPreference>;
      for (const r of rows) out[r.kind] = r.email;
      return out;
    },

    async setPrefs(userId: number, input: Partial<Record<string, unknown>>): Promise<void> {
      const errors: FieldError[] = [];
      const changes: [NotificationKind, EmailPreference][] = [];
      for (const kind of KINDS) {
        const v = input[kind];
        if (v === undefined) continue;
        if (!PREFERENCES.includes(v as EmailPreference)) errors.push({ field: kind, message: 'must be instant, daily or off' });
        else changes.push([kind, v as EmailPreference]);
      }
      for (const key of Object.keys(input)) if (!KINDS.includes(key as NotificationKind)) errors.push({ field: key, message: 'is not a known field' });
      assertValid(errors);
      for (const [kind, email] of changes) {
        await db
          .insertInto('notification_prefs')
          .values({ user_id: userId, kind, email })
          .onConflict((oc) => oc.columns(['user_id', 'kind']).doUpdateSet({ email }))
          .execute();
      }
    },

    /** What an unsubscribe token would turn off, changing nothing (the confirmation page); token_invalid if spent or unknown. */
    async unsubscribeKind(token: string): Promise<{ kind: NotificationKind | 'all' }> {
      const row = await db.selectFrom('unsubscribe_tokens').select(['kind', 'used_at']).where('token_hash', '=', hashToken(token)).executeTakeFirst();
      if (!row || row.used_at) throw new AppError('token_invalid', 'This unsubscribe link is invalid or was already used');
      return { kind: row.kind };
    },

    /** One-click unsubscribe (no login): the token works once and names its person and kind. */
    async unsubscribe(token: string): Promise<{ kind: NotificationKind | 'all' }> {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('unsubscribe_tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
        if (!row || row.used_at) throw new AppError('token_invalid', 'This unsubscribe link is invalid or was already used');
        const res = await trx
          .updateTable('unsubscribe_tokens')
          .set({ used_at: now() })
          .where('token_hash', '=', row.token_hash)
          .where('used_at', 'is', null)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) throw new AppError('token_invalid', 'This unsubscribe link is invalid or was already used');
        for (const kind of row.kind === 'all' ? KINDS : [row.kind]) {
          await trx
            .insertInto('notification_prefs')
            .values({ user_id: row.user_id, kind, email: 'off' })
            .onConflict((oc) => oc.columns(['user_id', 'kind']).doUpdateSet({ email: 'off' }))
            .execute();
        }
        return { kind: row.kind };
      });
    },

    /**
     * Sends each person with "daily" notifications waiting one digest. Runs at
     * most once per day of the site's time zone across all instances (the
     * digest_runs row is the claim), from 08:00 there on. Returns how many
     * digests were recorded.
     */
    async sendDigests(): Promise<number> {
      const at = clock.now();
      // A schedule runs outside any request: read the settings now (and the name the emails show).
      const timeZone = (await deps.site.refresh?.())?.timeZone ?? 'UTC';
      const { day, hour } = localDayAndHour(at, timeZone);
      if (hour < DIGEST_HOUR) return 0;
      const claimed = await db
        .insertInto('digest_runs')
        .values({ day, started_at: at.toISOString() })
        .onConflict((oc) => oc.column('day').doNothing())
        .returning('day')
        .executeTakeFirst();
      if (!claimed) return 0;
      const waiting = await db.selectFrom('notifications').select('user_id').distinct().where('emailed_at', 'is', null).execute();
      let sent = 0;
      for (const { user_id: userId } of waiting) {
        await db.transaction().execute(async (trx) => {
          const rows = (
            await listQuery(trx)
              .where('notifications.user_id', '=', userId)
              .where('notifications.emailed_at', 'is', null)
              .orderBy('notifications.id')
              .limit(100)
              .execute()
          ).map(toNotification);
          const prefs = await this.prefs(userId, trx);
          const items = rows.filter((n) => prefs[n.kind] === 'daily');
          const user = await accounts.account(userId, trx);
          if (items.length && user && !user.suspended) {
            await mailer.send(
              trx,
              digestEmail(site(), { email: user.email, name: user.displayName }, items.map(summaryOf), await unsubscribeUrl(trx, userId, 'all')),
            );
            sent += 1;
          }
          if (rows.length)
            await trx
              .updateTable('notifications')
              .set({ emailed_at: now() })
              .where(
                'id',
                'in',
                rows.map((r) => r.id),
              )
              .execute();
        });
      }
      return sent;
    },
  };
  return service;
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;
