import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type { Kysely } from 'kysely';
import { stringify as yaml } from 'yaml';
import type { Database, Role } from '../../platform/db/schema.ts';
import type { Settings } from '../../platform/settings.ts';
import type { Clock } from '../../lib/clock.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { CommentsService } from '../comments/index.ts';
import type { GalleriesService } from '../galleries/index.ts';
import type { MediaService } from '../media/index.ts';
import type { PagesService } from '../pages/index.ts';
import type { PostsService } from '../posts/index.ts';
import type { RedirectsService } from '../redirects/index.ts';
import { AppError } from '../../platform/errors.ts';
import { isConnectionError } from '../../platform/db/errors.ts';
import { ImportRefused } from './moving.errors.ts';
import type { Count } from './moving.service.ts';

// The export archive (format "inkwell-export", version 2; README "Export format"):
// a gzipped tar holding inkwell.json, the whole blog as one JSON document,
// markdown/<slug>.md, one file per post with YAML front matter (pages in
// markdown/pages/<slug>.md), and
// media/<key>, each image of the media library (the cleaned original; variants
// are made again by the variants job). Version 1 (no media) is still read, and
// so is a version 2 document without pages and galleries (written before them).

export const EXPORT_FORMAT = 'inkwell-export';
export const EXPORT_VERSION = 2;
const READABLE_VERSIONS = [1, 2];
/** A media entry's name in the archive: media/<storage key>. */
const MEDIA_ENTRY = /^media\/([A-Za-z0-9][A-Za-z0-9._-]{0,200})$/;
/** Settings that are the blog's, not its secrets (the session secret, Slack's URL, setup tokens stay). */
const EXPORTED_SETTINGS = ['site_name', 'signup_mode', 'comment_moderation'];
const MAX_DOCUMENT = 512 * 1024 * 1024;
/** An image in the archive larger than this is refused (the media library's own limit applies after). */
const MAX_MEDIA_FILE = 512 * 1024 * 1024;
const PAGE = 500;

/** What `import inkwell` did. */
export interface RestoreReport {
  counts: { users: Count; media: Count; posts: Count; comments: Count; pages: Count; galleries: Count; redirects: Count };
  /** Items that failed whole (see the warnings). */
  failed: number;
  /** Images that could not be restored (posts keep their old addresses). */
  warnings: { item: string; message: string }[];
  elapsedMs: number;
}

/** Export and re-import of the whole blog. */
export function createExporter(deps: {
  db: Kysely<Database>;
  clock: Clock;
  settings: Settings;
  site: { url: string };
  posts: PostsService;
  pages: PagesService;
  galleries: GalleriesService;
  comments: CommentsService;
  accounts: AccountsService;
  redirects: RedirectsService;
  /** The media library: its files and their metadata travel in the archive. */
  media?: MediaService;
}) {
  const { db, clock, settings, posts, pages, galleries, comments, accounts, redirects } = deps;

  // The JSON document, written to a file a page of rows at a time (never whole in memory).
  async function writeDocument(path: string, markdown: (slug: string, text: string) => Promise<void>, mediaKeys: string[]): Promise<void> {
    const out = createWriteStream(path);
    const write = async (s: string) => {
      if (!out.write(s)) await once(out, 'drain');
    };
    const settingsOut: Record<string, string> = {};
    for (const k of EXPORTED_SETTINGS) {
      const v = await settings.get(k);
      if (v !== undefined) settingsOut[k] = v;
    }
    await write(
      `{"format":${JSON.stringify(EXPORT_FORMAT)},"version":${EXPORT_VERSION},"exportedAt":${JSON.stringify(clock.now().toISOString())},"site":${JSON.stringify({ url: deps.site.url })},"settings":${JSON.stringify(settingsOut)}`,
    );
    // Each owner pages its own rows in the archive's shape; this writes them as they come.
    /** Writes a JSON array's items a page at a time: `next(cursor)` gives a page and the cursor after it. */
    async function writeList<T, C>(from: C, next: (after: C) => Promise<{ items: T[]; after: C }>, each: (item: T) => Promise<unknown> | unknown) {
      let first = true;
      for (let after = from; ; ) {
        const page = await next(after);
        if (!page.items.length) return;
        for (const item of page.items) {
          await write(`${first ? '' : ','}${JSON.stringify(await each(item))}`);
          first = false;
        }
        after = page.after;
      }
    }
    // Users without password hashes, tokens or sessions; their usernames name the Markdown files' authors.
    const usernames = new Map<number, string>();
    await write(',"users":[');
    await writeList(
      0,
      async (after) => {
        const items = await accounts.exportPage(after, PAGE);
        return { items, after: items.at(-1)?.id ?? after };
      },
      (u) => {
        usernames.set(u.id, u.username);
        return u;
      },
    );
    await write('],"tags":[');
    await writeList(
      null as string | null,
      async (after) => {
        const items = await posts.exportTags(after, PAGE);
        return { items, after: items.at(-1)?.slug ?? after };
      },
      (t) => t,
    );
    await write(']');
    // The library's metadata; its files follow inkwell.json in the tar (media/<key>).
    await write(',"media":[');
    if (deps.media) {
      let firstMedia = true;
      for (let after = ''; ; ) {
        const page = await deps.media.exportPage(after, PAGE);
        if (!page.length) break;
        for (const m of page) {
          await write(`${firstMedia ? '' : ','}${JSON.stringify({ ...m, file: `media/${m.key}` })}`);
          firstMedia = false;
          mediaKeys.push(m.key);
        }
        after = page.at(-1)!.id;
      }
    }
    await write(']');
    await write(',"posts":[');
    await writeList(
      0,
      async (after) => {
        const items = await posts.exportPage(after, PAGE);
        return { items, after: items.at(-1)?.entry.id ?? after };
      },
      async ({ entry: p, tagNames }) => {
        const front = yaml({
          title: p.title,
          slug: p.slug,
          date: p.publishedAt ?? p.publishAt ?? p.createdAt,
          updated: p.updatedAt,
          draft: p.status !== 'published',
          author: p.authorId !== null ? (usernames.get(p.authorId) ?? null) : null,
          tags: tagNames,
          ...(p.customExcerpt ? { excerpt: p.customExcerpt } : {}),
        });
        await markdown(p.slug, `---\n${front}---\n\n${p.body}\n`);
        return p;
      },
    );
    await write('],"comments":[');
    await writeList(
      0,
      async (after) => {
        const items = await comments.exportPage(after, PAGE);
        return { items, after: items.at(-1)?.id ?? after };
      },
      (c) => c,
    );
    // Pages, with a Markdown file each; galleries, with their images (by media id, in order) and captions.
    await write('],"pages":[');
    await writeList(
      0,
      async (after) => {
        const items = await pages.exportPage(after, PAGE);
        return { items, after: items.at(-1)?.id ?? after };
      },
      async (r) => {
        const front = yaml({
          title: r.title,
          slug: r.slug,
          date: r.createdAt,
          updated: r.updatedAt,
          draft: r.status !== 'published',
          ...(r.description ? { description: r.description } : {}),
        });
        await markdown(`pages/${r.slug}`, `---\n${front}---\n\n${r.body}\n`);
        return r;
      },
    );
    await write('],"galleries":[');
    await writeList(
      0,
      async (after) => {
        const items = await galleries.exportPage(after, PAGE);
        return { items, after: items.at(-1)?.id ?? after };
      },
      (g) => g,
    );
    await write('],"redirects":[');
    await writeList(
      0,
      async (after) => {
        const items = await redirects.exportPage(after, PAGE);
        return { items: items.map((r) => r.entry), after: items.at(-1)?.id ?? after };
      },
      (r) => r,
    );
    await write(']}\n');
    out.end();
    await once(out, 'finish');
  }

  return {
    /**
     * The whole blog as a gzipped tar stream: inkwell.json, then one Markdown
     * file per post. The JSON is staged in a temporary file (a tar entry needs
     * its size first); the temporary directory is gone when the stream ends.
     */
    async exportArchive(): Promise<Readable> {
      const tar = await loadTar();
      const dir = mkdtempSync(join(tmpdir(), 'inkwell-export-'));
      const pack = tar.pack();
      const mdPath = join(dir, 'markdown.tar');
      // Markdown files are small: packed into a second tar as they come, then copied across.
      const mdPack = tar.pack();
      const mdFile = createWriteStream(mdPath);
      const mdDone = pipeline(mdPack, mdFile);
      const seen = new Set<string>();
      const jsonPath = join(dir, 'inkwell.json');
      const mediaKeys: string[] = [];
      await writeDocument(
        jsonPath,
        async (slug, text) => {
          const name = seen.has(slug) ? `${slug}-${seen.size}` : slug;
          seen.add(name);
          await new Promise<void>((resolve, reject) =>
            mdPack.entry({ name: `markdown/${name}.md`, mtime: new Date(0) }, text, (e) => (e ? reject(e) : resolve())),
          );
        },
        mediaKeys,
      );
      mdPack.finalize();
      await mdDone;
      const out = new PassThrough();
      const gz = createGzip();
      pipeline(pack, gz, out)
        .catch((e) => out.destroy(e))
        .finally(() => rmSync(dir, { recursive: true, force: true }));
      void (async () => {
        try {
          const size = statSync(jsonPath).size;
          const entry = pack.entry({ name: 'inkwell.json', size, mtime: clock.now() });
          await pipeline(createReadStream(jsonPath), entry);
          // Copy the Markdown entries from their own tar.
          const extract = tar.extract();
          extract.on('entry', (header, stream, next) => {
            const e = pack.entry(header, next);
            stream.pipe(e);
          });
          await pipeline(createReadStream(mdPath), extract);
          // The media files, streamed one at a time from the storage (local disk or S3).
          for (const key of mediaKeys) {
            const file = await deps.media!.readFile(key);
            if (!file) continue; // listed in inkwell.json; the import reports it missing
            await pipeline(file.stream, pack.entry({ name: `media/${key}`, size: file.bytes, mtime: new Date(0) }));
          }
          pack.finalize();
        } catch (e) {
          pack.destroy(e as Error);
        }
      })();
      return out;
    },

    /**
     * Reads an archive made by exportArchive into this blog: users (without
     * passwords: each sets one with "Forgot password"), posts, tags, comments,
     * redirects and settings. Idempotent like the other imports.
     */
    async importArchive(path: string): Promise<RestoreReport> {
      const work = mkdtempSync(join(tmpdir(), 'inkwell-restore-'));
      try {
        return await restore(path, work);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };

  async function restore(path: string, work: string): Promise<RestoreReport> {
    const started = performance.now();
    const { doc, files } = await readArchive(path, work);
    const count = (): Count => ({ imported: 0, updated: 0, skipped: 0 });
    const report: RestoreReport = {
      counts: { users: count(), media: count(), posts: count(), comments: count(), pages: count(), galleries: count(), redirects: count() },
      failed: 0,
      warnings: [],
      elapsedMs: 0,
    };
    const record = async (trx: Kysely<Database>, kind: string, sourceId: string, targetId: number) => {
      const now = clock.now().toISOString();
      await trx
        .insertInto('imported_items')
        .values({ source: 'inkwell', kind, source_id: sourceId, target_id: targetId, created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['source', 'kind', 'source_id']).doUpdateSet({ target_id: targetId, updated_at: now }))
        .execute();
    };
    const recorded = async (trx: Kysely<Database>, kind: string, sourceId: string) =>
      (
        await trx
          .selectFrom('imported_items')
          .select('target_id')
          .where('source', '=', 'inkwell')
          .where('kind', '=', kind)
          .where('source_id', '=', sourceId)
          .executeTakeFirst()
      )?.target_id;
    /** One item (a post with its comments, a page, a gallery) in one transaction; counted once committed; a failure is a warning. */
    const item = async (label: string, write: (trx: Kysely<Database>, counts: RestoreReport['counts']) => Promise<void>) => {
      const counts = { users: count(), media: count(), posts: count(), comments: count(), pages: count(), galleries: count(), redirects: count() };
      try {
        await db.transaction().execute((trx) => write(trx, counts));
      } catch (e) {
        if (isConnectionError(e)) throw e;
        report.failed += 1;
        report.warnings.push({ item: label, message: `failed, and nothing of it was written (a re-run tries it again): ${(e as Error).message}` });
        return;
      }
      for (const [k, c] of Object.entries(counts) as [keyof RestoreReport['counts'], Count][]) {
        report.counts[k].imported += c.imported;
        report.counts[k].updated += c.updated;
        report.counts[k].skipped += c.skipped;
      }
    };

    for (const [k, v] of Object.entries(doc.settings ?? {})) if (EXPORTED_SETTINGS.includes(k) && typeof v === 'string') await settings.set(k, v);
    const userIds = new Map<number, number>();
    for (const u of doc.users ?? []) {
      const known = await accounts.idByEmail(String(u.email));
      if (known !== undefined) {
        userIds.set(u.id, known);
        report.counts.users.updated += 1;
        continue;
      }
      const made = await accounts.createImportedAuthor({
        email: String(u.email),
        username: String(u.username),
        displayName: String(u.displayName ?? u.username),
        role: u.role as Role,
        bio: u.bio ?? null,
      });
      userIds.set(u.id, made.id);
      report.counts.users.imported += 1;
    }
    // The media library before the posts: their bodies are rewritten to the images' new addresses.
    const { rewrite, mediaIds } = await restoreMedia(doc.media ?? [], files, userIds, report);
    const tagNames = new Map((doc.tags ?? []).map((t: { slug: string; name: string }) => [t.slug, t.name]));
    // Each post with its comments (parents first, as numbered) in one transaction.
    const commentsOf = new Map<number, any[]>();
    for (const c of doc.comments ?? []) commentsOf.set(c.postId, [...(commentsOf.get(c.postId) ?? []), c]);
    for (const p of doc.posts ?? []) {
      const own = commentsOf.get(p.id) ?? [];
      commentsOf.delete(p.id);
      await item(`post "${String(p.title).slice(0, 60)}"`, async (trx, counts) => {
        const prev = await recorded(trx, 'post', String(p.id));
        // The same post already here (the welcome post every blog starts with): updated, not doubled.
        const same = await trx.selectFrom('posts').select('id').where('slug', '=', p.slug).where('title', '=', p.title).executeTakeFirst();
        const id = prev !== undefined && (await posts.exists(prev, trx)) ? prev : same?.id;
        const post = await posts.writeImported(
          {
            authorId: p.authorId !== null ? (userIds.get(p.authorId) ?? null) : null,
            title: p.title,
            slug: p.slug,
            body: rewrite(String(p.body ?? '')),
            excerpt: p.customExcerpt,
            status: p.status === 'published' ? 'published' : p.publishAt ? 'scheduled' : 'draft',
            createdAt: p.createdAt,
            updatedAt: p.updatedAt,
            publishedAt: p.publishedAt ?? p.publishAt,
            tags: (p.tags ?? []).map((s: string) => tagNames.get(s) ?? s),
            featureImage: typeof p.featureImage === 'string' ? (mediaIds.get(p.featureImage) ?? null) : null,
            featureImageAlt: typeof p.featureImageAlt === 'string' ? p.featureImageAlt : '',
          },
          id,
          trx,
        );
        await record(trx, 'post', String(p.id), post.id);
        counts.posts[id === undefined ? 'imported' : 'updated'] += 1;
        const commentIds = new Map<number, number>();
        for (const c of own) {
          if (c.status !== 'published' && c.status !== 'held') {
            counts.comments.skipped += 1;
            continue;
          }
          const prevC = await recorded(trx, 'comment', String(c.id));
          const cId = prevC !== undefined && (await comments.exists(prevC, trx)) ? prevC : undefined;
          const cid = await comments.writeImported(
            {
              postId: post.id,
              parentId: c.parentId !== null ? (commentIds.get(c.parentId) ?? null) : null,
              authorId: c.authorId !== null ? (userIds.get(c.authorId) ?? null) : null,
              authorName: c.authorName ?? 'A former member',
              body: c.body,
              status: c.status,
              createdAt: c.createdAt,
            },
            cId,
            trx,
          );
          await record(trx, 'comment', String(c.id), cid);
          commentIds.set(c.id, cid);
          counts.comments[cId === undefined ? 'imported' : 'updated'] += 1;
        }
      });
    }
    // Comments on posts the archive does not hold.
    for (const rest of commentsOf.values()) report.counts.comments.skipped += rest.length;
    const user = (id: unknown) => (typeof id === 'number' ? (userIds.get(id) ?? null) : null);
    const text = (v: unknown, fallback = '') => (typeof v === 'string' ? v : fallback);
    const date = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : clock.now().toISOString());
    for (const p of list(doc.pages)) {
      const imageId = typeof p.imageId === 'string' ? (mediaIds.get(p.imageId) ?? null) : null;
      if (typeof p.imageId === 'string' && !imageId)
        report.warnings.push({ item: `page "${text(p.title)}"`, message: `its sharing image ${p.imageId} was not restored; the page has none` });
      await item(`page "${text(p.title).slice(0, 60)}"`, async (trx, counts) => {
        const prev = await recorded(trx, 'page', String(p.id));
        const id = prev !== undefined && (await pages.exists(prev, trx)) ? prev : undefined;
        const page = await pages.writeImported(
          {
            authorId: user(p.authorId),
            title: text(p.title, 'Untitled'),
            slug: text(p.slug),
            body: rewrite(text(p.body)),
            description: text(p.description),
            status: p.status === 'published' ? 'published' : 'draft',
            imageId,
            createdAt: date(p.createdAt),
            updatedAt: date(p.updatedAt ?? p.createdAt),
          },
          id,
          trx,
        );
        await record(trx, 'page', String(p.id), page.id);
        counts.pages[id === undefined ? 'imported' : 'updated'] += 1;
      });
    }
    for (const g of list(doc.galleries)) {
      const items: { mediaId: string; caption: string }[] = [];
      for (const it of Array.isArray(g.items) ? (g.items as Record<string, unknown>[]) : []) {
        const mediaId = typeof it?.mediaId === 'string' ? mediaIds.get(it.mediaId) : undefined;
        if (mediaId) items.push({ mediaId, caption: text(it.caption) });
        else
          report.warnings.push({ item: `gallery "${text(g.title)}"`, message: `its image ${String(it?.mediaId)} was not restored; left out of the gallery` });
      }
      await item(`gallery "${text(g.title).slice(0, 60)}"`, async (trx, counts) => {
        const prev = await recorded(trx, 'gallery', String(g.id));
        const id = prev !== undefined && (await galleries.exists(prev, trx)) ? prev : undefined;
        const gallery = await galleries.writeImported(
          {
            ownerId: user(g.ownerId),
            title: text(g.title, 'Untitled'),
            slug: text(g.slug),
            description: text(g.description),
            items,
            createdAt: date(g.createdAt),
            updatedAt: date(g.updatedAt ?? g.createdAt),
          },
          id,
          trx,
        );
        await record(trx, 'gallery', String(g.id), gallery.id);
        counts.galleries[id === undefined ? 'imported' : 'updated'] += 1;
      });
    }
    for (const r of doc.redirects ?? []) {
      await redirects.point(db, r.from, r.to, r.source ?? 'import', r.status === 302 ? 302 : 301);
      report.counts.redirects.imported += 1;
    }
    report.elapsedMs = Math.round(performance.now() - started);
    return report;
  }

  /**
   * Stores the archive's images (idempotent: an image restored before is found
   * in imported_items) and returns the rewrite of a post body from their old
   * addresses (absolute or /media/<key>, variants included) to the new ones.
   */
  async function restoreMedia(
    list: unknown[],
    files: Map<string, { path: string; bytes: number }>,
    userIds: Map<number, number>,
    report: RestoreReport,
  ): Promise<{ rewrite: (body: string) => string; mediaIds: Map<string, string> }> {
    const mediaIds = new Map<string, string>();
    const byKey = new Map<string, string>();
    const byId = new Map<string, string>();
    const byUrl = new Map<string, string>();
    for (const raw of list) {
      const m = raw as Record<string, unknown>;
      const id = typeof m.id === 'string' ? m.id : '';
      const key = typeof m.key === 'string' ? m.key : '';
      const label = `image ${id || '?'} (${String(m.originalName ?? key)})`;
      if (!deps.media) {
        report.counts.media.skipped += 1;
        continue;
      }
      const file = files.get(key);
      if (!id || !/^[A-Za-z0-9]{1,40}$/.test(id) || !file) {
        report.counts.media.skipped += 1;
        report.warnings.push({ item: label, message: 'its file is not in the archive; posts keep its old address' });
        continue;
      }
      const prev = (
        await db
          .selectFrom('imported_items')
          .select('target_key')
          .where('source', '=', 'inkwell')
          .where('kind', '=', 'media')
          .where('source_id', '=', id)
          .executeTakeFirst()
      )?.target_key;
      let url: string | null = null;
      let newId = prev ?? null;
      if (prev)
        url = await deps.media.get(prev).then(
          (x) => x.url,
          // Deleted from the library since: stored again.
          (e) => {
            if (e instanceof AppError && e.code === 'not_found') return null;
            throw e;
          },
        );
      if (url) report.counts.media.updated += 1;
      else {
        const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
        try {
          const stored = await deps.media.store(
            { path: file.path, bytes: file.bytes, name: text(m.originalName) },
            {
              ownerId: typeof m.ownerId === 'number' ? (userIds.get(m.ownerId) ?? null) : null,
              alt: text(m.alt),
              caption: text(m.caption),
              credit: text(m.credit),
              createdAt: text(m.createdAt) && !Number.isNaN(Date.parse(text(m.createdAt)!)) ? new Date(text(m.createdAt)!).toISOString() : undefined,
            },
          );
          url = stored.url;
          newId = stored.id;
          const now = clock.now().toISOString();
          await db
            .insertInto('imported_items')
            .values({ source: 'inkwell', kind: 'media', source_id: id, target_id: 0, target_key: stored.id, created_at: now, updated_at: now })
            .onConflict((oc) => oc.columns(['source', 'kind', 'source_id']).doUpdateSet({ target_key: stored.id, updated_at: now }))
            .execute();
          report.counts.media.imported += 1;
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          report.counts.media.skipped += 1;
          report.warnings.push({ item: label, message: `was refused by the media library: ${e.message}` });
          continue;
        }
      }
      byKey.set(key, url);
      byId.set(id, url);
      if (newId) mediaIds.set(id, newId);
      if (typeof m.url === 'string' && m.url) byUrl.set(m.url, url);
    }
    if (!byKey.size) return { rewrite: (body) => body, mediaIds };
    const urls = [...byUrl.keys()].sort((a, b) => b.length - a.length);
    const rewrite = (body: string) => {
      let out = body;
      for (const u of urls) out = out.split(u).join(byUrl.get(u)!);
      // Any other address of the same file on the old site: https://old/media/<key>, /media/<key>, or a variant (<id>-<width>w-…).
      return out.replace(/(?:https?:\/\/[^\s()<>"']+?)?\/media\/([A-Za-z0-9][A-Za-z0-9._-]*)/g, (whole, key: string) => {
        const found = byKey.get(key) ?? byId.get(key.split('-')[0]);
        if (!found) return whole;
        // A path stays a path when the image is served by this site.
        const site = deps.site.url.replace(/\/+$/, '');
        return whole.startsWith('/') && found.startsWith(`${site}/`) ? found.slice(site.length) : found;
      });
    };
    return { rewrite, mediaIds };
  }
}

// Loaded by the first export or archive import, not at start.
const loadTar = async () => (await import('tar-stream')).default;

/** The objects of a list in the document (anything else in it is ignored). */
const list = (v: unknown): Record<string, any>[] => (Array.isArray(v) ? v.filter((x) => x && typeof x === 'object' && !Array.isArray(x)) : []);

/**
 * The inkwell.json of an export archive, checked, and its media files (written
 * into `work`, by key); ImportRefused for anything else.
 */
async function readArchive(path: string, work: string): Promise<{ doc: any; files: Map<string, { path: string; bytes: number }> }> {
  const tar = await loadTar();
  const extract = tar.extract();
  let text: string | null = null;
  const files = new Map<string, { path: string; bytes: number }>();
  extract.on('entry', (header, stream, next) => {
    const media = header.type === 'file' ? MEDIA_ENTRY.exec(header.name) : null;
    if (media) {
      if ((header.size ?? 0) > MAX_MEDIA_FILE) {
        extract.destroy(new ImportRefused(`${header.name} claims ${header.size} bytes; an image larger than ${MAX_MEDIA_FILE / 1024 / 1024} MB is refused`));
        return;
      }
      // The key is checked above (no directories): the file lands in `work` and nowhere else.
      const to = join(work, media[1]);
      pipeline(stream, createWriteStream(to)).then(() => {
        files.set(media[1], { path: to, bytes: statSync(to).size });
        next();
      }, next);
      return;
    }
    if (header.name !== 'inkwell.json') {
      stream.resume();
      stream.on('end', next);
      return;
    }
    if ((header.size ?? 0) > MAX_DOCUMENT) {
      extract.destroy(new ImportRefused(`inkwell.json claims ${header.size} bytes; more than ${MAX_DOCUMENT / 1024 / 1024} MB is refused`));
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      text = Buffer.concat(chunks).toString('utf8');
      next();
    });
  });
  try {
    await pipeline(createReadStream(path), createGunzip(), extract);
  } catch (e) {
    if (e instanceof ImportRefused) throw e;
    throw new ImportRefused(`this is not an Inkwell export archive (a .tar.gz): ${(e as Error).message}`);
  }
  if (text === null) throw new ImportRefused('this archive holds no inkwell.json');
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ImportRefused(`inkwell.json is not JSON: ${(e as Error).message}`);
  }
  if (doc?.format !== EXPORT_FORMAT) throw new ImportRefused('inkwell.json is not an Inkwell export');
  if (!READABLE_VERSIONS.includes(doc.version))
    throw new ImportRefused(`this export is version ${doc.version}; this Inkwell reads versions ${READABLE_VERSIONS.join(' and ')}`);
  return { doc, files };
}

export type Exporter = ReturnType<typeof createExporter>;
