import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock.ts';
import type { Database } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { HttpClient } from '../../platform/http-client/index.ts';
import { OutboundError } from '../../platform/http-client/index.ts';
import type { MediaService } from '../media/index.ts';

/** What an import did with the images of the old site. */
export interface ImageCounts {
  /** Downloaded into the media library in this run. */
  imported: number;
  /** Already in the media library from an earlier run: not downloaded again. */
  reused: number;
  /** Not downloaded (each has a warning): the post keeps the old URL. */
  failed: number;
}

/** What downloading images needs: the one outgoing client and the media library. */
export interface ImageDeps {
  http: HttpClient;
  media: MediaService;
  /** The media library's size limit (MEDIA_MAX_BYTES): a bigger image is not downloaded whole. */
  maxBytes: number;
  /** Per image, DNS and redirects included. */
  timeoutMs?: number;
}

const GHOST_URL = '__GHOST_URL__';

/**
 * Downloads a run's images into the media library and rewrites posts to use
 * them. One image URL is downloaded once per run (shared by the posts that use
 * it) and once ever: the source URL → media id is kept in imported_items, so a
 * re-run finds it there.
 */
export function createImageImport(opts: {
  db: Kysely<Database>;
  clock: Clock;
  deps: ImageDeps | undefined;
  source: 'wordpress' | 'ghost';
  /** The old site's address, for Ghost's __GHOST_URL__ and relative URLs. */
  siteUrl: string | undefined;
  counts: ImageCounts;
  warn(item: string, message: string): void;
}) {
  const { db, clock, deps, source, counts, warn } = opts;
  const base = opts.siteUrl?.replace(/\/+$/, '');
  const inRun = new Map<string, Promise<{ url: string } | { error: string }>>();
  let noLibraryWarned = false;

  /** The absolute URL to download, or why there is none. */
  function resolve(src: string): { url: string } | { error: string } {
    if (src.startsWith(GHOST_URL)) {
      if (!base) return { error: "is on the old Ghost site (__GHOST_URL__); give the old site's address (--site-url, or the form's field) to import it" };
      return { url: base + src.slice(GHOST_URL.length) };
    }
    try {
      const u = new URL(src, base ? `${base}/` : undefined);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return { error: 'is not an http(s) address' };
      return { url: u.href };
    } catch {
      return { error: base ? 'is not a valid address' : "is a relative address; give the old site's address (--site-url) to import it" };
    }
  }

  async function known(url: string): Promise<string | null> {
    const row = await db
      .selectFrom('imported_items')
      .select('target_key')
      .where('source', '=', source)
      .where('kind', '=', 'image')
      .where('source_id', '=', url)
      .executeTakeFirst();
    if (!row?.target_key || !deps) return null;
    try {
      return (await deps.media.get(row.target_key)).url;
    } catch (e) {
      // Deleted from the library since: downloaded again.
      if (e instanceof AppError && e.code === 'not_found') return null;
      throw e;
    }
  }

  async function download(url: string, ownerId: number | null): Promise<{ url: string } | { error: string }> {
    if (!deps) return { error: 'was not downloaded (no media library here)' };
    const before = await known(url);
    if (before) {
      counts.reused += 1;
      return { url: before };
    }
    let data: Buffer;
    try {
      const res = await deps.http.request(url, { timeoutMs: deps.timeoutMs ?? 30_000, maxBytes: deps.maxBytes + 1 });
      if (res.status !== 200) return { error: `could not be downloaded: the old site answered ${res.status}` };
      if (res.truncated || res.body.length > deps.maxBytes)
        return { error: `is larger than the media library's limit of ${Math.round(deps.maxBytes / 1024 / 1024)} MB (MEDIA_MAX_BYTES)` };
      data = res.body;
    } catch (e) {
      if (e instanceof OutboundError) return { error: `could not be downloaded: ${e.message}` };
      throw e;
    }
    let mediaId: string;
    let mediaUrl: string;
    try {
      const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '') || 'image';
      const m = await deps.media.store({ data, name }, { ownerId });
      mediaId = m.id;
      mediaUrl = m.url;
    } catch (e) {
      if (e instanceof AppError) return { error: `was refused by the media library: ${e.message}` };
      if (e instanceof URIError) return { error: 'has a badly encoded name' };
      throw e;
    }
    const now = clock.now().toISOString();
    await db
      .insertInto('imported_items')
      .values({ source, kind: 'image', source_id: url, target_id: 0, target_key: mediaId, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['source', 'kind', 'source_id']).doUpdateSet({ target_key: mediaId, updated_at: now }))
      .execute();
    counts.imported += 1;
    return { url: mediaUrl };
  }

  return {
    /**
     * Downloads every image of one post (`images`, as written in `body`) and
     * returns the body pointing at the media library; an image that fails keeps
     * its old URL and is a warning naming the post.
     */
    async rewrite(body: string, images: string[], item: string, ownerId: number | null): Promise<string> {
      // Longest first: an URL that begins another must not cut into it.
      const srcs = [...new Set(images)].sort((a, b) => b.length - a.length);
      let out = body;
      for (const src of srcs) {
        const target = resolve(src);
        if ('error' in target) {
          counts.failed += 1;
          warn(item, `the image ${src} ${target.error}; it keeps its old address`);
          continue;
        }
        if (!deps) {
          counts.failed += 1;
          if (!noLibraryWarned) warn(item, 'images were not downloaded (no media library here); they keep their old addresses');
          noLibraryWarned = true;
          continue;
        }
        let p = inRun.get(target.url);
        const first = !p;
        if (!p) {
          p = download(target.url, ownerId);
          inRun.set(target.url, p);
        }
        const got = await p;
        if ('error' in got) {
          // Counted once per URL, but every post that uses it is named.
          if (first) counts.failed += 1;
          warn(item, `the image ${target.url} ${got.error}; it keeps its old address`);
          continue;
        }
        out = out.split(src).join(got.url);
      }
      return out;
    },
  };
}
