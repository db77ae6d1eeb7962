import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Kysely, Selectable } from 'kysely';
import type { MediaConfig } from '../../config.ts';
import type { Database, MediaTable, MediaVariantsTable } from '../../platform/db/schema.ts';
import { AppError, assertValid, type FieldError } from '../../platform/errors.ts';
import type { CurrentUser } from '../../platform/http/sessions.ts';
import type { Queue } from '../../platform/jobs/queue.ts';
import type { Clock } from '../../lib/clock.ts';
import {
  ACCEPTED,
  cleanImage,
  createGate,
  decodeForVariants,
  EXT_OF_FORMAT,
  loadSharp,
  makeVariant,
  placeholderOf,
  planVariants,
  sha256File,
  sniff,
  type VariantPlan,
} from './media.images.ts';
import { canManageMedia } from './media.policy.ts';
import type { MediaStorage } from './media.storage.ts';

/** One responsive copy of an image, as the API shows it. */
export interface MediaVariant {
  url: string;
  width: number;
  height: number;
  format: string;
}

/** An uploaded image, as pages and the API show it. */
export interface Media {
  id: string;
  url: string;
  mime: string;
  width: number;
  height: number;
  bytes: number;
  animated: boolean;
  originalName: string;
  alt: string;
  caption: string;
  credit: string;
  placeholder: string | null;
  uploader: { id: number; username: string } | null;
  variants: MediaVariant[];
  variantsReady: boolean;
  createdAt: string;
  updatedAt: string;
}

/** An image as the export archive lists it. */
export interface ExportedMedia {
  id: string;
  /** The stored file's key: the last part of every URL of this image. */
  key: string;
  url: string;
  mime: string;
  bytes: number;
  originalName: string;
  alt: string;
  caption: string;
  credit: string;
  ownerId: number | null;
  createdAt: string;
}

/** Where an image is used (a post, a gallery, an avatar), for the "still in use" message. */
export interface MediaUse {
  kind: string;
  title: string;
  url: string;
}

/**
 * A feature that can use images tells media where they are used, so deleting a
 * used image is refused and the clean-up keeps it. Given a batch of ids, it
 * answers the uses of those that are used.
 */
export type MediaReferenceSource = (ids: string[]) => Promise<Map<string, MediaUse[]>>;

export const LIMITS = { alt: 1000, caption: 2000, credit: 300, name: 200 };

/** How long an upload may stay unused before the clean-up removes it. */
export const UNUSED_AFTER_MS = 7 * 24 * 3600 * 1000;

type Row = Selectable<MediaTable> & { username: string | null };

/** A file name as sent, reduced to its last part: no directories, no control characters. */
export function safeName(raw: string | undefined): string {
  const last = (raw ?? '').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = last
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, LIMITS.name);
  return clean || 'upload';
}

export interface MediaDeps {
  db: Kysely<Database>;
  storage: MediaStorage;
  queue: Queue;
  clock: Clock;
  config: MediaConfig;
  /** This site's base URL: media is served from `${siteUrl}/media/` unless MEDIA_PUBLIC_URL is set. */
  siteUrl: string;
}

/** Uploads, the library, variants and clean-up. */
export function createMediaService(deps: MediaDeps) {
  const { db, storage, queue, clock, config } = deps;
  const references: MediaReferenceSource[] = [];
  // Two images at once per process: each is already one libvips thread (limitSharp).
  const gate = createGate(2);
  const iso = () => clock.now().toISOString();
  const urlOf = (key: string) => storage.publicUrl(key) ?? `${deps.siteUrl}/media/${key}`;

  const select = () => db.selectFrom('media').leftJoin('users', 'users.id', 'media.owner_id').selectAll('media').select('users.username');

  async function present(rows: Row[]): Promise<Media[]> {
    if (!rows.length) return [];
    const variants = await db
      .selectFrom('media_variants')
      .selectAll()
      .where(
        'media_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('media_id')
      .orderBy('width')
      .orderBy('format')
      .execute();
    const stale = rows.filter((r) => r.variants_ready_at !== null && r.variant_widths !== widthsKey);
    if (stale.length) await remakeStale(stale.map((r) => r.id));
    const byMedia = new Map<string, Selectable<MediaVariantsTable>[]>();
    for (const v of variants) byMedia.set(v.media_id, [...(byMedia.get(v.media_id) ?? []), v]);
    return rows.map((r) => ({
      id: r.id,
      url: urlOf(r.storage_key),
      mime: r.mime,
      width: r.width,
      height: r.height,
      bytes: Number(r.bytes),
      animated: !!r.animated,
      originalName: r.original_name,
      alt: r.alt,
      caption: r.caption,
      credit: r.credit,
      placeholder: r.placeholder,
      uploader: r.owner_id !== null && r.username !== null ? { id: r.owner_id, username: r.username } : null,
      variants: (byMedia.get(r.id) ?? []).map((v) => ({ url: urlOf(v.storage_key), width: v.width, height: v.height, format: v.format })),
      variantsReady: r.variants_ready_at !== null && r.variant_widths === widthsKey,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async function load(id: string): Promise<Row> {
    const row = await select().where('media.id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('not_found', 'No media with this id');
    return row;
  }

  async function usesOf(ids: string[]): Promise<Map<string, MediaUse[]>> {
    const all = new Map<string, MediaUse[]>();
    for (const source of references) {
      for (const [id, uses] of await source(ids)) all.set(id, [...(all.get(id) ?? []), ...uses]);
    }
    return all;
  }

  /** Removes the rows first, then the files: a file without a row is only garbage, a row without a file is a broken image. */
  async function remove(row: Selectable<MediaTable>): Promise<void> {
    const variants = await db.selectFrom('media_variants').select('storage_key').where('media_id', '=', row.id).execute();
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('media_variants').where('media_id', '=', row.id).execute();
      const gone = await trx.deleteFrom('media').where('id', '=', row.id).executeTakeFirst();
      if (row.owner_id !== null && Number(gone.numDeletedRows) === 1) {
        await trx
          .updateTable('media_usage')
          .set((eb) => ({ bytes: eb('bytes', '-', Number(row.bytes)) }))
          .where('owner_id', '=', row.owner_id)
          .execute();
      }
    });
    for (const key of [row.storage_key, row.original_key, ...variants.map((v) => v.storage_key)]) {
      if (key) await storage.delete(key);
    }
  }

  // Pages show the same images again and again: an image whose variants are all made
  // is kept here for a minute (alt text edited on another instance shows up after that).
  const CACHE_MS = 60_000;
  const CACHE_MAX = 2000;
  const cache = new Map<string, { media: Media; until: number }>();
  const forget = (id: string) => cache.delete(id);

  const widthsKey = config.widths.join(',');
  const FORMATS = new Set(['avif', 'webp', 'jpeg', 'png', 'gif']);

  /**
   * Makes the variants that `pick` chooses from the image's plan and that do not
   * exist yet, from one decode of the stored image; answers every variant's key by
   * "width:format".
   */
  async function makeMissing(row: Selectable<MediaTable>, pick: (plan: VariantPlan[]) => VariantPlan[]): Promise<Map<string, string>> {
    const id = row.id;
    const existing = await db.selectFrom('media_variants').select(['width', 'format', 'storage_key']).where('media_id', '=', id).execute();
    const keys = new Map(existing.map((v) => [`${v.width}:${v.format}`, v.storage_key]));
    const master = await storage.get(row.storage_key);
    if (!master) throw new Error(`media ${id}: stored file ${row.storage_key} is missing`);
    const work = await mkdtemp(join(tmpdir(), 'inkwell-variants-'));
    try {
      const cleanPath = join(work, row.storage_key);
      await writeFile(cleanPath, master.stream);
      const alpha = row.mime !== 'image/jpeg' && (await hasAlpha(cleanPath));
      const todo = pick(planVariants({ width: row.width, animated: !!row.animated, hasAlpha: alpha }, config.widths)).filter(
        (p) => !keys.has(`${p.width}:${p.format}`),
      );
      if (!todo.length) return keys;
      const source = row.animated ? cleanPath : await gate(() => decodeForVariants(cleanPath, Math.max(...todo.map((p) => p.width))));
      for (const p of todo) {
        const out = await gate(() => makeVariant(source, p, !!row.animated));
        const hash = createHash('sha256').update(out.data).digest('hex').slice(0, 16);
        const key = `${id}-${p.width}w-${hash}.${EXT_OF_FORMAT[p.format]}`;
        const tmp = join(work, key);
        await writeFile(tmp, out.data);
        await storage.put(key, { path: tmp }, `image/${p.format}`);
        // Made twice at once (two requests, or a request and the job): one row.
        await db
          .insertInto('media_variants')
          .values({ media_id: id, width: out.width, height: out.height, format: p.format, storage_key: key, bytes: out.data.length, created_at: iso() })
          .onConflict((oc) => oc.doNothing())
          .execute();
        const kept = await db
          .selectFrom('media_variants')
          .select('storage_key')
          .where('media_id', '=', id)
          .where('width', '=', out.width)
          .where('format', '=', p.format)
          .executeTakeFirst();
        // Should the other maker's bytes have differed, theirs has the row: ours is not kept.
        if (kept && kept.storage_key !== key) await storage.delete(key);
        keys.set(`${p.width}:${p.format}`, kept?.storage_key ?? key);
        await rm(tmp, { force: true });
      }
      forget(id);
      return keys;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Images whose variants were made for other widths than MEDIA_WIDTHS now: each
   * gets one job that makes what is missing (the conditional update lets only the
   * first request that notices queue it). Until then pages show the variants it has.
   */
  async function remakeStale(ids: string[]): Promise<void> {
    for (const id of ids) {
      await db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('media')
          .set({ variants_ready_at: null })
          .where('id', '=', id)
          .where('variants_ready_at', 'is not', null)
          .where((eb) => eb.or([eb('variant_widths', 'is', null), eb('variant_widths', '!=', widthsKey)]))
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 1) await queue.enqueue(trx, 'media.variants', { id });
      });
    }
  }

  const service = {
    /** Many images by id in one batch (those that exist), for pages that show them. */
    async findMany(ids: string[]): Promise<Map<string, Media>> {
      const out = new Map<string, Media>();
      const now = clock.now().getTime();
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const hit = cache.get(id);
        if (hit && hit.until > now) out.set(id, hit.media);
        else missing.push(id);
      }
      if (!missing.length) return out;
      for (const m of await present(await select().where('media.id', 'in', missing).execute())) {
        out.set(m.id, m);
        if (m.variantsReady) {
          if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
          cache.set(m.id, { media: m, until: now + CACHE_MS });
        }
      }
      return out;
    },

    /** Registers where images are used (posts, galleries, avatars); see MediaReferenceSource. */
    addReferenceSource(source: MediaReferenceSource): void {
      references.push(source);
    },

    /**
     * Stores an uploaded file (already on disk, in a temporary file the caller
     * removes): sniffs, checks and cleans it, stores the cleaned copy, records
     * it and queues its variants. Stores nothing when anything fails.
     */
    async upload(user: CurrentUser, file: { path: string; bytes: number; name: string | undefined }): Promise<Media> {
      return service.store(file, { ownerId: user.id, quota: user.role !== 'admin' });
    },

    /**
     * Stores a file as an upload by this owner (imports, restores): the same
     * sniffing, cleaning and limits as upload(); a Buffer is written to a
     * temporary file first. The owner's quota applies only when `quota` is set.
     */
    async store(
      input: { path: string; bytes: number; name: string | undefined } | { data: Buffer; name: string | undefined },
      opts: { ownerId: number | null; quota?: boolean; alt?: string; caption?: string; credit?: string; createdAt?: string },
    ): Promise<Media> {
      if ('data' in input) {
        const dir = await mkdtemp(join(tmpdir(), 'inkwell-store-'));
        try {
          const path = join(dir, 'upload');
          await writeFile(path, input.data);
          return await service.store({ path, bytes: input.data.length, name: input.name }, opts);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      const file = input;
      if (file.bytes === 0) throw new AppError('validation_failed', 'The file is empty', [{ field: 'file', message: 'is empty' }]);
      if (file.bytes > config.maxBytes)
        throw new AppError('payload_too_large', `The file is larger than ${Math.round(config.maxBytes / 1024 / 1024)} MB (MEDIA_MAX_BYTES)`);
      const mime = await sniff(file.path);
      const work = await mkdtemp(join(tmpdir(), 'inkwell-clean-'));
      const stored: string[] = [];
      try {
        const ext = ACCEPTED[mime].ext;
        const cleanPath = join(work, `clean.${ext}`);
        const img = await gate(() => cleanImage(file.path, cleanPath, mime, config.maxPixels));
        const quota = config.quotaBytes !== null && opts.quota && opts.ownerId !== null ? config.quotaBytes : null;
        // Refused early when plainly over (no storing for nothing); taken for real, atomically, below.
        if (quota !== null && (await usageOf(db, opts.ownerId!)) + img.bytes > quota) throw overQuota(quota, await usageOf(db, opts.ownerId!));
        const placeholder = await gate(() => placeholderOf(cleanPath));
        const id = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
        const key = `${id}-${img.hash.slice(0, 16)}.${ext}`;
        await storage.put(key, { path: cleanPath }, mime);
        stored.push(key);
        let originalKey: string | null = null;
        if (config.keepOriginals) {
          originalKey = `originals/${id}-${(await sha256File(file.path)).slice(0, 16)}.${ext}`;
          await storage.put(originalKey, { path: file.path }, mime);
          stored.push(originalKey);
        }
        const now = iso();
        const meta = (v: string | undefined, limit: number) => (v ?? '').trim().slice(0, limit);
        await db.transaction().execute(async (trx) => {
          // The quota is taken in one conditional UPDATE in the row's transaction: two
          // uploads at once serialise on the account's usage row, and the second sees
          // the first's bytes. Refused, the transaction rolls back and the stored file goes.
          if (opts.ownerId !== null && !(await takeBytes(trx, opts.ownerId, img.bytes, quota))) {
            throw overQuota(quota!, await usageOf(trx, opts.ownerId));
          }
          await trx
            .insertInto('media')
            .values({
              id,
              owner_id: opts.ownerId,
              original_name: safeName(file.name),
              mime,
              bytes: img.bytes,
              width: img.width,
              height: img.height,
              animated: img.animated ? 1 : 0,
              hash: img.hash,
              storage_key: key,
              original_key: originalKey,
              alt: meta(opts.alt, LIMITS.alt),
              caption: meta(opts.caption, LIMITS.caption),
              credit: meta(opts.credit, LIMITS.credit),
              placeholder,
              variants_ready_at: null,
              created_at: opts.createdAt ?? now,
              updated_at: now,
            })
            .execute();
          await queue.enqueue(trx, 'media.variants', { id });
        });
        stored.length = 0;
        return (await present([await load(id)]))[0];
      } finally {
        for (const key of stored) await storage.delete(key).catch(() => {});
        await rm(work, { recursive: true, force: true });
      }
    },

    /** The library for the export archive, a page at a time in id order: metadata, owner and the stored (cleaned) file's key. */
    async exportPage(after: string, limit: number): Promise<ExportedMedia[]> {
      const rows = await db.selectFrom('media').selectAll().where('id', '>', after).orderBy('id').limit(limit).execute();
      return rows.map((r) => ({
        id: r.id,
        key: r.storage_key,
        url: urlOf(r.storage_key),
        mime: r.mime,
        bytes: Number(r.bytes),
        originalName: r.original_name,
        alt: r.alt,
        caption: r.caption,
        credit: r.credit,
        ownerId: r.owner_id,
        createdAt: r.created_at,
      }));
    },

    /** The stored bytes of an image (the export archive reads them); null if the file is missing. */
    async readFile(key: string): Promise<{ stream: Readable; bytes: number } | null> {
      return storage.get(key);
    },

    /**
     * Private files for other features' background work (an import's upload):
     * kept in the media storage, so every instance reads them (S3 with several
     * instances), under private/ with a random name. They are not in the
     * library: never listed, never served by /media/, gone when dropped.
     */
    privateFiles: {
      async put(from: { path: string }): Promise<string> {
        const key = `private/${randomBytes(16).toString('hex')}`;
        await storage.put(key, from, 'application/octet-stream');
        return key;
      },
      async get(key: string): Promise<{ stream: Readable; bytes: number } | null> {
        return PRIVATE_KEY.test(key) ? storage.get(key) : null;
      },
      async drop(key: string): Promise<void> {
        if (PRIVATE_KEY.test(key)) await storage.delete(key);
      },
    },

    /** Makes the variants an image still lacks for MEDIA_WIDTHS (idempotent: a retried job makes only what is missing), and remembers the set. */
    async makeVariants(id: string): Promise<void> {
      const row = await db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return;
      await makeMissing(row, (plan) => plan);
      await db.updateTable('media').set({ variants_ready_at: iso(), variant_widths: widthsKey }).where('id', '=', id).execute();
      forget(id);
    },

    /**
     * The stored key of one variant, made now if it is missing: only at a configured
     * width (MEDIA_WIDTHS; a width at or above the image's own gives its own width),
     * and only in a format the image gets. Null for anything else (a 404), so no one
     * can make the server encode sizes of their choosing.
     */
    async variantKey(id: string, width: number, format: string): Promise<string | null> {
      if (!config.widths.includes(width) || !FORMATS.has(format)) return null;
      const row = await db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      const at = Math.min(width, row.width);
      const found = await db
        .selectFrom('media_variants')
        .select('storage_key')
        .where('media_id', '=', id)
        .where('width', '=', at)
        .where('format', '=', format)
        .executeTakeFirst();
      if (found) return found.storage_key;
      const keys = await makeMissing(row, (plan) => plan.filter((p) => p.width === at && p.format === format));
      return keys.get(`${at}:${format}`) ?? null;
    },

    /** The URL a stored key is served at. */
    urlOfKey(key: string): string {
      return urlOf(key);
    },

    /** One image, with its variants. */
    async get(id: string): Promise<Media> {
      return (await present([await load(id)]))[0];
    },

    /** The library, newest first, optionally one uploader's (by username), with a cursor for the next page. */
    async list(opts: { uploader?: string; before?: string; limit: number }): Promise<{ items: Media[]; nextCursor: string | null }> {
      let q = select()
        .orderBy('media.created_at', 'desc')
        .orderBy('media.id', 'desc')
        .limit(opts.limit + 1);
      if (opts.uploader !== undefined) q = q.where('users.username', '=', opts.uploader);
      if (opts.before !== undefined) {
        const c = decodeMediaCursor(opts.before);
        if (!c) throw new AppError('bad_request', 'before is not a cursor returned by this API', [{ field: 'before', message: 'is not a valid cursor' }]);
        q = q.where((eb) => eb.or([eb('media.created_at', '<', c.at), eb.and([eb('media.created_at', '=', c.at), eb('media.id', '<', c.id)])]));
      }
      const rows = await q.execute();
      const more = rows.length > opts.limit;
      const page = rows.slice(0, opts.limit);
      const last = page[page.length - 1];
      return { items: await present(page), nextCursor: more && last ? encodeMediaCursor(last.created_at, last.id) : null };
    },

    /** Changes alt text, caption or credit (the uploader, editors and admins). */
    async update(user: CurrentUser, id: string, patch: { alt?: string; caption?: string; credit?: string }): Promise<Media> {
      const row = await load(id);
      if (!canManageMedia(user, row.owner_id)) throw new AppError('forbidden', 'Only the uploader, editors and admins may change this image');
      const errors: FieldError[] = [];
      for (const f of ['alt', 'caption', 'credit'] as const) {
        const v = patch[f];
        if (v !== undefined && v.length > LIMITS[f]) errors.push({ field: f, message: `must be at most ${LIMITS[f]} characters` });
      }
      assertValid(errors);
      forget(id);
      const set: Partial<Record<'alt' | 'caption' | 'credit', string>> = {};
      for (const f of ['alt', 'caption', 'credit'] as const) if (patch[f] !== undefined) set[f] = patch[f]!.trim();
      await db
        .updateTable('media')
        .set({ ...set, updated_at: iso() })
        .where('id', '=', id)
        .execute();
      return service.get(id);
    },

    /** Deletes an image and all its files; refused (409, listing where) while something uses it. */
    async delete(user: CurrentUser, id: string): Promise<void> {
      const row = await load(id);
      if (!canManageMedia(user, row.owner_id)) throw new AppError('forbidden', 'Only the uploader, editors and admins may delete this image');
      const uses = (await usesOf([id])).get(id) ?? [];
      if (uses.length) {
        throw new AppError(
          'conflict',
          `This image is still used in: ${uses.map((u) => `${u.kind} "${u.title}" (${u.url})`).join(', ')}. Remove it there first.`,
        );
      }
      forget(id);
      await remove(row);
    },

    /** The row behind a served key (the cleaned image or a variant), for /media/:key. */
    async lookupKey(key: string): Promise<{ bytes: number } | null> {
      const m =
        (await db.selectFrom('media').select('bytes').where('storage_key', '=', key).executeTakeFirst()) ??
        (await db.selectFrom('media_variants').select('bytes').where('storage_key', '=', key).executeTakeFirst());
      return m ? { bytes: Number(m.bytes) } : null;
    },

    /** Removes uploads older than a week that nothing uses; returns how many. */
    async removeUnused(): Promise<number> {
      const cutoff = new Date(clock.now().getTime() - UNUSED_AFTER_MS).toISOString();
      let removed = 0;
      let after = '';
      for (;;) {
        const batch = await db.selectFrom('media').selectAll().where('created_at', '<', cutoff).where('id', '>', after).orderBy('id').limit(100).execute();
        if (!batch.length) break;
        after = batch[batch.length - 1].id;
        const uses = await usesOf(batch.map((r) => r.id));
        for (const row of batch) {
          if ((uses.get(row.id) ?? []).length) continue;
          await remove(row);
          removed++;
        }
      }
      return removed;
    },
  };
  // Until posts declare their images, an image pasted into a post by its URL counts as used.
  service.addReferenceSource(postsMentioning(db));
  return service;
}

export type MediaService = ReturnType<typeof createMediaService>;

/** Bytes an account has stored (its usage row; none yet is 0). */
async function usageOf(db: Kysely<Database>, ownerId: number): Promise<number> {
  const row = await db.selectFrom('media_usage').select('bytes').where('owner_id', '=', ownerId).executeTakeFirst();
  return Number(row?.bytes ?? 0);
}

/**
 * Adds `bytes` to an account's usage, only if that stays within `quota` (null: no
 * limit): one conditional UPDATE, so concurrent uploads cannot both pass. False when
 * it would go over.
 */
async function takeBytes(db: Kysely<Database>, ownerId: number, bytes: number, quota: number | null): Promise<boolean> {
  await db
    .insertInto('media_usage')
    .values({ owner_id: ownerId, bytes: 0 })
    .onConflict((oc) => oc.column('owner_id').doNothing())
    .execute();
  let q = db
    .updateTable('media_usage')
    .set((eb) => ({ bytes: eb('bytes', '+', bytes) }))
    .where('owner_id', '=', ownerId);
  if (quota !== null) q = q.where('bytes', '<=', quota - bytes);
  return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
}

function overQuota(quota: number, used: number): AppError {
  return new AppError(
    'payload_too_large',
    `This upload would take you over your storage quota of ${Math.round(quota / 1024 / 1024)} MB (MEDIA_QUOTA_MB); you use ${(used / 1024 / 1024).toFixed(1)} MB. Delete unused images first.`,
  );
}

const PRIVATE_KEY = /^private\/[0-9a-f]{32}$/;

async function hasAlpha(path: string): Promise<boolean> {
  const sharp = await loadSharp();
  return (await sharp(path).metadata()).hasAlpha ?? false;
}

/** Posts whose Markdown mentions an image's id (every URL of an image contains it). */
function postsMentioning(db: Kysely<Database>): MediaReferenceSource {
  return async (ids) => {
    const out = new Map<string, MediaUse[]>();
    if (!ids.length) return out;
    // One pass over the posts for the whole batch. Ids are [A-Za-z0-9]: no LIKE wildcards to escape.
    const posts = await db
      .selectFrom('posts')
      .select(['title', 'slug', 'body', 'deleted_at'])
      .where((eb) => eb.or(ids.map((id) => eb('body', 'like', `%${id}%`))))
      .execute();
    for (const id of ids) {
      // A post in the trash may be restored, so its images stay until it is gone for good.
      const uses = posts
        .filter((p) => p.body.includes(id))
        .map((p) =>
          p.deleted_at
            ? { kind: 'post', title: `${p.title} (in the trash)`, url: '/admin/posts/trash' }
            : { kind: 'post', title: p.title, url: `/posts/${p.slug}` },
        );
      if (uses.length) out.set(id, uses);
    }
    return out;
  };
}

function encodeMediaCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}

function decodeMediaCursor(raw: string): { at: string; id: string } | null {
  if (raw.length > 100) return null;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z)\|([A-Za-z0-9]{1,40})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  return m ? { at: m[1], id: m[2] } : null;
}
