import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { slugify } from '../../lib/slugify.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { CommentsService } from '../comments/index.ts';
import type { PostsService } from '../posts/index.ts';
import type { RedirectsService } from '../redirects/index.ts';
import { readFile, stat } from 'node:fs/promises';
import { ImportRefused } from './moving.errors.ts';
import { createImageImport, type ImageCounts, type ImageDeps } from './moving.images.ts';
import { lexicalToHtml, mobiledocToHtml } from './ghost.content.ts';
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
  /** Inkwell has no pages yet: they are imported as posts with this tag. */
  pagesTaggedAs: string;
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

const PAGE_TAG = 'page';
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

/** Moving in: WordPress (and later Ghost) imports, idempotent by the source's identity. */
export function createMovingService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  posts: PostsService;
  comments: CommentsService;
  accounts: AccountsService;
  redirects: RedirectsService;
  /** Downloading images into the media library; without it, images keep their old URLs (counted as failed). */
  images?: ImageDeps;
}) {
  const { db, clock, posts, comments, accounts, redirects } = deps;

  async function recorded(source: string, kind: string, sourceId: string): Promise<number | undefined> {
    return (
      await db
        .selectFrom('imported_items')
        .select('target_id')
        .where('source', '=', source)
        .where('kind', '=', kind)
        .where('source_id', '=', sourceId)
        .executeTakeFirst()
    )?.target_id;
  }
  async function record(source: string, kind: string, sourceId: string, targetId: number): Promise<void> {
    const now = clock.now().toISOString();
    await db
      .insertInto('imported_items')
      .values({ source, kind, source_id: sourceId, target_id: targetId, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['source', 'kind', 'source_id']).doUpdateSet({ target_id: targetId, updated_at: now }))
      .execute();
  }

  return {
    /**
     * Imports a WordPress export (WXR 1.1/1.2). The whole file is read once to
     * check it (and to learn its attachments) before anything is written, so a
     * broken or hostile file imports nothing (ImportRefused); then once more to
     * write. Running it again updates what it brought in before.
     */
    async importWordPress(path: string, opts: ImportOptions = {}): Promise<ImportReport> {
      const started = performance.now();
      const report: ImportReport = {
        format: 'wordpress',
        counts: { posts: count(), pages: count(), comments: count(), authors: count(), tags: count(), redirects: count() },
        createdAuthors: [],
        pagesTaggedAs: PAGE_TAG,
        images: { imported: 0, reused: 0, failed: 0 },
        unknownShortcodes: {},
        warnings: [],
        elapsedMs: 0,
      };
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

      // Authors: matched by email, or made (without a password).
      const byLogin = new Map<string, number>();
      for (const a of authors) {
        const email = a.email.trim().toLowerCase();
        if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
          warn(`author ${a.login}`, 'has no usable email address; their posts are imported without an author');
          report.counts.authors.skipped += 1;
          continue;
        }
        const known = await accounts.idByEmail(email);
        if (known !== undefined) {
          byLogin.set(a.login, known);
          report.counts.authors.updated += 1;
          continue;
        }
        const made = await accounts.createImportedAuthor({ email, username: a.login, displayName: a.displayName || a.login });
        byLogin.set(a.login, made.id);
        report.createdAuthors.push({ username: made.username, email });
        report.counts.authors.imported += 1;
      }

      // Pass 2: write posts, pages and their comments.
      const td = createConverter();
      const tags = new Map<string, { domain: string; nicename: string; slug: string }>();
      const shortcodes = new Map<string, number>();
      let done = 0;
      const point = async (from: string | null, to: string) => {
        if (!from) return;
        const before = await redirects.lookup(from);
        await redirects.point(db, from, to, 'import');
        if (!before) report.counts.redirects.imported += 1;
        else if (before.location !== to) report.counts.redirects.updated += 1;
      };

      async function writeItem(i: WxrItem): Promise<void> {
        const kind = i.postType === 'page' ? 'pages' : 'posts';
        const label = `${i.postType} ${i.postId} "${i.title.slice(0, 60)}"`;
        const counts = report.counts[kind];
        const status =
          i.status === 'publish'
            ? 'published'
            : i.status === 'future'
              ? 'scheduled'
              : i.status === 'draft' || i.status === 'pending' || i.status === 'private' || i.status === 'auto-draft'
                ? 'draft'
                : null;
        if (!status || i.status === 'auto-draft') {
          counts.skipped += 1;
          return;
        }
        if (i.status === 'private') warn(label, 'was private; imported as a draft');
        const sourceId = i.guid || `post-${i.postId}`;
        const notes: ContentNotes = { images: [], unknownShortcodes: shortcodes };
        let body = wordpressToMarkdown(td, i.content, attachments, notes);
        const featured = i.meta._thumbnail_id ? attachments.get(i.meta._thumbnail_id.trim()) : undefined;
        // Inkwell has no featured-image field: the image opens the body.
        if (featured) {
          body = `![](${featured})\n\n${body}`;
          notes.images.push(featured);
        }
        // Every old image URL of this post goes into the media library; the body then points there.
        body = await images.rewrite(body, notes.images, label, byLogin.get(i.creator) ?? null);
        if (!body.trim()) body = '(empty)';
        const published = wpDate(i.dateGmt) ?? wpDate(i.date) ?? clock.now().toISOString();
        let postStatus: 'published' | 'draft' | 'scheduled' = status;
        if (status === 'scheduled' && Date.parse(published) <= clock.now().getTime()) {
          postStatus = 'published';
          warn(label, 'was scheduled for a time that has passed; imported as published');
        }
        const termNames: string[] = [];
        for (const t of i.terms) {
          if (t.domain !== 'category' && t.domain !== 'post_tag') continue;
          if (t.domain === 'category' && t.nicename === 'uncategorized') continue;
          const slug = slugify(t.name, 40);
          if (!slug) {
            warn(label, `the ${t.domain === 'category' ? 'category' : 'tag'} "${t.name}" has no letters Inkwell can put in an address; left out`);
            continue;
          }
          termNames.push(t.name);
          tags.set(`${t.domain}:${t.nicename}`, { domain: t.domain, nicename: t.nicename, slug });
        }
        if (i.postType === 'page') termNames.push(PAGE_TAG);
        let sourceSlug = i.postName;
        try {
          sourceSlug = decodeURIComponent(i.postName);
        } catch {
          /* kept as given */
        }
        const wanted = slugify(sourceSlug, 100) || slugify(i.title, 100) || `${i.postType}-${i.postId}`;
        const existing = await recorded('wordpress', 'post', sourceId);
        const id = existing !== undefined && (await posts.exists(existing)) ? existing : undefined;
        const post = await posts.writeImported(
          {
            authorId: byLogin.get(i.creator) ?? null,
            title: i.title || '(untitled)',
            slug: wanted,
            body,
            excerpt: i.excerpt ? i.excerpt.slice(0, 500) : null,
            status: postStatus,
            createdAt: published,
            updatedAt: wpDate(i.modifiedGmt) ?? published,
            publishedAt: published,
            tags: termNames,
          },
          id,
        );
        await record('wordpress', 'post', sourceId, post.id);
        if (id === undefined) counts.imported += 1;
        else counts.updated += 1;
        if (sourceSlug && post.slug !== sourceSlug.toLowerCase())
          warn(label, `its address name "${sourceSlug}" became "${post.slug}"; the old address redirects`);

        if (post.status === 'published') {
          const to = `/posts/${post.slug}`;
          const path = oldPath(i.link);
          if (path && path !== '/') await point(path, to);
          if (i.postId) await point(i.postType === 'page' ? `/?page_id=${i.postId}` : `/?p=${i.postId}`, to);
        }

        // Comments: parents before replies (WordPress numbers them in order of writing).
        const wpToOurs = new Map<string, number>();
        const ordered = [...i.comments].sort((a, b) => Number(a.id) - Number(b.id));
        for (const c of ordered) {
          const cLabel = `comment ${c.id} on ${label}`;
          const cStatus = c.approved === '1' ? 'published' : c.approved === '0' ? 'held' : null;
          if (!cStatus || (c.type && c.type !== 'comment')) {
            report.counts.comments.skipped += 1;
            continue;
          }
          const parentId = c.parent && c.parent !== '0' ? (wpToOurs.get(c.parent) ?? null) : null;
          if (c.parent && c.parent !== '0' && parentId === null) warn(cLabel, 'replies to a comment that was not imported; shown as a top-level comment');
          // A member's comment (WordPress user id set) belongs to their account here, found by email; a guest keeps their name.
          const authorId = c.userId && c.userId !== '0' && c.authorEmail ? ((await accounts.idByEmail(c.authorEmail)) ?? null) : null;
          const cSource = `${sourceId}#${c.id}`;
          const prev = await recorded('wordpress', 'comment', cSource);
          const prevId = prev !== undefined && (await comments.exists(prev)) ? prev : undefined;
          const cid = await comments.writeImported(
            {
              postId: post.id,
              parentId,
              authorId,
              authorName: c.author || 'Anonymous',
              body: td.turndown(autop(c.content)) || c.content,
              status: cStatus,
              createdAt: wpDate(c.dateGmt) ?? wpDate(c.date) ?? published,
            },
            prevId,
          );
          await record('wordpress', 'comment', cSource, cid);
          wpToOurs.set(c.id, cid);
          if (prevId === undefined) report.counts.comments.imported += 1;
          else report.counts.comments.updated += 1;
        }
      }

      // Several items are written at once: SQLite commits them together, PostgreSQL
      // spreads them over its pool (one at a time was 20 posts/s there). An item's
      // comments stay in order within it.
      const inflight = new Set<Promise<void>>();
      let failure: unknown = null;
      await readWxr(path, {
        item: async (i) => {
          if (i.postType !== 'post' && i.postType !== 'page') return;
          const p: Promise<void> = writeItem(i)
            .then(() => {
              done += 1;
              opts.onProgress?.(done, total);
            })
            .catch((e) => {
              failure ??= e;
            })
            .finally(() => {
              inflight.delete(p);
            });
          inflight.add(p);
          if (inflight.size >= CONCURRENCY) await Promise.race(inflight);
          if (failure) throw failure;
        },
      });
      await Promise.all(inflight);
      if (failure) throw failure;

      for (const t of tags.values()) {
        await point(t.domain === 'category' ? `/category/${t.nicename}` : `/tag/${t.nicename}`, `/tags/${t.slug}`);
      }
      report.counts.tags.imported = new Set([...tags.values()].map((t) => t.slug)).size;
      report.unknownShortcodes = Object.fromEntries(shortcodes);
      report.elapsedMs = Math.round(performance.now() - started);
      return report;
    },

    /**
     * Imports a Ghost export (JSON): posts and pages from their HTML (or their
     * lexical/mobiledoc document), tags, authors, feature images, dates,
     * status, slugs. Checked whole before anything is written.
     */
    async importGhost(path: string, opts: ImportOptions = {}): Promise<ImportReport> {
      const started = performance.now();
      const data = await readGhost(path);
      const report: ImportReport = {
        format: 'ghost',
        counts: { posts: count(), pages: count(), comments: count(), authors: count(), tags: count(), redirects: count() },
        createdAuthors: [],
        pagesTaggedAs: PAGE_TAG,
        images: { imported: 0, reused: 0, failed: 0 },
        unknownShortcodes: {},
        warnings: [],
        elapsedMs: 0,
      };
      const warn = (item: string, message: string) => {
        if (report.warnings.length < MAX_WARNINGS) report.warnings.push({ item, message });
      };
      const images = createImageImport({ db, clock, deps: deps.images, source: 'ghost', siteUrl: opts.siteUrl, counts: report.images, warn });
      const userIds = new Map<string, number>();
      for (const u of data.users) {
        const email = String(u.email ?? '')
          .trim()
          .toLowerCase();
        if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
          warn(`author ${u.slug ?? u.id}`, 'has no usable email address; their posts are imported without an author');
          report.counts.authors.skipped += 1;
          continue;
        }
        const known = await accounts.idByEmail(email);
        if (known !== undefined) {
          userIds.set(String(u.id), known);
          report.counts.authors.updated += 1;
          continue;
        }
        const made = await accounts.createImportedAuthor({
          email,
          username: String(u.slug ?? email.split('@')[0]),
          displayName: String(u.name ?? u.slug ?? ''),
        });
        userIds.set(String(u.id), made.id);
        report.createdAuthors.push({ username: made.username, email });
        report.counts.authors.imported += 1;
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
      const td = createConverter();
      const tagSlugs = new Set<string>();
      let done = 0;
      for (const p of data.posts) {
        const kind = p.type === 'page' || p.page === true || p.page === 1 ? 'pages' : 'posts';
        const label = `${kind === 'pages' ? 'page' : 'post'} ${p.id} "${String(p.title ?? '').slice(0, 60)}"`;
        const status = p.status === 'published' ? 'published' : p.status === 'scheduled' ? 'scheduled' : p.status === 'draft' ? 'draft' : null;
        if (!status) {
          report.counts[kind].skipped += 1;
          warn(label, `has status "${p.status}"; skipped`);
          continue;
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
          const src = p.feature_image;
          body = `![](${src})\n\n${body}`;
          notes.images.push(src);
        }
        const author = userIds.get(authorOf.get(String(p.id)) ?? String(p.author_id ?? p.created_by ?? '')) ?? null;
        body = await images.rewrite(body, notes.images, label, author);
        if (!body.trim()) body = '(empty)';
        const created = isoOr(p.created_at, clock.now().toISOString());
        const published = isoOr(p.published_at, created);
        const tags = [...(tagsOf.get(String(p.id)) ?? [])];
        if (kind === 'pages') tags.push(PAGE_TAG);
        for (const t of tags) {
          const s = slugify(t, 40);
          if (s) tagSlugs.add(s);
        }
        const sourceId = String(p.uuid ?? p.id);
        const existing = await recorded('ghost', 'post', sourceId);
        const id = existing !== undefined && (await posts.exists(existing)) ? existing : undefined;
        let postStatus: 'published' | 'draft' | 'scheduled' = status;
        if (status === 'scheduled' && Date.parse(published) <= clock.now().getTime()) {
          postStatus = 'published';
          warn(label, 'was scheduled for a time that has passed; imported as published');
        }
        const post = await posts.writeImported(
          {
            authorId: author,
            title: String(p.title ?? '') || '(untitled)',
            slug: String(p.slug ?? ''),
            body,
            excerpt: typeof p.custom_excerpt === 'string' && p.custom_excerpt ? p.custom_excerpt.slice(0, 500) : null,
            status: postStatus,
            createdAt: created,
            updatedAt: isoOr(p.updated_at, created),
            publishedAt: published,
            tags,
          },
          id,
        );
        await record('ghost', 'post', sourceId, post.id);
        if (id === undefined) report.counts[kind].imported += 1;
        else report.counts[kind].updated += 1;
        // Ghost's addresses are /slug/: they lead to the post's new one.
        if (post.status === 'published' && p.slug) {
          const before = await redirects.lookup(`/${p.slug}`);
          await redirects.point(db, `/${p.slug}`, `/posts/${post.slug}`, 'import');
          if (!before) report.counts.redirects.imported += 1;
        }
        done += 1;
        opts.onProgress?.(done, data.posts.length);
      }
      for (const t of data.tags)
        if (t.slug && !String(t.name ?? '').startsWith('#')) {
          const s = slugify(String(t.name ?? t.slug), 40);
          if (s) await redirects.point(db, `/tag/${t.slug}`, `/tags/${s}`, 'import');
        }
      report.counts.tags.imported = tagSlugs.size;
      report.elapsedMs = Math.round(performance.now() - started);
      return report;
    },
  };
}

export type MovingService = ReturnType<typeof createMovingService>;

// A Ghost export is one JSON document (read whole, unlike WXR): bigger than this is refused.
const MAX_GHOST_BYTES = 256 * 1024 * 1024;

/** Reads and checks a Ghost export; ImportRefused for anything else. */
async function readGhost(path: string): Promise<{ posts: any[]; tags: any[]; users: any[]; postsTags: any[]; postsAuthors: any[] }> {
  const size = (await stat(path)).size;
  if (size > MAX_GHOST_BYTES)
    throw new ImportRefused(`the file is ${Math.round(size / 1024 / 1024)} MB; a Ghost export larger than ${MAX_GHOST_BYTES / 1024 / 1024} MB is refused`);
  let doc: any;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ImportRefused(`the file is not JSON: ${(e as Error).message}`);
  }
  // Ghost wraps the data in db[0] (and older versions in data directly).
  const data = doc?.db?.[0]?.data ?? doc?.data;
  if (!data || typeof data !== 'object' || !Array.isArray(data.posts)) throw new ImportRefused('this is not a Ghost export: no db[0].data.posts');
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x) => x && typeof x === 'object') : []);
  return { posts: list(data.posts), tags: list(data.tags), users: list(data.users), postsTags: list(data.posts_tags), postsAuthors: list(data.posts_authors) };
}

const isoOr = (v: unknown, fallback: string) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : fallback);

/** The report as plain text (the CLI prints it; the admin page shows it in <pre>). */
export function reportText(r: ImportReport): string {
  const line = (name: string, c: Count) =>
    `  ${name.padEnd(10)} ${String(c.imported).padStart(6)} imported ${String(c.updated).padStart(6)} updated ${String(c.skipped).padStart(6)} skipped`;
  const out = [
    `Import from ${r.format === 'wordpress' ? 'WordPress' : 'Ghost'} finished in ${(r.elapsedMs / 1000).toFixed(1)} s.`,
    ...(['posts', 'pages', 'comments', 'authors', 'tags', 'redirects'] as const).map((k) => line(k, r.counts[k])),
    `Pages: Inkwell has no pages yet, so they are posts tagged "${r.pagesTaggedAs}".`,
    `Images: ${r.images.imported} imported into the media library, ${r.images.reused} already there, ${r.images.failed} failed (they keep their old addresses).`,
  ];
  if (r.createdAuthors.length)
    out.push('New author accounts (no password: each sets one with "Forgot password"):', ...r.createdAuthors.map((a) => `  ${a.username} <${a.email}>`));
  const sc = Object.entries(r.unknownShortcodes);
  if (sc.length) out.push(`Unknown shortcodes kept as text: ${sc.map(([k, v]) => `[${k}] ×${v}`).join(', ')}`);
  if (r.warnings.length) out.push(`Warnings (${r.warnings.length}):`, ...r.warnings.map((w) => `  ${w.item}: ${w.message}`));
  return out.join('\n');
}
