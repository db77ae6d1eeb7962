import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock.ts';
import { SLUG_PATTERN, slugify } from '../../lib/slugify.ts';
import type { Database } from '../../platform/db/schema.ts';
import { AppError, assertValid, type FieldError } from '../../platform/errors.ts';
import type { CurrentUser } from '../../platform/http/sessions.ts';
import type { MediaService } from '../media/index.ts';

/** A gallery as pages and the API show it. */
export interface Gallery {
  id: number;
  slug: string;
  title: string;
  description: string;
  owner: { id: number; username: string } | null;
  /** In order; `caption` '' shows the image's own caption. */
  items: { mediaId: string; caption: string }[];
  createdAt: string;
  updatedAt: string;
}

/** A gallery brought in by a restored export; its items' images already in the library. */
export interface ImportedGallery {
  ownerId: number | null;
  title: string;
  slug: string;
  description: string;
  items: { mediaId: string; caption: string }[];
  createdAt: string;
  updatedAt: string;
}

/** A gallery as an export carries it (what `writeImported` takes back, with its id). */
export interface ExportedGallery extends ImportedGallery {
  id: number;
}

/** What a writer sends to make or replace a gallery. */
export interface GalleryInput {
  title?: unknown;
  slug?: unknown;
  description?: unknown;
  items?: unknown;
}

export const LIMITS = { title: 200, slug: 100, description: 2000, items: 200, caption: 2000 };

/** Writers (authors and up) make galleries; the maker, editors and admins change them. */
export function canManageGallery(user: CurrentUser | null, ownerId: number | null): boolean {
  if (!user) return false;
  return user.role === 'admin' || user.role === 'editor' || (user.role === 'author' && ownerId === user.id);
}

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '23505' || /UNIQUE constraint failed/i.test(err?.message ?? '');
}

/** Galleries: made, changed and read here; their images live in media. */
export function createGalleriesService(deps: { db: Kysely<Database>; clock: Clock; media: MediaService }) {
  const { db, clock, media } = deps;

  async function validate(input: GalleryInput): Promise<{ title: string; slug: string; description: string; items: { mediaId: string; caption: string }[] }> {
    const errors: FieldError[] = [];
    const title = typeof input.title === 'string' ? input.title.trim() : '';
    if (!title) errors.push({ field: 'title', message: 'is required' });
    else if (title.length > LIMITS.title) errors.push({ field: 'title', message: `must be at most ${LIMITS.title} characters` });
    let slug = typeof input.slug === 'string' ? input.slug.trim().toLowerCase() : '';
    if (!slug) slug = slugify(title, LIMITS.slug);
    else if (slug.length > LIMITS.slug || !SLUG_PATTERN.test(slug)) {
      errors.push({ field: 'slug', message: 'may contain only lowercase letters, digits and single hyphens (like summer-trip)' });
    }
    if (!slug && title) errors.push({ field: 'slug', message: 'needs at least one letter or digit (give one, or put one in the title)' });
    const description = typeof input.description === 'string' ? input.description.trim() : '';
    if (description.length > LIMITS.description) errors.push({ field: 'description', message: `must be at most ${LIMITS.description} characters` });
    const raw = input.items === undefined ? [] : input.items;
    const items: { mediaId: string; caption: string }[] = [];
    if (!Array.isArray(raw)) errors.push({ field: 'items', message: 'must be a list of { mediaId, caption }' });
    else if (raw.length > LIMITS.items) errors.push({ field: 'items', message: `at most ${LIMITS.items} images per gallery` });
    else {
      raw.forEach((it: unknown, i) => {
        const o = (it ?? {}) as { mediaId?: unknown; caption?: unknown };
        const id = typeof o.mediaId === 'string' ? o.mediaId : '';
        const caption = typeof o.caption === 'string' ? o.caption.trim() : '';
        if (!/^[A-Za-z0-9]{1,40}$/.test(id)) errors.push({ field: `items[${i}].mediaId`, message: 'must be the id of an uploaded image' });
        else if (caption.length > LIMITS.caption) errors.push({ field: `items[${i}].caption`, message: `must be at most ${LIMITS.caption} characters` });
        else items.push({ mediaId: id, caption });
      });
    }
    assertValid(errors);
    const found = await media.findMany(items.map((i) => i.mediaId));
    const missing = items.map((it, i) => ({ it, i })).filter(({ it }) => !found.has(it.mediaId));
    assertValid(missing.map(({ it, i }) => ({ field: `items[${i}].mediaId`, message: `"${it.mediaId}" is not an uploaded image` })));
    return { title, slug, description, items };
  }

  // Galleries with their owner's name: what present() takes.
  const withOwner = () => db.selectFrom('galleries').leftJoin('users', 'users.id', 'galleries.owner_id').selectAll('galleries').select('users.username');

  async function load(slug: string) {
    return withOwner().where('galleries.slug', '=', slug).executeTakeFirst();
  }

  async function present(rows: NonNullable<Awaited<ReturnType<typeof load>>>[]): Promise<Gallery[]> {
    if (!rows.length) return [];
    const items = await db
      .selectFrom('gallery_items')
      .selectAll()
      .where(
        'gallery_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('gallery_id')
      .orderBy('position')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      slug: r.slug,
      title: r.title,
      description: r.description,
      owner: r.owner_id !== null && r.username ? { id: r.owner_id, username: r.username } : null,
      items: items.filter((i) => i.gallery_id === r.id).map((i) => ({ mediaId: i.media_id, caption: i.caption })),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async function writeItems(trx: Kysely<Database>, galleryId: number, items: { mediaId: string; caption: string }[]) {
    await trx.deleteFrom('gallery_items').where('gallery_id', '=', galleryId).execute();
    if (items.length) {
      await trx
        .insertInto('gallery_items')
        .values(items.map((it, position) => ({ gallery_id: galleryId, position, media_id: it.mediaId, caption: it.caption })))
        .execute();
    }
  }

  const slugTaken = (slug: string) => new AppError('conflict', `A gallery at /galleries/${slug} exists already`, [{ field: 'slug', message: 'is taken' }]);

  const service = {
    /** One gallery by its slug, or a 404. */
    async get(slug: string): Promise<Gallery> {
      const row = await load(slug);
      if (!row) throw new AppError('not_found', 'No gallery with that name');
      return (await present([row]))[0];
    },

    /** Galleries by slug, for embedding in posts (those that exist). */
    async findMany(slugs: string[]): Promise<Map<string, Gallery>> {
      if (!slugs.length) return new Map();
      const rows = await withOwner().where('galleries.slug', 'in', slugs).execute();
      return new Map((await present(rows)).map((g) => [g.slug, g]));
    },

    /** Every gallery, newest first (a blog has few). */
    async list(): Promise<Gallery[]> {
      const rows = await withOwner().orderBy('galleries.created_at', 'desc').orderBy('galleries.id', 'desc').limit(500).execute();
      return present(rows);
    },

    /** Makes a gallery (authors, editors, admins). */
    async create(user: CurrentUser | null, input: GalleryInput): Promise<Gallery> {
      if (!user) throw new AppError('unauthenticated', 'Log in to make galleries');
      if (user.role === 'reader') throw new AppError('forbidden', 'Only authors, editors and admins may make galleries');
      const v = await validate(input);
      const now = clock.now().toISOString();
      try {
        await db.transaction().execute(async (trx) => {
          const row = await trx
            .insertInto('galleries')
            .values({ slug: v.slug, title: v.title, description: v.description, owner_id: user.id, created_at: now, updated_at: now })
            .returning('id')
            .executeTakeFirstOrThrow();
          await writeItems(trx, row.id, v.items);
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw slugTaken(v.slug);
        throw e;
      }
      return service.get(v.slug);
    },

    /** Replaces a gallery's title, slug, description and items (the maker, editors, admins). */
    async replace(user: CurrentUser | null, slug: string, input: GalleryInput): Promise<Gallery> {
      const row = await load(slug);
      if (!row) throw new AppError('not_found', 'No gallery with that name');
      if (!canManageGallery(user, row.owner_id)) throw new AppError('forbidden', 'Only its maker, editors and admins may change this gallery');
      const v = await validate({ ...input, slug: input.slug ?? row.slug });
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('galleries')
            .set({ slug: v.slug, title: v.title, description: v.description, updated_at: clock.now().toISOString() })
            .where('id', '=', row.id)
            .execute();
          await writeItems(trx, row.id, v.items);
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw slugTaken(v.slug);
        throw e;
      }
      return service.get(v.slug);
    },

    /** Deletes a gallery (its images stay in the library). */
    async remove(user: CurrentUser | null, slug: string): Promise<void> {
      const row = await load(slug);
      if (!row) throw new AppError('not_found', 'No gallery with that name');
      if (!canManageGallery(user, row.owner_id)) throw new AppError('forbidden', 'Only its maker, editors and admins may delete this gallery');
      await db.deleteFrom('galleries').where('id', '=', row.id).execute();
    },

    /** A page of galleries after an id, in id order, as an export carries them (their items in order). */
    async exportPage(after: number, limit: number): Promise<ExportedGallery[]> {
      const rows = await withOwner().where('galleries.id', '>', after).orderBy('galleries.id').limit(limit).execute();
      return (await present(rows)).map((g, i) => ({
        id: g.id,
        ownerId: rows[i].owner_id,
        title: g.title,
        slug: g.slug,
        description: g.description,
        items: g.items,
        createdAt: g.createdAt,
        updatedAt: g.updatedAt,
      }));
    },

    /** Whether a gallery with this id still exists (an import's record may outlive it). */
    async exists(id: number, on: Kysely<Database> = db): Promise<boolean> {
      return (await on.selectFrom('galleries').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
    },

    /**
     * Writes a gallery brought in by a restored export (new, or over the one
     * `id` names), in the caller's transaction when given: its dates and owner
     * as given, its slug made unique, its items only those whose image exists.
     */
    async writeImported(input: ImportedGallery, id?: number, on: Kysely<Database> = db): Promise<{ id: number; slug: string }> {
      const root = slugify(input.slug, LIMITS.slug) || slugify(input.title, LIMITS.slug) || 'gallery';
      let q = on.selectFrom('galleries').select('slug').where('slug', 'like', `${root}%`);
      if (id !== undefined) q = q.where('id', '!=', id);
      const taken = new Set((await q.execute()).map((r) => r.slug));
      let slug = root;
      for (let n = 2; taken.has(slug); n++) slug = `${root}-${n}`;
      const values = {
        slug,
        title: input.title.trim().slice(0, LIMITS.title) || 'Untitled',
        description: input.description.slice(0, LIMITS.description),
        owner_id: input.ownerId,
        created_at: input.createdAt,
        updated_at: input.updatedAt,
      };
      let galleryId = id;
      if (galleryId === undefined) galleryId = (await on.insertInto('galleries').values(values).returning('id').executeTakeFirstOrThrow()).id;
      else await on.updateTable('galleries').set(values).where('id', '=', galleryId).execute();
      await writeItems(on, galleryId, input.items.slice(0, LIMITS.items));
      return { id: galleryId, slug };
    },

    /** Galleries that show these images, by image id (media's "still used" check). */
    async uses(ids: string[]): Promise<Map<string, { title: string; slug: string }[]>> {
      const out = new Map<string, { title: string; slug: string }[]>();
      if (!ids.length) return out;
      const rows = await db
        .selectFrom('gallery_items')
        .innerJoin('galleries', 'galleries.id', 'gallery_items.gallery_id')
        .select(['gallery_items.media_id', 'galleries.title', 'galleries.slug'])
        .where('gallery_items.media_id', 'in', ids)
        .distinct()
        .execute();
      for (const r of rows) out.set(r.media_id, [...(out.get(r.media_id) ?? []), { title: r.title, slug: r.slug }]);
      return out;
    },
  };
  return service;
}

export type GalleriesService = ReturnType<typeof createGalleriesService>;
