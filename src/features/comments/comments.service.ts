import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import { AppError, assertValid, type FieldError } from '../../platform/errors.ts';
import type { Events } from '../../platform/events/index.ts';
import type { CurrentUser } from '../../platform/http/sessions.ts';
import type { Settings } from '../../platform/settings.ts';
import type { Clock } from '../../lib/clock.ts';
import { countLinks, renderCommentMarkdown } from '../../lib/markdown.ts';
import { nonXmlCharProblem } from '../../lib/xml.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { Post, PostsService } from '../posts/index.ts';
import * as q from './comments.queries.ts';
import type { Comment } from './comments.queries.ts';

export const MODERATION_MODES = ['open', 'first-time-held', 'all-held'] as const;
export type ModerationMode = (typeof MODERATION_MODES)[number];
export const LIMITS = { body: 5000, links: 3, editWindowMs: 15 * 60_000, perMinute: 5, perHour: 30 };

/** Editors and admins moderate every comment. */
export function isModerator(user: CurrentUser | null): boolean {
  return !!user && (user.role === 'editor' || user.role === 'admin');
}

/** A comment as its command schema (comments.schema.ts) passed it. */
export interface CommentInput {
  body: string;
  parentId?: number;
  /** The honeypot: a field people never see, so only bots fill it. */
  website?: string;
}

/** A comment placed in its thread: how deep it is drawn, and whom it answers when flattened. */
export interface ThreadItem {
  comment: Comment;
  depth: number;
  /** Set when the comment is drawn shallower than its real depth: the author it answers. */
  inReplyTo: { id: number; name: string } | null;
  /** Where a live client appends it: the list of replies of this comment id, or the root. */
  containerId: string;
  replies: ThreadItem[];
}

export const MAX_DEPTH = 2; // 0, 1, 2: three levels drawn; deeper replies flatten into level 2

/** Comments under posts: writing (with spam guard and moderation), threads, and moderators' tools. */
/** A comment as an import writes it. */
export interface ImportedComment {
  postId: number;
  parentId: number | null;
  authorId: number | null;
  /** Shown for a guest (authorId null). */
  authorName: string;
  body: string;
  status: 'published' | 'held';
  createdAt: string;
}

export function createCommentsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  events: Events;
  settings: Settings;
  posts: PostsService;
  /** Who is banned from commenting, and the ban itself: accounts owns the users table. */
  accounts: Pick<AccountsService, 'commentsBanned' | 'banFromComments'>;
  /** Who may comment (the site settings); verified accounts when absent. */
  commenting?: () => Promise<'signed-in' | 'verified' | 'nobody'>;
}) {
  const { db, clock, events, settings, posts, accounts } = deps;
  const now = () => clock.now().toISOString();

  async function load(id: number): Promise<Comment> {
    const c = await q.findComment(db, id);
    if (!c) throw new AppError('not_found', 'No such comment');
    return c;
  }

  // The command schemas (comments.schema.ts) checked presence, blankness and length; these are the rules they cannot say.
  function checkBody(raw: string): { body: string; html: string } {
    const errors: FieldError[] = [];
    const body = raw.replace(/\r\n/g, '\n').trim();
    const problem = nonXmlCharProblem(raw);
    if (problem) errors.push({ field: 'body', message: problem });
    const html = renderCommentMarkdown(body);
    if (countLinks(html) > LIMITS.links) errors.push({ field: 'body', message: `may contain at most ${LIMITS.links} links` });
    assertValid(errors);
    return { body, html };
  }

  async function publishedEvent(trx: Parameters<Events['record']>[0], c: { id: number; postId: number; parentId: number | null; authorId: number | null }) {
    await events.record(trx, 'comment.created', { commentId: c.id, postId: c.postId, parentId: c.parentId, authorId: c.authorId });
  }

  // Whether new text from this person is published at once or held for a moderator,
  // by the site's moderation mode. `editing` is a comment being rewritten: its own
  // approval does not vouch for the new text.
  async function moderated(viewer: CurrentUser, postAuthorId: number | undefined, editing?: number): Promise<'published' | 'held'> {
    if (isModerator(viewer) || postAuthorId === viewer.id) return 'published';
    const mode = await service.moderationMode();
    if (mode === 'open') return 'published';
    if (mode === 'all-held') return 'held';
    return (await q.hasPublishedComment(db, viewer.id, editing)) ? 'published' : 'held';
  }

  const service = {
    async moderationMode(): Promise<ModerationMode> {
      const v = await settings.get('comment_moderation');
      return MODERATION_MODES.includes(v as ModerationMode) ? (v as ModerationMode) : 'open';
    },

    async setModerationMode(mode: ModerationMode): Promise<void> {
      await settings.set('comment_moderation', mode);
    },

    /** The post a comment goes under: it must be published. */
    async postFor(viewer: CurrentUser | null, idOrSlug: string | number): Promise<Post> {
      const post = await posts.get(viewer, idOrSlug);
      if (post.status !== 'published') throw new AppError('not_found', 'Comments are open on published posts only');
      return post;
    },

    /**
     * Writes a comment. Verified, unbanned users only; a reply must answer a
     * visible comment of the same post. Depending on the site's moderation
     * setting it is published at once or held for a moderator.
     */
    async create(viewer: CurrentUser | null, postIdOrSlug: string | number, input: CommentInput): Promise<Comment> {
      if (!viewer) throw new AppError('unauthenticated', 'Log in to comment');
      const who = (await deps.commenting?.()) ?? 'verified';
      if (who === 'nobody') throw new AppError('forbidden', 'Comments are closed on this site');
      if (who === 'verified' && !viewer.verified) throw new AppError('email_unverified', 'Verify your email address to comment');
      const post = await this.postFor(viewer, postIdOrSlug);
      if (await accounts.commentsBanned(viewer.id)) throw new AppError('forbidden', 'You can no longer comment on this site');
      const { body, html } = checkBody(input.body);

      let parentId: number | null = null;
      if (input.parentId !== undefined) {
        const parent = await q.findComment(db, input.parentId);
        if (!parent || parent.postId !== post.id || parent.status !== 'published') {
          throw new AppError('validation_failed', undefined, [{ field: 'parentId', message: 'must be a published comment on this post' }]);
        }
        parentId = parent.id;
      }

      const at = clock.now();
      const minuteAgo = new Date(at.getTime() - 60_000).toISOString();
      const hourAgo = new Date(at.getTime() - 3600_000).toISOString();
      if ((await q.countRecentBy(db, viewer.id, minuteAgo)) >= LIMITS.perMinute || (await q.countRecentBy(db, viewer.id, hourAgo)) >= LIMITS.perHour) {
        throw new AppError('rate_limited', 'You are commenting too fast; wait a minute and try again');
      }

      const honeypot = input.website !== undefined && input.website.trim() !== '';
      const status = honeypot ? 'spam' : await moderated(viewer, post.author?.id);

      const id = await db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('comments')
          .values({
            post_id: post.id,
            parent_id: parentId,
            author_id: viewer.id,
            body,
            body_html: html,
            status,
            created_at: at.toISOString(),
            updated_at: at.toISOString(),
            edited_at: null,
            first_published_at: status === 'published' ? at.toISOString() : null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        if (status === 'published') await publishedEvent(trx, { id: row.id, postId: post.id, parentId, authorId: viewer.id });
        // Moderators hear of it (notifications); the commenter's words wait for them.
        if (status === 'held') await events.record(trx, 'comment.held', { commentId: row.id, postId: post.id, authorId: viewer.id });
        return row.id;
      });
      return load(id);
    },

    /**
     * Writes a comment brought in by an import (new, or over the one `id` names):
     * its date, status, thread and guest name as the source had them, no events
     * (years-old comments notify nobody). The body is Markdown.
     */
    async writeImported(c: ImportedComment, id?: number, on: Kysely<Database> = db): Promise<number> {
      const body = c.body.replace(/\r\n/g, '\n').trim() || '…';
      const values = {
        post_id: c.postId,
        parent_id: c.parentId,
        author_id: c.authorId,
        author_name: c.authorId === null ? c.authorName.slice(0, 100) : null,
        body,
        body_html: renderCommentMarkdown(body),
        status: c.status,
        created_at: c.createdAt,
        updated_at: c.createdAt,
        edited_at: null,
        first_published_at: c.status === 'published' ? c.createdAt : null,
      };
      if (id !== undefined) {
        await on.updateTable('comments').set(values).where('id', '=', id).execute();
        return id;
      }
      return (await on.insertInto('comments').values(values).returning('id').executeTakeFirstOrThrow()).id;
    },

    /** Whether a comment with this id still exists (an import's record may outlive it). */
    exists: async (id: number, on: Kysely<Database> = db) =>
      (await on.selectFrom('comments').select('id').where('id', '=', id).executeTakeFirst()) !== undefined,

    /** The thread under a post, as the viewer may see it. */
    async thread(viewer: CurrentUser | null, post: Pick<Post, 'id' | 'author'>): Promise<{ items: ThreadItem[]; count: number }> {
      const all = await q.commentsOfPost(db, post.id);
      const canModerate = isModerator(viewer) || (!!viewer && post.author?.id === viewer.id);
      const children = new Map<number | null, Comment[]>();
      for (const c of all) children.set(c.parentId, [...(children.get(c.parentId) ?? []), c]);
      const byId = new Map(all.map((c) => [c.id, c]));

      // Held and spam comments show only to moderators and their own author; hidden
      // and deleted ones become placeholders where replies hang from them.
      const hasVisibleReplies = (id: number): boolean => (children.get(id) ?? []).some((c) => visible(c));
      function visible(c: Comment): boolean {
        if (c.status === 'published') return true;
        if (c.status === 'held' || c.status === 'spam') return canModerate || (!!viewer && c.author?.id === viewer.id);
        if (c.status === 'hidden') return canModerate || hasVisibleReplies(c.id);
        return hasVisibleReplies(c.id); // deleted
      }

      let count = 0;
      const build = (parentId: number | null, depth: number, drawnUnder: number | null): ThreadItem[] => {
        const out: ThreadItem[] = [];
        for (const c of children.get(parentId) ?? []) {
          if (!visible(c)) continue;
          if (c.status === 'published') count += 1;
          const shown =
            c.status === 'hidden' && !canModerate
              ? { ...c, body: '', bodyHtml: '' }
              : c.status === 'deleted'
                ? { ...c, body: '', bodyHtml: '', author: null }
                : c;
          const flattened = depth > MAX_DEPTH;
          const parent = parentId !== null ? byId.get(parentId) : undefined;
          const item: ThreadItem = {
            comment: shown,
            depth: Math.min(depth, MAX_DEPTH),
            inReplyTo: flattened && parent ? { id: parent.id, name: parent.author?.displayName ?? 'a deleted comment' } : null,
            containerId: drawnUnder === null ? 'comments-root' : `replies-${drawnUnder}`,
            replies: [],
          };
          out.push(item);
          // Replies to a comment at the deepest drawn level are listed beside it, under the same parent list.
          if (depth >= MAX_DEPTH) out.push(...build(c.id, depth + 1, drawnUnder));
          else item.replies = build(c.id, depth + 1, c.id);
        }
        return out;
      };
      return { items: build(null, 0, null), count };
    },

    /** Where one published comment sits in its thread (for live clients), or null if not visible to everyone. */
    async placement(commentId: number): Promise<ThreadItem | null> {
      const c = await q.findComment(db, commentId);
      if (c?.status !== 'published') return null;
      const chain: Comment[] = [];
      let cur: Comment | undefined = c;
      while (cur?.parentId) {
        cur = await q.findComment(db, cur.parentId);
        if (cur) chain.unshift(cur);
      }
      const depth = chain.length;
      const drawnUnder = depth === 0 ? null : chain[Math.min(depth, MAX_DEPTH) - 1].id;
      const parent = chain.at(-1);
      return {
        comment: c,
        depth: Math.min(depth, MAX_DEPTH),
        replies: [],
        inReplyTo: depth > MAX_DEPTH && parent ? { id: parent.id, name: parent.author?.displayName ?? 'a deleted comment' } : null,
        containerId: drawnUnder === null ? 'comments-root' : `replies-${drawnUnder}`,
      };
    },

    get: load,

    /** Authors may edit their comment for 15 minutes; the new text is moderated like a new comment. */
    async edit(viewer: CurrentUser | null, id: number, input: CommentInput): Promise<Comment> {
      if (!viewer) throw new AppError('unauthenticated', 'Log in to edit comments');
      const c = await load(id);
      if (c.author?.id !== viewer.id) throw new AppError('forbidden', 'Only its author may edit a comment');
      if (c.status === 'deleted') throw new AppError('not_found', 'No such comment');
      if (clock.now().getTime() - Date.parse(c.createdAt) > LIMITS.editWindowMs) {
        throw new AppError('forbidden', 'Comments can be edited for 15 minutes after posting');
      }
      const { body, html } = checkBody(input.body);
      // An edit is new text: it goes through the same moderation as a new comment, so an
      // approved comment cannot be rewritten into something no moderator saw.
      const status = c.status === 'published' ? await moderated(viewer, (await posts.get(viewer, c.postId).catch(() => null))?.author?.id, id) : c.status;
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('comments').set({ body, body_html: html, status, edited_at: now(), updated_at: now() }).where('id', '=', id).execute();
        if (status === 'published') await events.record(trx, 'comment.updated', { commentId: id, postId: c.postId, authorId: viewer.id });
      });
      return load(id);
    },

    /** Deletes a comment (its author or a moderator); one with replies leaves a placeholder. */
    async remove(viewer: CurrentUser | null, id: number): Promise<Comment> {
      if (!viewer) throw new AppError('unauthenticated', 'Log in to delete comments');
      const c = await load(id);
      if (c.author?.id !== viewer.id && !isModerator(viewer)) throw new AppError('forbidden', 'Only its author or a moderator may delete a comment');
      if (await q.hasReplies(db, id)) {
        await db.updateTable('comments').set({ status: 'deleted', body: '', body_html: '', updated_at: now() }).where('id', '=', id).execute();
      } else {
        await db.deleteFrom('comments').where('id', '=', id).execute();
      }
      return c;
    },

    /** The post's author (or a moderator) hides or shows a comment under their post. */
    async setHidden(viewer: CurrentUser | null, id: number, hidden: boolean): Promise<Comment> {
      if (!viewer) throw new AppError('unauthenticated', 'Log in to moderate comments');
      const c = await load(id);
      const post = await posts.get(viewer, c.postId);
      if (post.author?.id !== viewer.id && !isModerator(viewer)) throw new AppError('forbidden', "Only the post's author or a moderator may hide comments");
      if (hidden ? c.status !== 'published' : c.status !== 'hidden')
        throw new AppError('conflict', hidden ? 'Only a published comment can be hidden' : 'That comment is not hidden');
      await db
        .updateTable('comments')
        .set({ status: hidden ? 'hidden' : 'published', updated_at: now() })
        .where('id', '=', id)
        .execute();
      return load(id);
    },

    /** How many comments wait for a moderator's approval (the header's count). */
    async heldCount(): Promise<number> {
      return q.countHeld(db);
    },

    async queue(viewer: CurrentUser | null) {
      if (!isModerator(viewer)) throw new AppError('forbidden', 'Only editors and admins moderate comments');
      return q.moderationQueue(db, 200);
    },

    /**
     * Approves a held or spam comment. The first time readers see it, it notifies as if
     * just written (comment.created); an approved edit of a comment published before is
     * comment.updated, so nobody hears of the same comment twice.
     */
    async approve(viewer: CurrentUser | null, id: number): Promise<Comment> {
      if (!isModerator(viewer)) throw new AppError('forbidden', 'Only editors and admins moderate comments');
      const c = await load(id);
      if (c.status !== 'held' && c.status !== 'spam') throw new AppError('conflict', 'That comment is not awaiting moderation');
      await db.transaction().execute(async (trx) => {
        const before = await trx.selectFrom('comments').select('first_published_at').where('id', '=', id).executeTakeFirst();
        const first = !before?.first_published_at;
        const res = await trx
          .updateTable('comments')
          .set({ status: 'published', updated_at: now(), ...(first ? { first_published_at: now() } : {}) })
          .where('id', '=', id)
          .where('status', 'in', ['held', 'spam'])
          .executeTakeFirst();
        // Two moderators at once: the second approval changed nothing and announces nothing.
        if (Number(res.numUpdatedRows) !== 1) return;
        const authorId = c.author?.id ?? null;
        if (first) await publishedEvent(trx, { id, postId: c.postId, parentId: c.parentId, authorId });
        else await events.record(trx, 'comment.updated', { commentId: id, postId: c.postId, authorId });
      });
      return load(id);
    },

    /** A comment by id, or undefined; `on` is the caller's transaction (an event subscriber reads through it). */
    byId: (id: number, on: Kysely<Database> = db) => q.findComment(on, id),

    /** The export's comments, every status, a page at a time after an id (the archive's "comments"). */
    async exportPage(after: number, limit: number) {
      const rows = await db.selectFrom('comments').selectAll().where('id', '>', after).orderBy('id').limit(limit).execute();
      return rows.map((c) => ({
        id: c.id,
        postId: c.post_id,
        parentId: c.parent_id,
        authorId: c.author_id,
        authorName: c.author_name,
        body: c.body,
        status: c.status,
        createdAt: c.created_at,
      }));
    },

    async markSpam(viewer: CurrentUser | null, id: number): Promise<void> {
      if (!isModerator(viewer)) throw new AppError('forbidden', 'Only editors and admins moderate comments');
      await load(id);
      await db.updateTable('comments').set({ status: 'spam', updated_at: now() }).where('id', '=', id).execute();
    },

    /** Bans a commenter: they can no longer comment, and what they have waiting becomes spam. */
    async banAuthorOf(viewer: CurrentUser | null, id: number): Promise<void> {
      if (!isModerator(viewer)) throw new AppError('forbidden', 'Only editors and admins moderate comments');
      const c = await load(id);
      if (!c.author) throw new AppError('conflict', 'That comment has no author to ban');
      if (c.author.id === viewer!.id) throw new AppError('conflict', 'You cannot ban yourself');
      await db.transaction().execute(async (trx) => {
        await accounts.banFromComments(trx, c.author!.id);
        await trx
          .updateTable('comments')
          .set({ status: 'spam', updated_at: now() })
          .where('author_id', '=', c.author!.id)
          .where('status', '=', 'held')
          .execute();
      });
    },
  };
  return service;
}

export type CommentsService = ReturnType<typeof createCommentsService>;
