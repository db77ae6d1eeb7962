import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { slugify } from '../../lib/slugify.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { CommentsService } from '../comments/index.ts';
import type { PagesService } from '../pages/index.ts';
import type { PostsService } from '../posts/index.ts';
import type { RedirectsService } from '../redirects/index.ts';
import { isConnectionError, isUniqueViolation } from '../../platform/db/errors.ts';
import { ImportRefused } from './moving.errors.ts';
import { createImageImport, type ImageCounts, type ImageDeps } from './moving.images.ts';
import { lexicalToHtml, mobiledocToHtml } from './ghost.content.ts';
import { eachGhostPost, readGhostRelations, type GhostRow } from './ghost.reader.ts';
import { readWxr, type WxrAuthor, type WxrItem } from './wordpress.reader.ts';
import { autop, createConverter, htmlToMarkdown, wordpressToMarkdown, type ContentNotes } from './wordpress.content.ts';

/** Imported, updated (found from an earlier run) and skipped, for one kind of thing. */
export interface Count {
  imported: number;
  updated: number;
  skipped: number;
}

/** What an import did, for the CLI and /admin/import. */
export interface ImportReport {
  format: 'wordpress' | 'ghost';
  counts: { posts: Count; pages: Count; comments: Count; authors: Count; tags: Count; redirects: Count };
  /** Accounts made for authors not found by email: they have no password until they reset it. */
  createdAuthors: { username: string; email: string }[];
  /** Items (a post or page with its tags, comments and redirects) that failed: nothing of them was written; a re-run tries them again. */
  failed: number;
  /** Featured images and images in content: downloaded into the media library, found there from an earlier run, or failed (kept on the old site). */
  images: ImageCounts;
  /** Shortcodes kept as text, by name, with how often they occur. */
  unknownShortcodes: Record<string, number>;
  warnings: { item: string; message: string }[];
  elapsedMs: number;
}

export interface ImportOptions {
  /** Called as items are written: how many so far, of how many. */
  onProgress?(done: number, total: number): void;
  /** The old site's address (https://old.example): Ghost's __GHOST_URL__ images and relative image URLs need it. */
  siteUrl?: string;
}

const MAX_WARNINGS = 1000;
/** Items written at once. */
const CONCURRENCY = 8;
const count = (): Count => ({ imported: 0, updated: 0, skipped: 0 });

/** WordPress's "YYYY-MM-DD HH:MM:SS" (GMT) as ISO 8601; null for its zero date and garbage. */
export function wpDate(s: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(s.trim());
  if (!m || m[1] === '0000') return null;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** The path of an address on the old site, or null. */
function oldPath(link: string): string | null {
  try {
    const u = new URL(link);
    return u.pathname + u.search;
  } catch {
    return null;
  }
}

type Counts = ImportReport['counts'];
type Warning = ImportReport['warnings'][number];
const counts = (): Counts => ({ posts: count(), pages: count(), comments: count(), authors: count(), tags: count(), redirects: count() });

function newReport(format: ImportReport['format']): ImportReport {
  return {
    format,
    counts: counts(),
    createdAuthors: [],
    failed: 0,
    images: { imported: 0, reused: 0, failed: 0 },
    unknownShortcodes: {},
    warnings: [],
    elapsedMs: 0,
  };
}

/**
 * Runs up to `limit` pieces of work at once: add() waits while that many run (so
 * the reader pauses and memory holds at most `limit` items), and throws the
 * first failure; done() waits for the rest.
 */
function workPool(limit: number) {
  const inflight = new Set<Promise<void>>();
  let failure: unknown = null;
  return {
    async add(work: () => Promise<void>): Promise<void> {
      const p: Promise<void> = work()
        .catch((e) => {
          failure ??= e;
        })
        .finally(() => {
          inflight.delete(p);
        });
      inflight.add(p);
      if (inflight.size >= limit) await Promise.race(inflight);
      if (failure) throw failure;
    },
    async done(): Promise<void> {
      await Promise.all(inflight);
      if (failure) throw failure;
    },
  };
}

const postStatusOf = (wanted: 'published' | 'draft' | 'scheduled', published: string, now: Date) =>
  wanted === 'scheduled' && Date.parse(published) <= now.getTime() ? 'published' : wanted;

/** Moving in: WordPress and Ghost imports, idempotent by the source's identity, one transaction per item. */
export function createMovingService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  posts: PostsService;
  pages: PagesService;
  comments: CommentsService;
  accounts: AccountsService;
  redirects: RedirectsService;
  /** Downloading images into the media library; without it, images keep their old URLs (counted as failed). */
  images?: ImageDeps;
}) {
  const { db, clock, posts, pages, comments, accounts, redirects } = deps;

  async function recorded(trx: Kysely<Database>, source: string, kind: string, sourceId: string): Promise<number | undefined> {
    return (
      await trx
        .selectFrom('imported_items')
        .select('target_id')
        .where('source', '=', source)
        .where('kind', '=', kind)
        .where('source_id', '=', sourceId)
        .executeTakeFirst()
    )?.target_id;
  }
  async function record(trx: Kysely<Database>, source: string, kind: string, sourceId: string, targetId: number): Promise<void> {
    const now = clock.now().toISOString();
    await trx
      .insertInto('imported_items')
      .values({ source, kind, source_id: sourceId, target_id: targetId, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['source', 'kind', 'source_id']).doUpdateSet({ target_id: targetId, updated_at: now }))
      .execute();
  }

  /**
   * Writes one item (a post or page with its tags, comments, redirects and
   * import records) in one transaction: it is there whole or not at all. Its
   * counts and warnings reach the report only once it committed. A failing item
   * is a warning and the import goes on (a re-run tries it again); a lost
   * database or a refused file stops the import. Two items racing for one free
   * slug: the loser runs again.
   */
  async function inItem(report: ImportReport, label: string, write: (trx: Kysely<Database>, t: Counts, w: Warning[]) => Promise<void>): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const t = counts();
      const w: Warning[] = [];
      try {
        await db.transaction().execute((trx) => write(trx, t, w));
      } catch (e) {
        if (e instanceof ImportRefused || isConnectionError(e)) throw e;
        if (isUniqueViolation(e) && attempt < 5) continue;
        report.failed += 1;
        if (report.warnings.length < MAX_WARNINGS)
          report.warnings.push({ item: label, message: `failed, and nothing of it was written (a re-run tries it again): ${(e as Error).message}` });
        return false;
      }
      for (const [k, c] of Object.entries(t) as [keyof Counts, Count][]) {
        report.counts[k].imported += c.imported;
        report.counts[k].updated += c.updated;
        report.counts[k].skipped += c.skipped;
      }
      for (const x of w) if (report.warnings.length < MAX_WARNINGS) report.warnings.push(x);
      return true;
    }
  }

  async function point(trx: Kysely<Database>, t: Counts, from: string | null, to: string): Promise<void> {
    if (!from) return;
    const r = await redirects.point(trx, from, to, 'import');
    if (r === 'new') t.redirects.imported += 1;
    else if (r === 'changed') t.redirects.updated += 1;
  }

  /** An author: found by email, or made (without a password). */
  async function author(report: ImportReport, label: string, email: string, username: string, displayName: string): Promise<number | undefined> {
    const e = email.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(e)) {
      if (report.warnings.length < MAX_WARNINGS)
        report.warnings.push({ item: label, message: 'has no usable email address; their posts are imported without an author' });
      report.counts.authors.skipped += 1;
      return undefined;
    }
    const known = await accounts.idByEmail(e);
    if (known !== undefined) {
      report.counts.authors.updated += 1;
      return known;
    }
    const made = await accounts.createImportedAuthor({ email: e, username, displayName });
    report.createdAuthors.push({ username: made.username, email: e });
    report.counts.authors.imported += 1;
    return made.id;
  }

  /** What a post or a page is written from, once its content is converted and its images are in the library. */
  interface Item {
    source: 'wordpress' | 'ghost';
    sourceId: string;
    label: string;
    isPage: boolean;
    authorId: number | null;
    title: string;
    slug: string;
    body: string;
    excerpt: string | null;
    status: 'published' | 'draft' | 'scheduled';
    createdAt: string;
    updatedAt: string;
    publishedAt: string;
    tags: string[];
    /** Old addresses that lead to the new one once it is published. */
    oldPaths: string[];
    comments: {
      sourceId: string;
      parentSourceId: string | null;
      authorId: number | null;
      authorName: string;
      body: string;
      status: 'published' | 'held';
      createdAt: string;
    }[];
  }

  /** Writes a prepared item in its transaction: a page through pages, a post (with its comments) through posts and comments. */
  async function writeItem(report: ImportReport, it: Item): Promise<void> {
    const { source, sourceId, label } = it;
    await inItem(report, label, async (trx, t, w) => {
      if (it.isPage) {
        const earlier = await recorded(trx, source, 'page', sourceId);
        const id = earlier !== undefined && (await pages.exists(earlier, trx)) ? earlier : undefined;
        if (id === undefined && (await recorded(trx, source, 'post', sourceId)) !== undefined)
          w.push({ item: label, message: 'an earlier import made it a post tagged "page"; it is now a page too, and that post is left as it was' });
        const page = await pages.writeImported(
          {
            authorId: it.authorId,
            title: it.title,
            slug: it.slug,
            body: it.body,
            description: it.excerpt ?? '',
            status: it.status === 'published' ? 'published' : 'draft',
            createdAt: it.createdAt,
            updatedAt: it.updatedAt,
          },
          id,
          trx,
        );
        await record(trx, source, 'page', sourceId, page.id);
        t.pages[id === undefined ? 'imported' : 'updated'] += 1;
        if (it.status === 'scheduled') w.push({ item: label, message: 'was scheduled; pages have no schedule here, so it is a draft' });
        if (it.slug && page.slug !== it.slug.toLowerCase()) w.push({ item: label, message: `its address name "${it.slug}" became "${page.slug}"` });
        if (page.status === 'published') for (const p of it.oldPaths) await point(trx, t, p, `/pages/${page.slug}`);
        return;
      }
      const earlier = await recorded(trx, source, 'post', sourceId);
      const id = earlier !== undefined && (await posts.exists(earlier, trx)) ? earlier : undefined;
      const post = await posts.writeImported(
        {
          authorId: it.authorId,
          title: it.title,
          slug: it.slug,
          body: it.body,
          excerpt: it.excerpt,
          status: it.status,
          createdAt: it.createdAt,
          updatedAt: it.updatedAt,
          publishedAt: it.publishedAt,
          tags: it.tags,
        },
        id,
        trx,
      );
      await record(trx, source, 'post', sourceId, post.id);
      t.posts[id === undefined ? 'imported' : 'updated'] += 1;
      if (it.slug && post.slug !== it.slug.toLowerCase())
        w.push({ item: label, message: `its address name "${it.slug}" became "${post.slug}"; the old address redirects` });
      if (post.status === 'published') for (const p of it.oldPaths) await point(trx, t, p, `/posts/${post.slug}`);
      // Parents before replies (the caller orders them so).
      const ours = new Map<string, number>();
      for (const c of it.comments) {
        const parentId = c.parentSourceId ? (ours.get(c.parentSourceId) ?? null) : null;
        if (c.parentSourceId && parentId === null)
          w.push({ item: `comment ${c.sourceId} on ${label}`, message: 'replies to a comment that was not imported; shown as a top-level comment' });
        const cSource = `${sourceId}#${c.sourceId}`;
        const prev = await recorded(trx, source, 'comment', cSource);
        const prevId = prev !== undefined && (await comments.exists(prev, trx)) ? prev : undefined;
        const cid = await comments.writeImported(
          { postId: post.id, parentId, authorId: c.authorId, authorName: c.authorName, body: c.body, status: c.status, createdAt: c.createdAt },
          prevId,
          trx,
        );
        await record(trx, source, 'comment', cSource, cid);
        ours.set(c.sourceId, cid);
        t.comments[prevId === undefined ? 'imported' : 'updated'] += 1;
      }
    });
  }

  return {
    /**
     * Imports a WordPress export (WXR 1.1/1.2). The whole file is read once to
     * check it (and to learn its attachments) before anything is written, so a
     * broken or hostile file imports nothing (ImportRefused); then once more to
     * write, one transaction per post or page. Running it again updates what it
     * brought in before.
     */
    async importWordPress(path: string, opts: ImportOptions = {}): Promise<ImportReport> {
      const started = performance.now();
      const report = newReport('wordpress');
      const warn = (item: string, message: string) => {
        if (report.warnings.length < MAX_WARNINGS) report.warnings.push({ item, message });
      };
      const images = createImageImport({ db, clock, deps: deps.images, source: 'wordpress', siteUrl: opts.siteUrl, counts: report.images, warn });

      // Pass 1: check the whole file; learn authors and attachments (small), count the work.
      const authors: WxrAuthor[] = [];
      const attachments = new Map<string, string>();
      let total = 0;
      await readWxr(path, {
        author: (a) => {
          authors.push(a);
        },
        item: (i) => {
          if (i.postType === 'attachment' && i.postId && i.attachmentUrl) attachments.set(i.postId, i.attachmentUrl);
          if (i.postType === 'post' || i.postType === 'page') total += 1;
        },
      });
      const byLogin = new Map<string, number>();
      for (const a of authors) {
        const id = await author(report, `author ${a.login}`, a.email, a.login, a.displayName || a.login);
        if (id !== undefined) byLogin.set(a.login, id);
      }

      // Pass 2: write posts, pages and their comments.
      const td = await createConverter();
      const tags = new Map<string, { domain: string; nicename: string; slug: string }>();
      const shortcodes = new Map<string, number>();
      let done = 0;

      // Outside any transaction: the content converted, the images downloaded, the commenters found.
      async function prepare(i: WxrItem): Promise<Item | null> {
        const isPage = i.postType === 'page';
        const label = `${i.postType} ${i.postId} "${i.title.slice(0, 60)}"`;
        const status =
          i.status === 'publish'
            ? 'published'
            : i.status === 'future'
              ? 'scheduled'
              : i.status === 'draft' || i.status === 'pending' || i.status === 'private'
                ? 'draft'
                : null;
        if (!status) {
          report.counts[isPage ? 'pages' : 'posts'].skipped += 1;
          return null;
        }
        if (i.status === 'private') warn(label, 'was private; imported as a draft');
        const notes: ContentNotes = { images: [], unknownShortcodes: shortcodes };
        let body = wordpressToMarkdown(td, i.content, attachments, notes);
        const featured = i.meta._thumbnail_id ? attachments.get(i.meta._thumbnail_id.trim()) : undefined;
        // The featured image opens the body.
        if (featured) {
          body = `![](${featured})\n\n${body}`;
          notes.images.push(featured);
        }
        // Every old image URL of this item goes into the media library; the body then points there.
        body = await images.rewrite(body, notes.images, label, byLogin.get(i.creator) ?? null);
        if (!body.trim()) body = '(empty)';
        const published = wpDate(i.dateGmt) ?? wpDate(i.date) ?? clock.now().toISOString();
        const postStatus = postStatusOf(status, published, clock.now());
        if (postStatus !== status) warn(label, 'was scheduled for a time that has passed; imported as published');
        const termNames: string[] = [];
        for (const t of i.terms) {
          if (t.domain !== 'category' && t.domain !== 'post_tag') continue;
          if (t.domain === 'category' && t.nicename === 'uncategorized') continue;
          const slug = slugify(t.name, 40);
          if (!slug) {
            warn(label, `the ${t.domain === 'category' ? 'category' : 'tag'} "${t.name}" has no letters Inkwell can put in an address; left out`);
            continue;
          }
          if (isPage) continue;
          termNames.push(t.name);
          tags.set(`${t.domain}:${t.nicename}`, { domain: t.domain, nicename: t.nicename, slug });
        }
        let sourceSlug = i.postName;
        try {
          sourceSlug = decodeURIComponent(i.postName);
        } catch {
          /* kept as given */
        }
        const oldPaths: string[] = [];
        const path = oldPath(i.link);
        if (path && path !== '/') oldPaths.push(path);
        if (i.postId) oldPaths.push(isPage ? `/?page_id=${i.postId}` : `/?p=${i.postId}`);

        // Comments: parents before replies (WordPress numbers them in order of writing).
        const cs: Item['comments'] = [];
        for (const c of [...i.comments].sort((a, b) => Number(a.id) - Number(b.id))) {
          const cStatus = c.approved === '1' ? 'published' : c.approved === '0' ? 'held' : null;
          if (!cStatus || (c.type && c.type !== 'comment') || isPage) {
            report.counts.comments.skipped += 1;
            continue;
          }
          cs.push({
            sourceId: c.id,
            parentSourceId: c.parent && c.parent !== '0' ? c.parent : null,
            // A member's comment (WordPress user id set) belongs to their account here, found by email; a guest keeps their name.
            authorId: c.userId && c.userId !== '0' && c.authorEmail ? ((await accounts.idByEmail(c.authorEmail)) ?? null) : null,
            authorName: c.author || 'Anonymous',
            body: td.turndown(autop(c.content)) || c.content,
            status: cStatus,
            createdAt: wpDate(c.dateGmt) ?? wpDate(c.date) ?? published,
          });
        }
        if (isPage && i.comments.length) warn(label, `pages have no comments here: its ${i.comments.length} comment(s) were left out`);
        return {
          source: 'wordpress',
          sourceId: i.guid || `post-${i.postId}`,
          label,
          isPage,
          authorId: byLogin.get(i.creator) ?? null,
          title: i.title || '(untitled)',
          slug: slugify(sourceSlug, 100) || slugify(i.title, 100) || `${i.postType}-${i.postId}`,
          body,
          excerpt: i.excerpt ? i.excerpt.slice(0, 500) : null,
          status: postStatus,
          createdAt: published,
          updatedAt: wpDate(i.modifiedGmt) ?? published,
          publishedAt: published,
          tags: termNames,
          oldPaths,
          comments: cs,
        };
      }

      // Several items are written at once: SQLite commits them together, PostgreSQL
      // spreads them over its pool (one at a time was 20 posts/s there).
      const pool = workPool(CONCURRENCY);
      await readWxr(path, {
        item: async (i) => {
          if (i.postType !== 'post' && i.postType !== 'page') return;
          await pool.add(async () => {
            const it = await prepare(i);
            if (it) await writeItem(report, it);
            done += 1;
            opts.onProgress?.(done, total);
          });
        },
      });
      await pool.done();

      const t = counts();
      await db.transaction().execute(async (trx) => {
        for (const tag of tags.values())
          await point(trx, t, tag.domain === 'category' ? `/category/${tag.nicename}` : `/tag/${tag.nicename}`, `/tags/${tag.slug}`);
      });
      report.counts.redirects.imported += t.redirects.imported;
      report.counts.redirects.updated += t.redirects.updated;
      report.counts.tags.imported = new Set([...tags.values()].map((x) => x.slug)).size;
      report.unknownShortcodes = Object.fromEntries(shortcodes);
      report.elapsedMs = Math.round(performance.now() - started);
      return report;
    },

    /**
     * Imports a Ghost export (JSON): posts and pages from their HTML (or their
     * lexical/mobiledoc document), tags, authors, feature images, dates,
     * status, slugs. Streamed: checked whole (and its small tables read) in a
     * first pass before anything is written, then one post at a time.
     */
    async importGhost(path: string, opts: ImportOptions = {}): Promise<ImportReport> {
      const started = performance.now();
      const data = await readGhostRelations(path);
      const report = newReport('ghost');
      const warn = (item: string, message: string) => {
        if (report.warnings.length < MAX_WARNINGS) report.warnings.push({ item, message });
      };
      const images = createImageImport({ db, clock, deps: deps.images, source: 'ghost', siteUrl: opts.siteUrl, counts: report.images, warn });
      const userIds = new Map<string, number>();
      for (const u of data.users) {
        const email = String(u.email ?? '');
        const id = await author(report, `author ${u.slug ?? u.id}`, email, String(u.slug ?? email.split('@')[0]), String(u.name ?? u.slug ?? ''));
        if (id !== undefined) userIds.set(String(u.id), id);
      }
      const tagsById = new Map(data.tags.map((t) => [String(t.id), t]));
      const tagsOf = new Map<string, string[]>();
      for (const pt of data.postsTags) {
        const t = tagsById.get(String(pt.tag_id));
        // Ghost's internal tags (#hash) organise the theme, not the reader's topics.
        if (t && !String(t.name ?? '').startsWith('#')) tagsOf.set(String(pt.post_id), [...(tagsOf.get(String(pt.post_id)) ?? []), String(t.name)]);
      }
      const authorOf = new Map<string, string>();
      for (const pa of [...data.postsAuthors].sort((a, b) => Number(b.sort_order ?? 0) - Number(a.sort_order ?? 0)))
        authorOf.set(String(pa.post_id), String(pa.author_id));
      const td = await createConverter();
      const tagSlugs = new Set<string>();
      let done = 0;

      async function prepare(p: GhostRow): Promise<Item | null> {
        const isPage = p.type === 'page' || p.page === true || p.page === 1;
        const label = `${isPage ? 'page' : 'post'} ${p.id} "${String(p.title ?? '').slice(0, 60)}"`;
        const status = p.status === 'published' ? 'published' : p.status === 'scheduled' ? 'scheduled' : p.status === 'draft' ? 'draft' : null;
        if (!status) {
          report.counts[isPage ? 'pages' : 'posts'].skipped += 1;
          warn(label, `has status "${p.status}"; skipped`);
          return null;
        }
        const unknown = new Set<string>();
        const html =
          typeof p.html === 'string' && p.html.trim()
            ? p.html
            : typeof p.lexical === 'string' && p.lexical
              ? lexicalToHtml(p.lexical, unknown)
              : typeof p.mobiledoc === 'string' && p.mobiledoc
                ? mobiledocToHtml(p.mobiledoc, unknown)
                : '';
        for (const u of unknown) warn(label, `${u} could not be rendered; left out`);
        const notes: ContentNotes = { images: [], unknownShortcodes: new Map() };
        let body = htmlToMarkdown(td, html, notes);
        if (typeof p.feature_image === 'string' && p.feature_image) {
          // Ghost writes its own image URLs as __GHOST_URL__/content/images/…
          body = `![](${p.feature_image})\n\n${body}`;
          notes.images.push(p.feature_image);
        }
        const authorId = userIds.get(authorOf.get(String(p.id)) ?? String(p.author_id ?? p.created_by ?? '')) ?? null;
        body = await images.rewrite(body, notes.images, label, authorId);
        if (!body.trim()) body = '(empty)';
        const created = isoOr(p.created_at, clock.now().toISOString());
        const published = isoOr(p.published_at, created);
        const tags = isPage ? [] : [...(tagsOf.get(String(p.id)) ?? [])];
        for (const t of tags) {
          const s = slugify(t, 40);
          if (s) tagSlugs.add(s);
        }
        const postStatus = postStatusOf(status, published, clock.now());
        if (postStatus !== status) warn(label, 'was scheduled for a time that has passed; imported as published');
        return {
          source: 'ghost',
          sourceId: String(p.uuid ?? p.id),
          label,
          isPage,
          authorId,
          title: String(p.title ?? '') || '(untitled)',
          slug: String(p.slug ?? ''),
          body,
          excerpt: typeof p.custom_excerpt === 'string' && p.custom_excerpt ? p.custom_excerpt.slice(0, 500) : null,
          status: postStatus,
          createdAt: created,
          updatedAt: isoOr(p.updated_at, created),
          publishedAt: published,
          tags,
          // Ghost's addresses are /slug/: they lead to the new one.
          oldPaths: p.slug ? [`/${p.slug}`] : [],
          comments: [],
        };
      }

      const pool = workPool(CONCURRENCY);
      await eachGhostPost(path, data.postCount, (p) =>
        pool.add(async () => {
          const it = await prepare(p);
          if (it) await writeItem(report, it);
          done += 1;
          opts.onProgress?.(done, data.postCount);
        }),
      );
      await pool.done();
      const t = counts();
      await db.transaction().execute(async (trx) => {
        for (const tag of data.tags)
          if (tag.slug && !String(tag.name ?? '').startsWith('#')) {
            const s = slugify(String(tag.name ?? tag.slug), 40);
            if (s) await point(trx, t, `/tag/${tag.slug}`, `/tags/${s}`);
          }
      });
      report.counts.tags.imported = tagSlugs.size;
      report.elapsedMs = Math.round(performance.now() - started);
      return report;
    },
  };
}

export type MovingService = ReturnType<typeof createMovingService>;

const isoOr = (v: unknown, fallback: string) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : fallback);

/** The report as plain text (the CLI prints it; the admin page shows it in <pre>). */
export function reportText(r: ImportReport): string {
  const line = (name: string, c: Count) =>
    `  ${name.padEnd(10)} ${String(c.imported).padStart(6)} imported ${String(c.updated).padStart(6)} updated ${String(c.skipped).padStart(6)} skipped`;
  const out = [
    `Import from ${r.format === 'wordpress' ? 'WordPress' : 'Ghost'} finished in ${(r.elapsedMs / 1000).toFixed(1)} s.`,
    ...(['posts', 'pages', 'comments', 'authors', 'tags', 'redirects'] as const).map((k) => line(k, r.counts[k])),
    ...(r.failed
      ? [`Failed: ${r.failed} item(s) could not be written and were left out whole (see the warnings); importing the file again tries them again.`]
      : []),
    `Images: ${r.images.imported} imported into the media library, ${r.images.reused} already there, ${r.images.failed} failed (they keep their old addresses).`,
  ];
  if (r.createdAuthors.length)
    out.push('New author accounts (no password: each sets one with "Forgot password"):', ...r.createdAuthors.map((a) => `  ${a.username} <${a.email}>`));
  const sc = Object.entries(r.unknownShortcodes);
  if (sc.length) out.push(`Unknown shortcodes kept as text: ${sc.map(([k, v]) => `[${k}] ×${v}`).join(', ')}`);
  if (r.warnings.length) out.push(`Warnings (${r.warnings.length}):`, ...r.warnings.map((w) => `  ${w.item}: ${w.message}`));
  return out.join('\n');
}
