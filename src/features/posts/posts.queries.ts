import type { ExpressionBuilder, Insertable, Kysely, Transaction } from 'kysely';
import type { Database, PostStatus } from '../../platform/db/schema.ts';
import type { Cursor } from '../../lib/cursor.ts';
import { preparedQuery } from '../../platform/db/prepared.ts';

/** A post as the rest of the app sees it. */
export interface Post {
  id: number;
  slug: string;
  title: string;
  body: string;
  bodyHtml: string;
  excerpt: string;
  customExcerpt: string | null;
  /** 'scheduled' is a draft with a publication time: it goes live by itself then. */
  status: PostStatus | 'scheduled';
  author: { id: number; username: string; displayName: string } | null;
  tags: { name: string; slug: string }[];
  /** How many people favourited (liked) the post. */
  favoritesCount: number;
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
  /** When the post went to the trash; null for a post that is not in it. */
  deletedAt: string | null;
  /** The featured image (an uploaded image's id) and its alt text ('' means the image's own). */
  featureImage: { id: string; alt: string } | null;
  /** Minutes to read the body (at least 1), from its stored word count. */
  readingMinutes: number;
}

/** Words a minute of an adult reading on a screen: the usual figure for reading-time estimates. */
export const WORDS_PER_MINUTE = 230;

/** The words of a body's text (rendered HTML), as counted for the reading time. */
export function countWords(bodyHtml: string): number {
  const text = bodyHtml
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&[a-z0-9#]+;/gi, ' ');
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

/** Minutes to read so many words, rounded, at least one. */
export function readingMinutes(words: number): number {
  return Math.max(1, Math.round(words / WORDS_PER_MINUTE));
}

type Db = Kysely<Database> | Transaction<Database>;

export interface ListFilter {
  /** 'published' lists by published date; anything else by creation date. */
  status: PostStatus | 'all';
  /** Restricts to one author's posts (a writer's own drafts, an author filter). */
  authorId?: number;
  authorUsername?: string;
  tagSlug?: string;
  /** Only published posts, plus drafts by this author (an author's view of "all"). */
  draftsOnlyBy?: number;
  /** Only posts by people this user follows (the personal feed). */
  followedBy?: number;
  /** Only posts this user favourited. */
  favoritedByUsername?: string;
  /** Leave out posts without an author (the seeded welcome post, deleted accounts' posts). */
  withAuthor?: boolean;
  before?: Cursor;
  limit: number;
  /** Leave out body and bodyHtml (returned empty): lists that show excerpts read far less. */
  summary?: boolean;
  /** Only posts in the trash (every other list leaves them out), newest deletion first. */
  trashed?: boolean;
}

function basePostQuery(db: Db, summary = false) {
  const q = db
    .selectFrom('posts')
    .leftJoin('users', 'users.id', 'posts.author_id')
    .select([
      'posts.id',
      'posts.slug',
      'posts.title',
      'posts.excerpt',
      'posts.custom_excerpt',
      'posts.status',
      'posts.created_at',
      'posts.updated_at',
      'posts.published_at',
      'posts.author_id',
      'posts.publish_at',
      'posts.deleted_at',
      'posts.feature_image',
      'posts.feature_image_alt',
      'posts.word_count',
      'users.username',
      'users.display_name',
      (eb) =>
        eb
          .selectFrom('favorites')
          .select((f) => f.fn.countAll<number | string>().as('n'))
          .whereRef('favorites.post_id', '=', 'posts.id')
          .as('favorites_count'),
    ]);
  // Bodies are most of a row's bytes; measured, reading them was the front page's largest cost.
  return summary ? q.select((eb) => [eb.val('').as('body'), eb.val('').as('body_html')]) : q.select(['posts.body', 'posts.body_html']);
}

type Row = Awaited<ReturnType<ReturnType<typeof basePostQuery>['executeTakeFirstOrThrow']>>;

/** Maps a posts row (with its author's name and favourite count) to a Post. */
export function toPost(row: Row, tags: Post['tags']): Post {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    body: row.body,
    bodyHtml: row.body_html,
    excerpt: row.excerpt,
    customExcerpt: row.custom_excerpt,
    status: row.status === 'draft' && row.publish_at ? 'scheduled' : row.status,
    author:
      row.author_id !== null && row.username !== null ? { id: row.author_id, username: row.username, displayName: row.display_name ?? row.username } : null,
    tags,
    // PostgreSQL counts in bigint, which pg hands over as a string.
    favoritesCount: Number(row.favorites_count ?? 0),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    publishedAt: row.publish_at ?? row.published_at,
    deletedAt: row.deleted_at ?? null,
    featureImage: row.feature_image ? { id: row.feature_image, alt: row.feature_image_alt } : null,
    readingMinutes: readingMinutes(row.word_count),
  };
}

// One compiled query per length of the id list (a page has 1 or 20 or so).
// The values are the id list itself: slot i is ids[i].
const tagsQuery = preparedQuery((db: Db, s: Record<string, number>, shape) =>
  db
    .selectFrom('post_tags')
    .innerJoin('tags', 'tags.id', 'post_tags.tag_id')
    .select(['post_tags.post_id', 'tags.name', 'tags.slug'])
    .where(
      'post_tags.post_id',
      'in',
      Array.from({ length: Number(shape) }, (_, i) => s[i]),
    )
    .orderBy('tags.name'),
);

async function tagsFor(db: Db, postIds: number[]): Promise<Map<number, Post['tags']>> {
  const byPost = new Map<number, Post['tags']>();
  if (postIds.length === 0) return byPost;
  const { rows } = await tagsQuery(db, postIds as unknown as Record<string, number>, String(postIds.length));
  for (const r of rows) {
    const list = byPost.get(r.post_id);
    if (list) list.push({ name: r.name, slug: r.slug });
    else byPost.set(r.post_id, [{ name: r.name, slug: r.slug }]);
  }
  return byPost;
}

// A post by id or slug; one compiled query for each.
const byIdQuery = preparedQuery((db: Db, s: { id: number }, shape) => {
  const q = basePostQuery(db).where('posts.id', '=', s.id);
  return shape === 'trashed' ? q : q.where('posts.deleted_at', 'is', null);
});
const bySlugQuery = preparedQuery((db: Db, s: { slug: string }) => basePostQuery(db).where('posts.slug', '=', s.slug).where('posts.deleted_at', 'is', null));

/** A post by id; a trashed one only when `withTrashed` (restoring, purging). */
export async function findPostById(db: Db, id: number, withTrashed = false): Promise<Post | undefined> {
  const row = (await byIdQuery(db, { id }, withTrashed ? 'trashed' : '')).rows[0];
  return row && toPost(row, (await tagsFor(db, [row.id])).get(row.id) ?? []);
}

export async function findPostBySlug(db: Db, slug: string): Promise<Post | undefined> {
  const row = (await bySlugQuery(db, { slug })).rows[0];
  return row && toPost(row, (await tagsFor(db, [row.id])).get(row.id) ?? []);
}

/** Posts by id (any status; callers filter), keyed by id. */
export async function findPostsByIds(db: Db, ids: number[], summary = false): Promise<Map<number, Post>> {
  const out = new Map<number, Post>();
  if (ids.length === 0) return out;
  const rows = await basePostQuery(db, summary).where('posts.id', 'in', ids).where('posts.deleted_at', 'is', null).execute();
  const tags = await tagsFor(
    db,
    rows.map((r) => r.id),
  );
  for (const r of rows) out.set(r.id, toPost(r, tags.get(r.id) ?? []));
  return out;
}

// The WHERE clauses every kind of list shares.
function filtered(db: Db, f: Omit<ListFilter, 'before' | 'limit'>, summary?: boolean) {
  // The trash is its own list; every other list leaves it out.
  let q = basePostQuery(db, summary).where('posts.deleted_at', f.trashed ? 'is not' : 'is', null);
  if (f.status !== 'all') q = q.where('posts.status', '=', f.status);
  if (f.authorId !== undefined) q = q.where('posts.author_id', '=', f.authorId);
  if (f.authorUsername !== undefined) q = q.where('users.username', '=', f.authorUsername);
  if (f.withAuthor) q = q.where('posts.author_id', 'is not', null);
  if (f.draftsOnlyBy !== undefined) {
    const me = f.draftsOnlyBy;
    q = q.where((eb) => eb.or([eb('posts.status', '=', 'published'), eb('posts.author_id', '=', me)]));
  }
  if (f.tagSlug !== undefined) {
    const tag = f.tagSlug;
    // Tested post by post while the list walks posts_status_published_live, newest first,
    // so a page reads only the index and the tag's (post_id, tag_id) key until it has
    // its rows (0.25 ms at 100,000 posts); `post_id in (the tag's posts)` built the
    // whole list first (0.5–0.9 ms), and after ANALYZE sorted every tagged post (21 ms).
    // The LIMIT keeps SQLite (3.5x) from turning the EXISTS into a join placed after
    // the users join, which reads every passed post's row (1.8 ms).
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('post_tags')
          .select('post_tags.post_id')
          .whereRef('post_tags.post_id', '=', 'posts.id')
          .where('post_tags.tag_id', '=', (eb) => eb.selectFrom('tags').select('tags.id').where('tags.slug', '=', tag))
          .limit(1),
      ),
    );
  }
  if (f.followedBy !== undefined) {
    const me = f.followedBy;
    q = q.where('posts.author_id', 'in', (eb) => eb.selectFrom('follows').select('follows.followee_id').where('follows.follower_id', '=', me));
  }
  if (f.favoritedByUsername !== undefined) {
    const name = f.favoritedByUsername;
    q = q.where('posts.id', 'in', (eb) =>
      eb.selectFrom('favorites').innerJoin('users as fan', 'fan.id', 'favorites.user_id').select('favorites.post_id').where('fan.username', '=', name),
    );
  }
  return q;
}

const sortColumn = (f: { status: ListFilter['status']; trashed?: boolean }) =>
  f.trashed ? 'posts.deleted_at' : f.status === 'published' ? 'posts.published_at' : 'posts.created_at';

async function withTags(db: Db, rows: Row[]): Promise<Post[]> {
  const tags = await tagsFor(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => toPost(r, tags.get(r.id) ?? []));
}

// What decides a list query's SQL (each combination is compiled once); every
// other part of a ListFilter is a value.
type ListShape = {
  status: 'all' | 'one';
  sort: ReturnType<typeof sortColumn>;
  summary: boolean;
  trashed: boolean;
  before: boolean;
  withAuthor: boolean;
} & { [K in 'authorId' | 'authorUsername' | 'draftsOnlyBy' | 'tagSlug' | 'followedBy' | 'favoritedByUsername']: boolean };
type ListValues = Pick<ListFilter, 'authorId' | 'authorUsername' | 'draftsOnlyBy' | 'tagSlug' | 'followedBy' | 'favoritedByUsername'> & {
  status?: PostStatus;
  at?: string;
  id?: number;
  limit: number;
};

const listQuery = preparedQuery((db: Db, s: ListValues, shape) => {
  const k = JSON.parse(shape) as ListShape;
  const f: Omit<ListFilter, 'before' | 'limit'> = {
    status: k.status === 'all' ? 'all' : s.status!,
    trashed: k.trashed,
    withAuthor: k.withAuthor,
    authorId: k.authorId ? s.authorId : undefined,
    authorUsername: k.authorUsername ? s.authorUsername : undefined,
    draftsOnlyBy: k.draftsOnlyBy ? s.draftsOnlyBy : undefined,
    tagSlug: k.tagSlug ? s.tagSlug : undefined,
    followedBy: k.followedBy ? s.followedBy : undefined,
    favoritedByUsername: k.favoritedByUsername ? s.favoritedByUsername : undefined,
  };
  let q = filtered(db, f, k.summary);
  // One row-value comparison is one index range on both engines; the same test
  // spelled with OR made SQLite walk the index from the newest post (9 ms a page
  // 95,000 posts deep, against 0.06 ms).
  if (k.before) q = q.where((eb) => eb(eb.refTuple(k.sort, 'posts.id'), '<', eb.tuple(s.at!, s.id!)));
  return q.orderBy(k.sort, 'desc').orderBy('posts.id', 'desc').limit(s.limit);
});

/** One page of posts, newest first, and whether more follow. */
export async function listPosts(db: Db, f: ListFilter): Promise<{ posts: Post[]; hasMore: boolean }> {
  const shape: ListShape = {
    status: f.status === 'all' ? 'all' : 'one',
    sort: sortColumn(f),
    summary: !!f.summary,
    trashed: !!f.trashed,
    before: !!f.before,
    withAuthor: !!f.withAuthor,
    authorId: f.authorId !== undefined,
    authorUsername: f.authorUsername !== undefined,
    draftsOnlyBy: f.draftsOnlyBy !== undefined,
    tagSlug: f.tagSlug !== undefined,
    followedBy: f.followedBy !== undefined,
    favoritedByUsername: f.favoritedByUsername !== undefined,
  };
  const values: ListValues = {
    status: f.status === 'all' ? undefined : f.status,
    authorId: f.authorId,
    authorUsername: f.authorUsername,
    draftsOnlyBy: f.draftsOnlyBy,
    tagSlug: f.tagSlug,
    followedBy: f.followedBy,
    favoritedByUsername: f.favoritedByUsername,
    at: f.before?.at,
    id: f.before?.id,
    limit: f.limit + 1,
  };
  const { rows } = await listQuery(db, values, JSON.stringify(shape));
  return { posts: await withTags(db, rows.slice(0, f.limit)), hasMore: rows.length > f.limit };
}

/**
 * A page by offset, with the total count: for clients that page by number
 * (the RealWorld API). Cursor lists (listPosts) stay fast however deep they go.
 */
export async function listPostsByOffset(db: Db, f: Omit<ListFilter, 'before'>, offset: number): Promise<{ posts: Post[]; total: number }> {
  const sortCol = sortColumn(f);
  const rows = await filtered(db, f, f.summary).orderBy(sortCol, 'desc').orderBy('posts.id', 'desc').limit(f.limit).offset(offset).execute();
  const counted = await filtered(db, f)
    .clearSelect()
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return { posts: await withTags(db, rows), total: Number(counted.n) };
}

/** Which of these posts the user favourited. */
export async function favoritedAmong(db: Db, userId: number, postIds: number[]): Promise<Set<number>> {
  if (postIds.length === 0) return new Set();
  const rows = await db.selectFrom('favorites').select('post_id').where('user_id', '=', userId).where('post_id', 'in', postIds).execute();
  return new Set(rows.map((r) => r.post_id));
}

// A tag is public once a published post outside the trash carries it: tags used
// only by drafts, scheduled or trashed posts would give away what is being
// written, or what was taken down.
const onPublishedPost = (eb: ExpressionBuilder<Database, 'tags'>) =>
  eb.exists(
    eb
      .selectFrom('post_tags')
      .innerJoin('posts', 'posts.id', 'post_tags.post_id')
      .select('post_tags.post_id')
      .whereRef('post_tags.tag_id', '=', 'tags.id')
      .where('posts.status', '=', 'published')
      .where('posts.deleted_at', 'is', null),
  );

/** Tags on at least one published post, by name. */
export async function allTags(db: Db): Promise<{ name: string; slug: string }[]> {
  return db.selectFrom('tags').select(['name', 'slug']).where(onPublishedPost).orderBy('name').orderBy('slug').execute();
}

/** Slugs equal to `base` or `base-N`, to pick the next free one. */
export async function slugsLike(db: Db, base: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('posts')
    .select('slug')
    .where((eb) => eb.or([eb('slug', '=', base), eb('slug', 'like', `${base}-%`)]))
    .execute();
  return new Set(rows.map((r) => r.slug));
}

// A post's tags are written with every post: these are compiled once per number of tags.
const range = (n: string) => Array.from({ length: Number(n) }, (_, i) => i);
const insertTagsQuery = preparedQuery((db: Db, s: Record<string, string>, n) =>
  db
    .insertInto('tags')
    .values(range(n).map((i) => ({ name: s[`n${i}`], slug: s[`s${i}`], created_at: s.now })))
    .onConflict((oc) => oc.column('slug').doNothing()),
);
const tagsBySlugQuery = preparedQuery((db: Db, s: Record<string, string>, n) =>
  db
    .selectFrom('tags')
    .select(['id', 'name', 'slug'])
    .where(
      'slug',
      'in',
      range(n).map((i) => s[`s${i}`]),
    )
    .orderBy('name'),
);
const insertPostTagsQuery = preparedQuery((db: Db, s: Record<string, number>, n) =>
  db.insertInto('post_tags').values(range(n).map((i) => ({ post_id: s.post, tag_id: s[`t${i}`] }))),
);

/**
 * Replaces a post's tags, creating tags that don't exist yet. Returns the stored
 * tags (an existing tag keeps its name) ordered by name, as a Post lists them.
 * `fresh`: the post was inserted in this transaction, so it has no tags to delete.
 */
export async function setPostTags(db: Db, postId: number, tags: { name: string; slug: string }[], now: string, fresh = false): Promise<Post['tags']> {
  if (!fresh) await db.deleteFrom('post_tags').where('post_id', '=', postId).execute();
  if (tags.length === 0) return [];
  const named: Record<string, string> = { now };
  tags.forEach((t, i) => {
    named[`n${i}`] = t.name;
    named[`s${i}`] = t.slug;
  });
  await insertTagsQuery(db, named, String(tags.length));
  const { rows } = await tagsBySlugQuery(db, named, String(tags.length));
  const ids: Record<string, number> = { post: postId };
  rows.forEach((t, i) => {
    ids[`t${i}`] = t.id;
  });
  await insertPostTagsQuery(db, ids, String(rows.length));
  return rows.map((t) => ({ name: t.name, slug: t.slug }));
}

/** Inserts a post row (every column given) and returns its id; compiled once: every new post runs it. */
export const insertPost = preparedQuery((db: Db, s: Required<Omit<Insertable<Database['posts']>, 'id'>>) =>
  db
    .insertInto('posts')
    .values({
      author_id: s.author_id,
      title: s.title,
      slug: s.slug,
      body: s.body,
      body_html: s.body_html,
      custom_excerpt: s.custom_excerpt,
      excerpt: s.excerpt,
      status: s.status,
      created_at: s.created_at,
      updated_at: s.updated_at,
      published_at: s.published_at,
      deleted_at: s.deleted_at,
      publish_at: s.publish_at,
      feature_image: s.feature_image,
      feature_image_alt: s.feature_image_alt,
      word_count: s.word_count,
    })
    .returning('id'),
);

export async function findTagBySlug(db: Db, slug: string): Promise<{ name: string; slug: string } | undefined> {
  return db.selectFrom('tags').select(['name', 'slug']).where('slug', '=', slug).where(onPublishedPost).executeTakeFirst();
}

/** Slugs and change dates of published posts, newest first (for the sitemap). */
export async function publishedSlugs(db: Db, limit: number): Promise<{ slug: string; updated_at: string }[]> {
  return db
    .selectFrom('posts')
    .select(['slug', 'updated_at'])
    .where('status', '=', 'published')
    .where('deleted_at', 'is', null)
    .orderBy('published_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

// ---- Authorship, for the accounts feature (through index.ts) ---------------

/** The first admin adopts the posts the blog was seeded with (those without an author). */
export async function adoptAuthorlessPosts(trx: Db, adminId: number): Promise<void> {
  await trx.updateTable('posts').set({ author_id: adminId }).where('author_id', 'is', null).execute();
}

/**
 * An account is deleted: its drafts go with it, its published and scheduled posts
 * stay on the blog without an author (links keep working). In the caller's transaction.
 */
export async function releaseAuthorsPosts(trx: Db, userId: number): Promise<void> {
  await trx.deleteFrom('posts').where('author_id', '=', userId).where('status', '=', 'draft').execute();
  await trx.updateTable('posts').set({ author_id: null }).where('author_id', '=', userId).execute();
}
