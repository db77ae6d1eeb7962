import type { Kysely, Transaction } from 'kysely';
import type { CommentStatus, Database } from '../../platform/db/schema.ts';
import { preparedQuery } from '../../platform/db/prepared.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** A comment as the rest of the app sees it. */
export interface Comment {
  id: number;
  postId: number;
  parentId: number | null;
  author: { id: number; username: string; displayName: string } | null;
  /** The commenter's avatar address (an upload or any http(s) image); null without one. */
  authorAvatarUrl: string | null;
  /** The name a guest commenter gave (imported comments); null for members. */
  authorName: string | null;
  body: string;
  bodyHtml: string;
  status: CommentStatus;
  createdAt: string;
  updatedAt: string;
  editedAt: string | null;
}

function base(db: Db) {
  return db
    .selectFrom('comments')
    .leftJoin('users', 'users.id', 'comments.author_id')
    .select([
      'comments.id',
      'comments.post_id',
      'comments.parent_id',
      'comments.author_id',
      'comments.body',
      'comments.body_html',
      'comments.status',
      'comments.created_at',
      'comments.updated_at',
      'comments.edited_at',
      'comments.author_name',
      'users.username',
      'users.display_name',
      'users.avatar_url',
    ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof base>['executeTakeFirstOrThrow']>>;

function toComment(r: Row): Comment {
  return {
    id: r.id,
    postId: r.post_id,
    parentId: r.parent_id,
    author: r.author_id !== null && r.username !== null ? { id: r.author_id, username: r.username, displayName: r.display_name ?? r.username } : null,
    authorAvatarUrl: r.author_id !== null ? (r.avatar_url ?? null) : null,
    authorName: r.author_name,
    body: r.body,
    bodyHtml: r.body_html,
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    editedAt: r.edited_at,
  };
}

export const MAX_THREAD = 2000;

// On every post page: built and compiled once.
const threadQuery = preparedQuery((db: Db, s: { postId: number }) =>
  base(db).where('comments.post_id', '=', s.postId).orderBy('comments.id').limit(MAX_THREAD),
);

/** Every comment of a post, oldest first (the thread is built from parent ids). */
export async function commentsOfPost(db: Db, postId: number): Promise<Comment[]> {
  return (await threadQuery(db, { postId })).rows.map(toComment);
}

export async function findComment(db: Db, id: number): Promise<Comment | undefined> {
  const row = await base(db).where('comments.id', '=', id).executeTakeFirst();
  return row && toComment(row);
}

export async function hasReplies(db: Db, id: number): Promise<boolean> {
  return !!(await db.selectFrom('comments').select('id').where('parent_id', '=', id).limit(1).executeTakeFirst());
}

/** Comments held for approval on posts outside the trash. */
export async function countHeld(db: Db): Promise<number> {
  const row = await db
    .selectFrom('comments')
    .innerJoin('posts', 'posts.id', 'comments.post_id')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('comments.status', '=', 'held')
    .where('posts.deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Comments awaiting a moderator (held or marked spam), oldest first, with their post. */
export async function moderationQueue(db: Db, limit: number) {
  const rows = await base(db)
    .innerJoin('posts', 'posts.id', 'comments.post_id')
    .select(['posts.slug as post_slug', 'posts.title as post_title'])
    .where('comments.status', 'in', ['held', 'spam'])
    .where('posts.deleted_at', 'is', null)
    .orderBy('comments.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...toComment(r), post: { slug: r.post_slug, title: r.post_title } }));
}

export async function countRecentBy(db: Db, userId: number, since: string): Promise<number> {
  const row = await db
    .selectFrom('comments')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('author_id', '=', userId)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function hasPublishedComment(db: Db, userId: number, exceptId?: number): Promise<boolean> {
  return !!(await db
    .selectFrom('comments')
    .select('id')
    .where('author_id', '=', userId)
    .where('status', '=', 'published')
    .$if(exceptId !== undefined, (qb) => qb.where('id', '!=', exceptId!))
    .limit(1)
    .executeTakeFirst());
}
