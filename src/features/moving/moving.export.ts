import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type { Kysely } from 'kysely';
import tar from 'tar-stream';
import { stringify as yaml } from 'yaml';
import type { Database, Role } from '../../platform/db/schema.ts';
import type { Settings } from '../../platform/settings.ts';
import type { Clock } from '../../lib/clock.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { CommentsService } from '../comments/index.ts';
import type { MediaService } from '../media/index.ts';
import type { PostsService } from '../posts/index.ts';
import type { RedirectsService } from '../redirects/index.ts';
import { ImportRefused } from './moving.errors.ts';
import type { Count } from './moving.service.ts';

// The export archive (format "inkwell-export", version 1; README "Export format"):
// a gzipped tar holding inkwell.json, the whole blog as one JSON document, and
// markdown/<slug>.md, one file per post with YAML front matter.

export const EXPORT_FORMAT = 'inkwell-export';
export const EXPORT_VERSION = 1;
/** Settings that are the blog's, not its secrets (the session secret, Slack's URL, setup tokens stay). */
const EXPORTED_SETTINGS = ['site_name', 'signup_mode', 'comment_moderation'];
const MAX_DOCUMENT = 512 * 1024 * 1024;
const PAGE = 500;

/** What `import inkwell` did. */
export interface RestoreReport {
  counts: { users: Count; posts: Count; comments: Count; redirects: Count };
  elapsedMs: number;
}

/** Export and re-import of the whole blog. */
export function createExporter(deps: {
  db: Kysely<Database>;
  clock: Clock;
  settings: Settings;
  site: { url: string };
  posts: PostsService;
  comments: CommentsService;
  accounts: AccountsService;
  redirects: RedirectsService;
  /** The media library: its files and their metadata travel in the archive. */
  media?: MediaService;
}) {
  const { db, clock, settings, posts, comments, accounts, redirects } = deps;

  // The JSON document, written to a file a page of rows at a time (never whole in memory).
  async function writeDocument(path: string, markdown: (slug: string, text: string) => Promise<void>): Promise<void> {
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
    // Users without password hashes, tokens or sessions.
    const users = await db.selectFrom('users').select(['id', 'email', 'username', 'display_name', 'role', 'bio', 'created_at']).orderBy('id').execute();
    await write(
      `,"users":${JSON.stringify(users.map((u) => ({ id: u.id, email: u.email, username: u.username, displayName: u.display_name, role: u.role, bio: u.bio, createdAt: u.created_at })))}`,
    );
    const tags = await db.selectFrom('tags').select(['name', 'slug']).orderBy('slug').execute();
    await write(`,"tags":${JSON.stringify(tags)}`);
    await write(',"posts":[');
    const usernames = new Map(users.map((u) => [u.id, u.username]));
    let first = true;
    for (let after = 0; ; ) {
      const rows = await db.selectFrom('posts').selectAll().where('id', '>', after).orderBy('id').limit(PAGE).execute();
      if (!rows.length) break;
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
      for (const r of rows) {
        const postTags = tagRows.filter((t) => t.post_id === r.id);
        const p = {
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
          tags: postTags.map((t) => t.slug),
        };
        await write(`${first ? '' : ','}${JSON.stringify(p)}`);
        first = false;
        const front = yaml({
          title: r.title,
          slug: r.slug,
          date: r.published_at ?? r.publish_at ?? r.created_at,
          updated: r.updated_at,
          draft: r.status !== 'published',
          author: r.author_id !== null ? (usernames.get(r.author_id) ?? null) : null,
          tags: postTags.map((t) => t.name),
          ...(r.custom_excerpt ? { excerpt: r.custom_excerpt } : {}),
        });
        await markdown(r.slug, `---\n${front}---\n\n${r.body}\n`);
      }
      after = rows.at(-1)!.id;
    }
    await write('],"comments":[');
    first = true;
    for (let after = 0; ; ) {
      const rows = await db.selectFrom('comments').selectAll().where('id', '>', after).orderBy('id').limit(PAGE).execute();
      if (!rows.length) break;
      for (const c of rows) {
        await write(
          `${first ? '' : ','}${JSON.stringify({ id: c.id, postId: c.post_id, parentId: c.parent_id, authorId: c.author_id, authorName: c.author_name, body: c.body, status: c.status, createdAt: c.created_at })}`,
        );
        first = false;
      }
      after = rows.at(-1)!.id;
    }
    const reds = await db.selectFrom('redirects').select(['from_path', 'to_path', 'status', 'source']).orderBy('id').execute();
    await write(`],"redirects":${JSON.stringify(reds.map((r) => ({ from: r.from_path, to: r.to_path, status: r.status, source: r.source })))}}\n`);
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
      const dir = mkdtempSync(join(tmpdir(), 'inkwell-export-'));
      const pack = tar.pack();
      const mdPath = join(dir, 'markdown.tar');
      // Markdown files are small: packed into a second tar as they come, then copied across.
      const mdPack = tar.pack();
      const mdFile = createWriteStream(mdPath);
      const mdDone = pipeline(mdPack, mdFile);
      const seen = new Set<string>();
      const jsonPath = join(dir, 'inkwell.json');
      await writeDocument(jsonPath, async (slug, text) => {
        const name = seen.has(slug) ? `${slug}-${seen.size}` : slug;
        seen.add(name);
        await new Promise<void>((resolve, reject) =>
          mdPack.entry({ name: `markdown/${name}.md`, mtime: new Date(0) }, text, (e) => (e ? reject(e) : resolve())),
        );
      });
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
      const started = performance.now();
      const doc = await readDocument(path);
      const count = (): Count => ({ imported: 0, updated: 0, skipped: 0 });
      const report: RestoreReport = { counts: { users: count(), posts: count(), comments: count(), redirects: count() }, elapsedMs: 0 };
      const record = async (kind: string, sourceId: string, targetId: number) => {
        const now = clock.now().toISOString();
        await db
          .insertInto('imported_items')
          .values({ source: 'inkwell', kind, source_id: sourceId, target_id: targetId, created_at: now, updated_at: now })
          .onConflict((oc) => oc.columns(['source', 'kind', 'source_id']).doUpdateSet({ target_id: targetId, updated_at: now }))
          .execute();
      };
      const recorded = async (kind: string, sourceId: string) =>
        (
          await db
            .selectFrom('imported_items')
            .select('target_id')
            .where('source', '=', 'inkwell')
            .where('kind', '=', kind)
            .where('source_id', '=', sourceId)
            .executeTakeFirst()
        )?.target_id;

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
      const tagNames = new Map((doc.tags ?? []).map((t: { slug: string; name: string }) => [t.slug, t.name]));
      const postIds = new Map<number, number>();
      for (const p of doc.posts ?? []) {
        const prev = await recorded('post', String(p.id));
        // The same post already here (the welcome post every blog starts with): updated, not doubled.
        const same = await db.selectFrom('posts').select('id').where('slug', '=', p.slug).where('title', '=', p.title).executeTakeFirst();
        const id = prev !== undefined && (await posts.exists(prev)) ? prev : same?.id;
        const post = await posts.writeImported(
          {
            authorId: p.authorId !== null ? (userIds.get(p.authorId) ?? null) : null,
            title: p.title,
            slug: p.slug,
            body: p.body,
            excerpt: p.customExcerpt,
            status: p.status === 'published' ? 'published' : p.publishAt ? 'scheduled' : 'draft',
            createdAt: p.createdAt,
            updatedAt: p.updatedAt,
            publishedAt: p.publishedAt ?? p.publishAt,
            tags: (p.tags ?? []).map((s: string) => tagNames.get(s) ?? s),
          },
          id,
        );
        await record('post', String(p.id), post.id);
        postIds.set(p.id, post.id);
        if (id === undefined) report.counts.posts.imported += 1;
        else report.counts.posts.updated += 1;
      }
      const commentIds = new Map<number, number>();
      for (const c of doc.comments ?? []) {
        const postId = postIds.get(c.postId);
        if (postId === undefined || (c.status !== 'published' && c.status !== 'held')) {
          report.counts.comments.skipped += 1;
          continue;
        }
        const prev = await recorded('comment', String(c.id));
        const id = prev !== undefined && (await comments.exists(prev)) ? prev : undefined;
        const cid = await comments.writeImported(
          {
            postId,
            parentId: c.parentId !== null ? (commentIds.get(c.parentId) ?? null) : null,
            authorId: c.authorId !== null ? (userIds.get(c.authorId) ?? null) : null,
            authorName: c.authorName ?? 'A former member',
            body: c.body,
            status: c.status,
            createdAt: c.createdAt,
          },
          id,
        );
        await record('comment', String(c.id), cid);
        commentIds.set(c.id, cid);
        if (id === undefined) report.counts.comments.imported += 1;
        else report.counts.comments.updated += 1;
      }
      for (const r of doc.redirects ?? []) {
        await redirects.point(db, r.from, r.to, r.source ?? 'import', r.status === 302 ? 302 : 301);
        report.counts.redirects.imported += 1;
      }
      report.elapsedMs = Math.round(performance.now() - started);
      return report;
    },
  };
}

/** The inkwell.json of an export archive, checked; ImportRefused for anything else. */
async function readDocument(path: string): Promise<any> {
  const extract = tar.extract();
  let text: string | null = null;
  extract.on('entry', (header, stream, next) => {
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
  if (doc.version !== EXPORT_VERSION) throw new ImportRefused(`this export is version ${doc.version}; this Inkwell reads version ${EXPORT_VERSION}`);
  return doc;
}

export type Exporter = ReturnType<typeof createExporter>;
