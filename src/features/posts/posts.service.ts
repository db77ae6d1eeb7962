import type { Kysely } from 'kysely';
import type { Database, PostStatus } from '../../platform/db/schema.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { AppError, assertValid, type FieldError } from '../../platform/errors.ts';
import type { CurrentUser } from '../../platform/http/sessions.ts';
import type { EventCatalogue, Events } from '../../platform/events/index.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Cursor } from '../../lib/cursor.ts';
import { excerptOf, htmlToText, renderMarkdown } from '../../lib/markdown.ts';
import { nonXmlCharProblem } from '../../lib/xml.ts';
import { normalizeSlug, SLUG_MESSAGE, SLUG_PATTERN, slugify } from '../../lib/slugify.ts';
import { hashToken, randomToken } from '../../lib/secrets.ts';
import { MAX_OFFSET, reindexPost, searchPublished, searchTerms } from './search/index.ts';
import * as q from './posts.queries.ts';
import type { Post } from './posts.queries.ts';
import type { PostImagesPort } from './posts.images.ts';
import { canCreatePost, canEditPost, canManageAllPosts, canViewPost } from './posts.policy.ts';

/** What a writer sends, as the command schemas (posts.schema.ts) passed it; which fields are there depends on the command. */
export interface PostInput {
  title?: string;
  slug?: string;
  body?: string;
  excerpt?: string | null;
  status?: PostStatus | 'scheduled';
  /** With status "scheduled": when the post goes live (ISO 8601, in the future). With "published", from editors and admins: a past publication date. */
  publishedAt?: string | null;
  /** Tag names (a form's comma-separated text is split by the schema's coercion). */
  tags?: string[];
  /** The featured image's id (an uploaded image); null or '' for none. */
  featureImage?: string | null;
  featureImageAlt?: string | null;
}

/** How long a deleted post stays restorable in the trash before the purge removes it. */
export const TRASH_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
/** What a trashed post's slug gets, so its address is free for a new post ("hello__trashed", "hello__trashed-2"). */
const TRASHED = '__trashed';
const TRASHED_SUFFIX = /__trashed(-\d+)?$/;

export const LIMITS = { title: 200, slug: 100, body: 100_000, excerpt: 500, tags: 10, tag: 40, featureImageAlt: 1000 };
// Paths under /posts/ that are pages of their own, so never a post's slug.
const RESERVED_SLUGS = new Set(['new']);

interface Normalized {
  title?: string;
  slug?: string;
  body?: string;
  excerpt?: string | null;
  status?: PostStatus;
  /** Set for a scheduled post (status stays draft until then). */
  publishAt?: string | null;
  /** A past publication date given with status published (only editors and admins may set it). */
  backdate?: string;
  tags?: { name: string; slug: string }[];
  featureImage?: string | null;
  featureImageAlt?: string;
}

const INSTANT = /^(\d{4})-(\d\d)-(\d\d)T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i;

/** An ISO 8601 instant with its zone, on a real calendar day, in ms; NaN otherwise (a zoneless time would be read in the server's zone). */
function instantMs(v: unknown): number {
  const m = typeof v === 'string' ? INSTANT.exec(v) : null;
  if (!m) return NaN;
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (day.getUTCMonth() !== Number(m[2]) - 1 || day.getUTCDate() !== Number(m[3])) return NaN;
  return Date.parse(v as string);
}

/**
 * Normalizes input the command schemas (posts.schema.ts) have already checked
 * (types, presence, lengths, blank text, the status's values), and applies the
 * rules a schema cannot say: characters feeds cannot carry, the slug's form,
 * tags by their URL names, a schedule in the future.
 */
export function validatePostInput(input: PostInput, now = new Date()): Normalized {
  const errors: FieldError[] = [];
  const out: Normalized = {};
  const err = (field: string, message: string) => errors.push({ field, message });

  // Checked on the text as given: trimming or splitting could hide a control character.
  const bad = new Set<string>();
  for (const f of ['title', 'slug', 'body', 'excerpt'] as const) {
    const problem = nonXmlCharProblem(input[f]);
    if (problem) {
      err(f, problem);
      bad.add(f);
    }
  }
  for (const tag of input.tags ?? []) {
    const problem = nonXmlCharProblem(tag);
    if (problem && !bad.has('tags')) {
      err('tags', problem);
      bad.add('tags');
    }
  }
  if (typeof input.title === 'string' && !bad.has('title')) out.title = input.title.trim();
  if (typeof input.slug === 'string' && input.slug.trim() !== '' && !bad.has('slug')) {
    const slug = normalizeSlug(input.slug);
    // The schema has checked the form; lowercasing may still make what is no slug (a titlecase letter).
    if (!SLUG_PATTERN.test(slug)) err('slug', SLUG_MESSAGE);
    else if (RESERVED_SLUGS.has(slug)) err('slug', `"${slug}" is reserved; choose another`);
    out.slug = slug;
  }
  if (typeof input.body === 'string' && !bad.has('body')) out.body = input.body.replace(/\r\n/g, '\n');
  if (input.excerpt !== undefined && !bad.has('excerpt')) out.excerpt = (typeof input.excerpt === 'string' ? input.excerpt.trim() : '') || null;
  if (input.status !== undefined) {
    if (input.status === 'scheduled') {
      const at = instantMs(input.publishedAt);
      if (Number.isNaN(at)) err('publishedAt', 'is required for a scheduled post: a date and time like 2026-12-01T09:00:00Z');
      else if (at <= now.getTime()) err('publishedAt', 'must be in the future for a scheduled post');
      else {
        out.status = 'draft';
        out.publishAt = new Date(at).toISOString();
      }
    } else if (input.status === 'published' && typeof input.publishedAt === 'string') {
      // A moved-in post keeps its date; a future one would go live now under a false date.
      const at = instantMs(input.publishedAt);
      if (Number.isNaN(at)) err('publishedAt', 'must be a date and time like 2019-05-06T09:00:00Z');
      else if (at > now.getTime()) err('publishedAt', 'must be in the past for a published post; use status "scheduled" for a future date');
      else {
        out.status = 'published';
        out.publishAt = null;
        out.backdate = new Date(at).toISOString();
      }
    } else {
      out.status = input.status;
      out.publishAt = null;
    }
  }
  if (input.tags !== undefined && !bad.has('tags')) {
    const names = input.tags.map((t) => t.trim().replace(/\s+/g, ' ')).filter(Boolean);
    const tags = new Map<string, { name: string; slug: string }>();
    for (const name of names) {
      const slug = slugify(name, LIMITS.tag);
      if (!slug) err('tags', `"${name}" needs at least one letter or digit`);
      else if (!tags.has(slug)) tags.set(slug, { name, slug });
    }
    out.tags = [...tags.values()];
  }
  if (input.featureImage !== undefined) {
    const id = typeof input.featureImage === 'string' ? input.featureImage.trim() : input.featureImage;
    if (id === null || id === '') out.featureImage = null;
    else if (typeof id !== 'string' || !/^[A-Za-z0-9]{1,40}$/.test(id)) err('featureImage', 'must be the id of an uploaded image');
    else out.featureImage = id;
  }
  if (input.featureImageAlt !== undefined) {
    const alt = typeof input.featureImageAlt === 'string' ? input.featureImageAlt.trim() : '';
    const problem = nonXmlCharProblem(alt);
    if (problem) err('featureImageAlt', problem);
    else out.featureImageAlt = alt;
  }
  assertValid(errors);
  return out;
}

export interface ListOptions {
  status?: PostStatus | 'all' | 'trashed';
  tag?: string;
  author?: string;
  /** Only posts by the people this user follows (the personal feed). */
  followedBy?: number;
  /** Only posts favourited by the person with this username. */
  favoritedBy?: string;
  /** Leave out posts without an author. */
  withAuthor?: boolean;
  before?: Cursor;
  limit: number;
  /** Without body and bodyHtml (lists that show excerpts). */
  summary?: boolean;
}

export interface SearchOptions {
  limit: number;
  /** Results to skip (relevance has no keyset); at most MAX_OFFSET. */
  offset: number;
  tag?: string;
  author?: string;
  /** Without body and bodyHtml. */
  summary?: boolean;
}

/** A search result: the post, and a snippet of its body with the matches in <mark> (safe HTML). */
export type SearchResult = Post & { highlight: string };

// Only editors and admins may say a post was published earlier than it was (imports through the API).
// A client that sends back the date the post already has (a whole post round-tripped) changes nothing.
function assertMayBackdate(viewer: CurrentUser, v: Normalized, current: string | null = null): void {
  if (v.backdate && v.backdate !== current && !canManageAllPosts(viewer)) {
    throw new AppError('forbidden', 'Only editors and admins may set a past publication date', [
      { field: 'publishedAt', message: 'may be set in the past only by editors and admins' },
    ]);
  }
}

/** A post as an import writes it: the source's dates, status and author, no events. */
export interface ImportedPost {
  authorId: number | null;
  title: string;
  slug: string;
  body: string;
  excerpt: string | null;
  status: PostStatus | 'scheduled';
  createdAt: string;
  updatedAt: string;
  /** Publication date (published) or go-live time (scheduled). */
  publishedAt: string | null;
  tags: string[];
  /** A media id (a restored export's featured image); left as it is when absent. */
  featureImage?: string | null;
  featureImageAlt?: string;
}

// Unverified accounts may write drafts; publishing waits for a confirmed address.
function assertMayPublish(viewer: CurrentUser, status: PostStatus): void {
  if (status === 'published' && !viewer.verified) {
    throw new AppError('email_unverified', 'Verify your email address to publish; you can save this as a draft meanwhile');
  }
}

/** Blog posts: reading (with visibility rules), writing (with ownership rules). */
export function createPostsService(deps: { db: Kysely<Database>; clock: Clock; events?: Events; images?: PostImagesPort }) {
  const { db, clock, events } = deps;
  /** A featured image must be one of ours (checked where images live; refused if none are stored). */
  async function checkFeatureImage(v: Normalized): Promise<void> {
    if (!v.featureImage) return;
    const images = deps.images?.get();
    if (!images || !(await images.exists(v.featureImage))) {
      throw new AppError('validation_failed', 'The featured image was not found', [{ field: 'featureImage', message: 'is not an uploaded image' }]);
    }
  }
  // Events travel with the change (post.published, post.updated, post.unpublished, post.deleted).
  const record = async <K extends 'post.published' | 'post.updated' | 'post.unpublished' | 'post.deleted' | 'post.slug_changed'>(
    trx: Parameters<Events['record']>[0],
    type: K,
    payload: EventCatalogue[K],
  ) => {
    if (events) await events.record(trx, type, payload);
  };

  async function findVisible(viewer: CurrentUser | null, idOrSlug: string | number): Promise<Post> {
    // Ids are 32-bit on PostgreSQL; longer digit strings can only be slugs.
    const post =
      typeof idOrSlug === 'number' || /^\d{1,9}$/.test(idOrSlug)
        ? ((await q.findPostById(db, Number(idOrSlug))) ?? (typeof idOrSlug === 'string' ? await q.findPostBySlug(db, idOrSlug) : undefined))
        : await q.findPostBySlug(db, idOrSlug);
    // A draft the viewer may not see is reported missing, so its existence doesn't leak.
    if (!post || !canViewPost(viewer, { authorId: post.author?.id ?? null, status: post.status })) {
      throw new AppError('not_found', 'No post with that id or slug');
    }
    return post;
  }

  async function findEditable(viewer: CurrentUser | null, idOrSlug: string | number): Promise<Post> {
    if (!viewer) throw new AppError('unauthenticated', 'Log in to change posts');
    const post = await findVisible(viewer, idOrSlug);
    if (!canEditPost(viewer, { authorId: post.author?.id ?? null, status: post.status })) {
      throw new AppError('forbidden', 'Only the author of this post, an editor or an admin may change it');
    }
    return post;
  }

  // A post by id, trashed or not, that the viewer may edit (restore, permanent delete).
  async function findInTrashOrVisible(viewer: CurrentUser | null, idOrSlug: string | number): Promise<Post> {
    if (!viewer) throw new AppError('unauthenticated', 'Log in to change posts');
    const id = typeof idOrSlug === 'number' ? idOrSlug : /^\d{1,9}$/.test(idOrSlug) ? Number(idOrSlug) : null;
    const post = id !== null ? await q.findPostById(db, id, true) : await q.findPostBySlug(db, String(idOrSlug));
    if (!post || !canEditPost(viewer, { authorId: post.author?.id ?? null, status: post.status })) {
      throw new AppError('not_found', 'No post with that id');
    }
    // Past its time the post is as good as gone, even if the purge has not run yet.
    if (post.deletedAt && Date.parse(post.deletedAt) <= clock.now().getTime() - TRASH_DAYS * DAY_MS) {
      throw new AppError('not_found', 'No post with that id');
    }
    return post;
  }

  async function freeSlug(base: string, exceptId?: number, on: Kysely<Database> = db): Promise<string> {
    const root = base || 'post';
    const taken = await q.slugsLike(on, root);
    if (exceptId !== undefined) {
      const own = await q.findPostById(on, exceptId);
      if (own) taken.delete(own.slug);
    }
    if (!taken.has(root) && !RESERVED_SLUGS.has(root)) return root;
    for (let n = 2; ; n++) if (!taken.has(`${root}-${n}`)) return `${root}-${n}`;
  }

  function derived(body: string, customExcerpt: string | null) {
    const bodyHtml = renderMarkdown(body);
    // The first paragraph reads best as an excerpt; a short one is padded out with what follows.
    const end = bodyHtml.indexOf('</p>');
    const first = htmlToText(end === -1 ? bodyHtml : bodyHtml.slice(0, end));
    return {
      body_html: bodyHtml,
      excerpt: customExcerpt ?? excerptOf(first.length >= 80 ? first : htmlToText(bodyHtml)),
      word_count: q.countWords(bodyHtml),
    };
  }

  const slugTaken = (slug: string) =>
    new AppError('slug_taken', `The slug "${slug}" is already used by another post`, [{ field: 'slug', message: 'is already used by another post' }]);

  return {
    /** One page of posts the viewer may see, and the cursor for the next page. */
    async list(viewer: CurrentUser | null, opts: ListOptions): Promise<{ posts: Post[]; nextCursor: Cursor | null }> {
      const wanted = opts.status ?? 'published';
      const trashed = wanted === 'trashed';
      const status = trashed ? 'all' : wanted;
      const filter: q.ListFilter = {
        status,
        trashed,
        tagSlug: opts.tag,
        authorUsername: opts.author,
        followedBy: opts.followedBy,
        favoritedByUsername: opts.favoritedBy,
        before: opts.before,
        limit: opts.limit,
        summary: opts.summary,
      };
      if (status !== 'published' && !canManageAllPosts(viewer)) {
        if (!viewer) throw new AppError('unauthenticated', 'Log in to list drafts');
        if (!canCreatePost(viewer)) throw new AppError('forbidden', 'Readers can list only published posts');
        if (status === 'draft' || trashed) filter.authorId = viewer.id;
        else filter.draftsOnlyBy = viewer.id;
      }
      const { posts, hasMore } = await q.listPosts(db, filter);
      const last = posts.at(-1);
      const at = last && (trashed ? last.deletedAt : status === 'published' ? last.publishedAt : last.createdAt);
      return { posts, nextCursor: hasMore && last && at ? { at, id: last.id } : null };
    },

    /** Published posts by page number, with the total (for clients that page by offset). */
    async listPage(opts: Omit<ListOptions, 'status' | 'before'> & { offset: number }): Promise<{ posts: Post[]; total: number }> {
      return q.listPostsByOffset(
        db,
        {
          status: 'published',
          tagSlug: opts.tag,
          authorUsername: opts.author,
          followedBy: opts.followedBy,
          favoritedByUsername: opts.favoritedBy,
          withAuthor: opts.withAuthor,
          limit: opts.limit,
          summary: opts.summary,
        },
        opts.offset,
      );
    },

    /** Which of these posts the user favourited. */
    favoritedAmong: (userId: number, postIds: number[]) => q.favoritedAmong(db, userId, postIds),

    /** All tags, alphabetical. */
    allTags: () => q.allTags(db),

    get: findVisible,

    /** The writer's dashboard: their own posts, or everyone's for editors and admins. */
    async dashboard(viewer: CurrentUser, before?: Cursor): Promise<{ posts: Post[]; nextCursor: Cursor | null }> {
      if (!canCreatePost(viewer)) throw new AppError('forbidden', 'Readers have no posts to manage');
      const { posts, hasMore } = await q.listPosts(db, {
        status: 'all',
        authorId: canManageAllPosts(viewer) ? undefined : viewer.id,
        before,
        limit: 50,
      });
      const last = posts.at(-1);
      return { posts, nextCursor: hasMore && last ? { at: last.createdAt, id: last.id } : null };
    },

    async create(viewer: CurrentUser | null, input: PostInput): Promise<Post> {
      if (!viewer) throw new AppError('unauthenticated', 'Log in to write posts');
      if (!canCreatePost(viewer)) throw new AppError('forbidden', 'Readers cannot write posts; ask an admin for the author role');
      const v = validatePostInput(input, clock.now());
      await checkFeatureImage(v);
      const status = v.status ?? 'draft';
      assertMayPublish(viewer, v.publishAt ? 'published' : status);
      assertMayBackdate(viewer, v);
      const now = clock.now().toISOString();
      const given = v.slug !== undefined;
      for (let attempt = 0; ; attempt++) {
        const slug = v.slug ?? (await freeSlug(slugify(v.title!)));
        try {
          const d = derived(v.body!, v.excerpt ?? null);
          const values = {
            author_id: viewer.id,
            title: v.title!,
            slug,
            body: v.body!,
            custom_excerpt: v.excerpt ?? null,
            ...d,
            status,
            created_at: now,
            updated_at: now,
            published_at: status === 'published' ? (v.backdate ?? now) : null,
            deleted_at: null,
            publish_at: v.publishAt ?? null,
            feature_image: v.featureImage ?? null,
            feature_image_alt: v.featureImage ? (v.featureImageAlt ?? '') : '',
          };
          const { id, tags } = await db.transaction().execute(async (trx) => {
            const row = (await q.insertPost(trx, values)).rows[0];
            // A new post: no tags to delete, and its search entry is made from what was just written.
            const stored = await q.setPostTags(trx, row.id, v.tags ?? [], now, true);
            await reindexPost(trx, row.id, { title: v.title!, body_html: d.body_html, status, tagNames: stored.map((t) => t.name) });
            if (status === 'published') await record(trx, 'post.published', { postId: row.id });
            return { id: row.id, tags: stored };
          });
          // The row just written, mapped as findPostById would read it back (posts.api.test.ts compares the two).
          return q.toPost({ ...values, id, username: viewer.username, display_name: viewer.displayName, favorites_count: 0 }, tags);
        } catch (e) {
          if (!isUniqueViolation(e)) throw e;
          // A given slug is the writer's choice: tell them. A derived one lost a race: pick again.
          if (given || attempt >= 3) throw slugTaken(slug);
        }
      }
    },

    /** Replaces a post (PUT): title, body and status required; absent excerpt and tags are cleared. */
    async replace(viewer: CurrentUser | null, idOrSlug: string | number, input: PostInput): Promise<Post> {
      const post = await findEditable(viewer, idOrSlug);
      const v = validatePostInput(input, clock.now());
      assertMayBackdate(viewer!, v, post.publishedAt);
      if (post.status !== 'published') assertMayPublish(viewer!, v.publishAt ? 'published' : v.status!);
      return this.update(post, { ...v, excerpt: v.excerpt ?? null, tags: v.tags ?? [] }, viewer!.id);
    },

    /** Changes only the fields given (PATCH). */
    async patch(viewer: CurrentUser | null, idOrSlug: string | number, input: PostInput): Promise<Post> {
      const post = await findEditable(viewer, idOrSlug);
      const v = validatePostInput(input, clock.now());
      assertMayBackdate(viewer!, v, post.publishedAt);
      if (v.status && post.status !== 'published') assertMayPublish(viewer!, v.publishAt ? 'published' : v.status);
      return this.update(post, v, viewer!.id);
    },

    /** Applies validated changes to a post the caller may edit. */
    async update(post: Post, v: Normalized, by: number | null = null): Promise<Post> {
      await checkFeatureImage(v);
      const now = clock.now().toISOString();
      // Absent means unchanged (also for PUT: clients that predate featured images keep them).
      const featureImage = v.featureImage !== undefined ? v.featureImage : (post.featureImage?.id ?? null);
      const featureImageAlt = featureImage ? (v.featureImageAlt ?? post.featureImage?.alt ?? '') : '';
      const body = v.body ?? post.body;
      const customExcerpt = v.excerpt !== undefined ? v.excerpt : post.customExcerpt;
      const status = v.status ?? (post.status === 'scheduled' ? 'draft' : post.status);
      const publishAt = v.publishAt !== undefined ? v.publishAt : post.status === 'scheduled' ? post.publishedAt : null;
      const slug = v.slug ?? post.slug;
      try {
        await db.transaction().execute(async (trx) => {
          // A published post keeps the version this save replaces, so its author can go back to it.
          if (post.status === 'published') {
            await trx
              .insertInto('post_revisions')
              .values({
                post_id: post.id,
                title: post.title,
                body: post.body,
                custom_excerpt: post.customExcerpt,
                tags: post.tags.map((t) => t.name).join(', '),
                saved_by: by,
                created_at: now,
              })
              .execute();
          }
          await trx
            .updateTable('posts')
            .set({
              title: v.title ?? post.title,
              slug,
              body,
              custom_excerpt: customExcerpt,
              ...derived(body, customExcerpt),
              status,
              updated_at: now,
              publish_at: status === 'draft' ? publishAt : null,
              feature_image: featureImage,
              feature_image_alt: featureImageAlt,
              // The first publication date stays, so re-publishing doesn't bump old posts to the top.
              published_at:
                status === 'published'
                  ? (v.backdate ?? (post.status === 'scheduled' ? now : (post.publishedAt ?? now)))
                  : post.status === 'scheduled'
                    ? null
                    : post.publishedAt,
            })
            .where('id', '=', post.id)
            .execute();
          if (v.tags) await q.setPostTags(trx, post.id, v.tags, now);
          await reindexPost(trx, post.id);
          if (status === 'published') await record(trx, post.status === 'published' ? 'post.updated' : 'post.published', { postId: post.id });
          // Offline again (Unpublish, or the API's status "draft"): those told it was published hear it is gone.
          else if (post.status === 'published') await record(trx, 'post.unpublished', { postId: post.id, slug: post.slug, title: post.title });
          // Readers and search engines know a published post by its address: the old one must keep working.
          if (slug !== post.slug && post.status === 'published') await record(trx, 'post.slug_changed', { postId: post.id, from: post.slug, to: slug });
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw slugTaken(slug);
        throw e;
      }
      return (await q.findPostById(db, post.id))!;
    },

    /**
     * Moves a post to the trash: hidden everywhere (lists, feeds, search, its address
     * answers 404), restorable for TRASH_DAYS days. `permanent` (admins only) removes it
     * for good at once, from the trash too. post.deleted is recorded when a published
     * post leaves the blog, once: trashing it, not the purge or a permanent delete later.
     */
    async remove(viewer: CurrentUser | null, idOrSlug: string | number, opts: { permanent?: boolean } = {}): Promise<Post> {
      if (opts.permanent) {
        if (!viewer) throw new AppError('unauthenticated', 'Log in to change posts');
        if (viewer.role !== 'admin') throw new AppError('forbidden', 'Only an admin may delete a post for good; others move it to the trash');
        const post = await findInTrashOrVisible(viewer, idOrSlug);
        await db.transaction().execute(async (trx) => {
          await trx.deleteFrom('posts').where('id', '=', post.id).execute();
          await reindexPost(trx, post.id);
          if (post.status === 'published' && !post.deletedAt) await record(trx, 'post.deleted', { postId: post.id, slug: post.slug, title: post.title });
        });
        return post;
      }
      const post = await findEditable(viewer, idOrSlug);
      const now = clock.now().toISOString();
      // The trash gives up the address (as WordPress does): "hello" becomes "hello__trashed",
      // so a new post may take it. The old address answers 404 and redirects nowhere.
      for (let attempt = 0; ; attempt++) {
        const trashedSlug = await freeSlug(`${post.slug}${TRASHED}`);
        try {
          await db.transaction().execute(async (trx) => {
            const res = await trx
              .updateTable('posts')
              .set({ deleted_at: now, slug: trashedSlug })
              .where('id', '=', post.id)
              .where('deleted_at', 'is', null)
              .executeTakeFirst();
            // Two deletes at once: the one that lost changed nothing and announces nothing.
            if (Number(res.numUpdatedRows) !== 1) return;
            // A secret preview link must not outlive the post's place on the blog.
            await trx.deleteFrom('post_previews').where('post_id', '=', post.id).execute();
            await reindexPost(trx, post.id);
            if (post.status === 'published') await record(trx, 'post.deleted', { postId: post.id, slug: post.slug, title: post.title });
          });
          return { ...post, slug: trashedSlug, deletedAt: now };
        } catch (e) {
          // Another post was trashed under the same name meanwhile: pick again.
          if (!isUniqueViolation(e) || attempt >= 3) throw e;
        }
      }
    },

    /**
     * Takes a post out of the trash, as it was (published, draft or scheduled), at its
     * old address if that is still free, else the first free one after it ("hello-2").
     */
    async restore(viewer: CurrentUser | null, id: number | string): Promise<Post> {
      const post = await findInTrashOrVisible(viewer, id);
      if (!post.deletedAt) throw new AppError('conflict', 'This post is not in the trash');
      const wanted = post.slug.replace(TRASHED_SUFFIX, '');
      for (let attempt = 0; ; attempt++) {
        const slug = wanted === post.slug ? post.slug : await freeSlug(wanted);
        try {
          await db.transaction().execute(async (trx) => {
            const res = await trx
              .updateTable('posts')
              .set({ deleted_at: null, slug })
              .where('id', '=', post.id)
              .where('deleted_at', 'is not', null)
              .executeTakeFirst();
            if (Number(res.numUpdatedRows) !== 1) return;
            await reindexPost(trx, post.id);
            if (post.status === 'published') await record(trx, 'post.published', { postId: post.id });
          });
          return (await q.findPostById(db, post.id))!;
        } catch (e) {
          // A new post took the address meanwhile: pick again.
          if (!isUniqueViolation(e) || attempt >= 3) throw e;
        }
      }
    },

    /** Removes for good the posts trashed more than TRASH_DAYS days ago, with their comments (run daily); returns how many. */
    async purgeTrash(): Promise<number> {
      const cutoff = new Date(clock.now().getTime() - TRASH_DAYS * DAY_MS).toISOString();
      // Comments, tags, favourites, previews and revisions go with the row (ON DELETE CASCADE).
      const res = await db.deleteFrom('posts').where('deleted_at', 'is not', null).where('deleted_at', '<=', cutoff).executeTakeFirst();
      return Number(res.numDeletedRows);
    },

    /** Takes a published post offline; it stays, as a draft. Never a side effect of saving. */
    async unpublish(viewer: CurrentUser | null, idOrSlug: string | number): Promise<Post> {
      const post = await findEditable(viewer, idOrSlug);
      if (post.status !== 'published') throw new AppError('conflict', 'This post is not published');
      return this.update(post, { status: 'draft', publishAt: null }, viewer!.id);
    },

    /**
     * A new secret preview link for a draft (replacing the previous one): returns the
     * token, shown once; only its hash is stored.
     */
    async createPreview(viewer: CurrentUser | null, idOrSlug: string | number): Promise<string> {
      const post = await findEditable(viewer, idOrSlug);
      if (post.status === 'published') throw new AppError('conflict', 'This post is published; share its address instead of a preview');
      const token = randomToken();
      const row = { post_id: post.id, token_hash: hashToken(token), created_by: viewer!.id, created_at: clock.now().toISOString() };
      await db
        .insertInto('post_previews')
        .values(row)
        .onConflict((oc) => oc.column('post_id').doUpdateSet({ token_hash: row.token_hash, created_by: row.created_by, created_at: row.created_at }))
        .execute();
      return token;
    },

    /** Ends the post's preview link (a no-op when there is none). */
    async revokePreview(viewer: CurrentUser | null, idOrSlug: string | number): Promise<void> {
      const post = await findEditable(viewer, idOrSlug);
      await db.deleteFrom('post_previews').where('post_id', '=', post.id).execute();
    },

    /** When the post's live preview link was made, or null. */
    async previewMadeAt(postId: number): Promise<string | null> {
      const row = await db.selectFrom('post_previews').select('created_at').where('post_id', '=', postId).executeTakeFirst();
      return row?.created_at ?? null;
    },

    /** The post a preview token shows (not trashed), or not_found. */
    async byPreview(token: string): Promise<Post> {
      const row =
        token.length <= 100 ? await db.selectFrom('post_previews').select('post_id').where('token_hash', '=', hashToken(token)).executeTakeFirst() : undefined;
      const post = row && (await q.findPostById(db, row.post_id));
      if (!post) throw new AppError('not_found', 'This preview link is not valid (any more)');
      return post;
    },

    /** The earlier versions of a post the viewer may edit, newest first (without bodies). */
    async revisions(viewer: CurrentUser | null, idOrSlug: string | number) {
      const post = await findEditable(viewer, idOrSlug);
      const rows = await db
        .selectFrom('post_revisions')
        .leftJoin('users', 'users.id', 'post_revisions.saved_by')
        .select(['post_revisions.id', 'post_revisions.title', 'post_revisions.created_at', 'users.username'])
        .where('post_id', '=', post.id)
        .orderBy('post_revisions.id', 'desc')
        .limit(200)
        .execute();
      return { post, revisions: rows.map((r) => ({ id: r.id, title: r.title, savedAt: r.created_at, savedBy: r.username })) };
    },

    /** One earlier version of a post, whole. */
    async revision(viewer: CurrentUser | null, idOrSlug: string | number, revisionId: number) {
      const post = await findEditable(viewer, idOrSlug);
      const r = await db
        .selectFrom('post_revisions')
        .leftJoin('users', 'users.id', 'post_revisions.saved_by')
        .select([
          'post_revisions.id',
          'post_revisions.title',
          'post_revisions.body',
          'post_revisions.custom_excerpt',
          'post_revisions.tags',
          'post_revisions.created_at',
          'users.username',
        ])
        .where('post_id', '=', post.id)
        .where('post_revisions.id', '=', revisionId)
        .executeTakeFirst();
      if (!r) throw new AppError('not_found', 'No revision with that id for this post');
      return {
        post,
        revision: {
          id: r.id,
          title: r.title,
          body: r.body,
          bodyHtml: renderMarkdown(r.body),
          excerpt: r.custom_excerpt,
          tags: r.tags ? r.tags.split(', ') : [],
          savedAt: r.created_at,
          savedBy: r.username,
        },
      };
    },

    /** Brings back an earlier version's title, body, excerpt and tags; the version it replaces is kept too. */
    async restoreRevision(viewer: CurrentUser | null, idOrSlug: string | number, revisionId: number): Promise<Post> {
      const { post, revision } = await this.revision(viewer, idOrSlug, revisionId);
      const v = validatePostInput({ title: revision.title, body: revision.body, excerpt: revision.excerpt, tags: revision.tags });
      return this.update(post, v, viewer!.id);
    },

    findTag: (slug: string) => q.findTagBySlug(db, slug),

    /**
     * Published posts matching a reader's query, best match first, each with a
     * highlighted snippet (safe HTML); see ./search. Throws validation_failed
     * (field q) for a query that is too long or has no words.
     */
    async search(query: string, opts: SearchOptions): Promise<{ posts: SearchResult[]; nextOffset: number | null }> {
      const { hits, hasMore } = await searchPublished(db, {
        terms: searchTerms(query),
        limit: opts.limit,
        offset: opts.offset,
        tagSlug: opts.tag,
        authorUsername: opts.author,
      });
      const found = await q.findPostsByIds(
        db,
        hits.map((h) => h.id),
        opts.summary,
      );
      const posts = hits.flatMap((h) => {
        const post = found.get(h.id);
        return post ? [{ ...post, highlight: h.highlight }] : [];
      });
      const next = opts.offset + opts.limit;
      return { posts, nextOffset: hasMore && next <= MAX_OFFSET ? next : null };
    },

    /** Published posts' slugs and change dates, newest first (for the sitemap). */
    sitemapEntries: (limit: number) => q.publishedSlugs(db, limit),

    /** Publishes scheduled posts whose time has come (run every minute); returns how many went live. */
    /** The posts whose featured image is one of these images, by image id (for "still used" checks). */
    async featureImageUses(ids: string[]): Promise<Map<string, { title: string; slug: string }[]>> {
      const out = new Map<string, { title: string; slug: string }[]>();
      if (!ids.length) return out;
      const rows = await db.selectFrom('posts').select(['feature_image', 'title', 'slug']).where('feature_image', 'in', ids).orderBy('id').execute();
      for (const r of rows) out.set(r.feature_image!, [...(out.get(r.feature_image!) ?? []), { title: r.title, slug: r.slug }]);
      return out;
    },

    async publishDue(): Promise<number> {
      const now = clock.now().toISOString();
      const due = await db
        .selectFrom('posts')
        .select(['id', 'publish_at'])
        .where('status', '=', 'draft')
        .where('publish_at', 'is not', null)
        .where('deleted_at', 'is', null)
        .where('publish_at', '<=', now)
        .execute();
      let n = 0;
      for (const p of due) {
        await db.transaction().execute(async (trx) => {
          const res = await trx
            .updateTable('posts')
            .set({ status: 'published', published_at: p.publish_at, publish_at: null, updated_at: now })
            .where('id', '=', p.id)
            .where('status', '=', 'draft')
            .where('publish_at', '=', p.publish_at)
            .where('deleted_at', 'is', null)
            .executeTakeFirst();
          if (Number(res.numUpdatedRows) === 1) {
            await reindexPost(trx, p.id);
            await record(trx, 'post.published', { postId: p.id });
            n += 1;
          }
        });
      }
      return n;
    },

    /**
     * Writes a post brought in by an import (new, or over the one `id` names):
     * the source's dates, status and author are kept as given, the slug is made
     * unique, and no events are recorded, so moving a blog in sends no webhooks
     * or notifications for years of old posts. Given a transaction, it writes
     * in it (the caller retries the whole transaction on a slug race);
     * otherwise in one of its own.
     */
    async writeImported(input: ImportedPost, id?: number, trx?: Kysely<Database>, attempt = 0): Promise<Post> {
      const write = async (on: Kysely<Database>) => {
        const base = slugify(input.slug, LIMITS.slug) || slugify(input.title, LIMITS.slug);
        const slug = await freeSlug(base, id, on);
        const status: PostStatus = input.status === 'published' ? 'published' : 'draft';
        const names = new Map<string, { name: string; slug: string }>();
        for (const raw of input.tags) {
          const name = raw.trim().replace(/\s+/g, ' ').slice(0, LIMITS.tag);
          const tagSlug = slugify(name, LIMITS.tag);
          if (tagSlug && !names.has(tagSlug)) names.set(tagSlug, { name, slug: tagSlug });
        }
        const values = {
          author_id: input.authorId,
          title: input.title.slice(0, LIMITS.title) || 'Untitled',
          slug,
          body: input.body,
          custom_excerpt: input.excerpt,
          ...derived(input.body, input.excerpt),
          status,
          created_at: input.createdAt,
          updated_at: input.updatedAt,
          published_at: status === 'published' ? (input.publishedAt ?? input.createdAt) : null,
          publish_at: input.status === 'scheduled' ? input.publishedAt : null,
          ...(input.featureImage !== undefined ? { feature_image: input.featureImage, feature_image_alt: input.featureImageAlt ?? '' } : {}),
        };
        let postId = id;
        if (postId === undefined) postId = (await on.insertInto('posts').values(values).returning('id').executeTakeFirstOrThrow()).id;
        else await on.updateTable('posts').set(values).where('id', '=', postId).execute();
        await q.setPostTags(on, postId, [...names.values()], input.updatedAt, id === undefined);
        await reindexPost(on, postId);
        return (await q.findPostById(on, postId))!;
      };
      if (trx) return write(trx);
      try {
        return await db.transaction().execute(write);
      } catch (e) {
        // Imports write several posts at once: two may pick the same free slug; the loser picks again.
        if (!isUniqueViolation(e) || attempt >= 5) throw e;
        return this.writeImported(input, id, undefined, attempt + 1);
      }
    },

    /** A post by id, in the trash too, or undefined; `on` is the caller's transaction (an event subscriber reads through it). */
    byId: (id: number, on: Kysely<Database> = db) => q.findPostById(on, id, true),

    /** The export's tags (name and slug), a page at a time after a slug (null: from the first). */
    exportTags: (after: string | null, limit: number) =>
      db
        .selectFrom('tags')
        .select(['name', 'slug'])
        .$if(after !== null, (q) => q.where('slug', '>', after!))
        .orderBy('slug')
        .limit(limit)
        .execute(),

    /**
     * The export's posts, a page at a time after an id, trashed ones too: each the
     * archive's entry (tags by slug) and its tags' names (the Markdown file's front matter).
     */
    async exportPage(after: number, limit: number) {
      const rows = await db.selectFrom('posts').selectAll().where('id', '>', after).orderBy('id').limit(limit).execute();
      if (!rows.length) return [];
      const tagRows = await db
        .selectFrom('post_tags')
        .innerJoin('tags', 'tags.id', 'post_tags.tag_id')
        .select(['post_tags.post_id', 'tags.slug', 'tags.name'])
        .where(
          'post_tags.post_id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
      return rows.map((r) => {
        const postTags = tagRows.filter((t) => t.post_id === r.id);
        const entry = {
          id: r.id,
          authorId: r.author_id,
          title: r.title,
          slug: r.slug,
          body: r.body,
          customExcerpt: r.custom_excerpt,
          status: r.status,
          createdAt: r.created_at,
          updatedAt: r.updated_at,
          publishedAt: r.published_at,
          publishAt: r.publish_at,
          featureImage: r.feature_image,
          featureImageAlt: r.feature_image_alt,
          tags: postTags.map((t) => t.slug),
        };
        return { entry, tagNames: postTags.map((t) => t.name) };
      });
    },

    /** Whether a post with this id still exists (an import's record may outlive it). */
    exists: async (id: number, on: Kysely<Database> = db) => (await on.selectFrom('posts').select('id').where('id', '=', id).executeTakeFirst()) !== undefined,

    /** Writes the welcome post into an empty blog, once in its life. */
    async seedWelcome(body: string): Promise<void> {
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('posts')
          .values({
            author_id: null,
            title: 'Welcome to Inkwell',
            slug: 'welcome-to-inkwell',
            body,
            custom_excerpt: null,
            ...derived(body, null),
            status: 'published',
            created_at: now,
            updated_at: now,
            published_at: now,
            publish_at: null,
            deleted_at: null,
          })
          .onConflict((oc) => oc.column('slug').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (row) await reindexPost(trx, row.id);
      });
    },
  };
}

export type PostsService = ReturnType<typeof createPostsService>;
