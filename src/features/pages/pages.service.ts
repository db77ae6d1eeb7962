import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../lib/clock.ts';
import { excerptOf, htmlToText, renderMarkdown } from '../../lib/markdown.ts';
import { slugify } from '../../lib/slugify.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import type { Database, PagesTable } from '../../platform/db/schema.ts';
import { AppError, type FieldError } from '../../platform/errors.ts';
import { MESSAGES } from '../../platform/http/input.ts';
import type { CurrentUser } from '../../platform/http/sessions.ts';
import type { MediaService } from '../media/index.ts';

export const LIMITS = { title: 200, body: 200_000, description: 300, slug: 80 };

/** A static page as shown and edited. */
export interface Page {
  id: number;
  slug: string;
  title: string;
  body: string;
  bodyHtml: string;
  description: string;
  image: { id: string; url: string } | null;
  status: 'draft' | 'published';
  url: string;
  createdAt: string;
  updatedAt: string;
}

/** What a page is written from, as its schema (pages.schema.ts) passed it; any field may be missing. */
export interface PageInput {
  title?: string;
  slug?: string;
  body?: string;
  description?: string;
  imageId?: string | null;
  status?: 'draft' | 'published';
}

/** A page brought in by an import (or a restored export), written as given. */
export interface ImportedPage {
  authorId: number | null;
  title: string;
  /** Wanted slug; made unique among pages (and from the title when it has none). */
  slug: string;
  body: string;
  description: string;
  status: 'draft' | 'published';
  /** A media id for the sharing image, or null. */
  imageId?: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Editors and admins write pages (they speak for the whole blog). */
export function canEditPages(user: CurrentUser | null): boolean {
  return !!user && (user.role === 'admin' || user.role === 'editor');
}

/** Static pages: Markdown, draft or published, at /pages/:slug; never in post lists or feeds. */
export function createPagesService(deps: { db: Kysely<Database>; clock: Clock; media: MediaService; siteUrl: string }) {
  const { db, clock, media } = deps;

  async function present(row: Selectable<PagesTable>): Promise<Page> {
    let image: Page['image'] = null;
    if (row.image_id) {
      try {
        const m = await media.get(row.image_id);
        image = { id: m.id, url: m.url };
      } catch {
        image = null;
      }
    }
    return {
      id: row.id,
      slug: row.slug,
      title: row.title,
      body: row.body,
      bodyHtml: row.body_html,
      description: row.description || excerptOf(htmlToText(row.body_html), 200),
      image,
      status: row.status,
      url: `${deps.siteUrl}/pages/${row.slug}`,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  // The schema (pages.schema.ts) checked each field given; what is left is what needs the page or the library.
  async function check(input: PageInput, current: Selectable<PagesTable> | null) {
    const errors: FieldError[] = [];
    const title = input.title ?? current?.title;
    if (title === undefined) errors.push({ field: 'title', message: MESSAGES.required });
    const body = input.body ?? current?.body ?? '';
    const description = input.description ?? current?.description ?? '';
    let slug = input.slug?.trim() || current?.slug || '';
    if (!slug) slug = slugify(title ?? '') || 'page';
    const status = input.status ?? current?.status ?? 'draft';
    let imageId = current?.image_id ?? null;
    if (input.imageId !== undefined) {
      if (input.imageId === null || input.imageId === '') imageId = null;
      else {
        try {
          imageId = (await media.get(input.imageId)).id;
        } catch (e) {
          if (!(e instanceof AppError) || e.status !== 404) throw e;
          errors.push({ field: 'imageId', message: 'is not an image in the media library' });
        }
      }
    }
    if (errors.length) throw new AppError('validation_failed', undefined, errors);
    return {
      title: (title ?? '').trim(),
      slug,
      body,
      body_html: renderMarkdown(body),
      description: description.trim(),
      status,
      image_id: imageId,
    };
  }

  async function row(idOrSlug: number | string, by: 'id-or-slug' | 'slug' = 'id-or-slug') {
    const q = db.selectFrom('pages').selectAll();
    return typeof idOrSlug === 'number' || (by === 'id-or-slug' && /^\d{1,9}$/.test(idOrSlug))
      ? q.where('id', '=', Number(idOrSlug)).executeTakeFirst()
      : q.where('slug', '=', idOrSlug).executeTakeFirst();
  }

  const taken = () => new AppError('conflict', 'Another page has that slug', [{ field: 'slug', message: 'is used by another page' }]);

  return {
    /** A page by id or slug (by slug only for its public address); drafts only for those who edit pages. */
    async get(viewer: CurrentUser | null, idOrSlug: number | string, by: 'id-or-slug' | 'slug' = 'id-or-slug'): Promise<Page> {
      const r = await row(idOrSlug, by);
      if (!r || (r.status !== 'published' && !canEditPages(viewer))) throw new AppError('not_found', 'No page at this address');
      return present(r);
    },

    /** Published pages (all pages for those who edit them), by title. */
    async list(viewer: CurrentUser | null): Promise<Page[]> {
      let q = db.selectFrom('pages').selectAll().orderBy('title').orderBy('id').limit(500);
      if (!canEditPages(viewer)) q = q.where('status', '=', 'published');
      return Promise.all((await q.execute()).map(present));
    },

    /** Published pages' addresses and dates, for the sitemap. */
    async sitemapEntries(): Promise<{ slug: string; updatedAt: string }[]> {
      const rows = await db.selectFrom('pages').select(['slug', 'updated_at']).where('status', '=', 'published').orderBy('slug').limit(10_000).execute();
      return rows.map((r) => ({ slug: r.slug, updatedAt: r.updated_at }));
    },

    async create(viewer: CurrentUser | null, input: PageInput): Promise<Page> {
      if (!canEditPages(viewer)) throw new AppError(viewer ? 'forbidden' : 'unauthenticated', 'Only editors and admins write pages');
      const v = await check(input, null);
      const at = clock.now().toISOString();
      try {
        const r = await db
          .insertInto('pages')
          .values({ ...v, author_id: viewer!.id, created_at: at, updated_at: at })
          .returningAll()
          .executeTakeFirstOrThrow();
        return present(r);
      } catch (e) {
        if (isUniqueViolation(e)) throw taken();
        throw e;
      }
    },

    async update(viewer: CurrentUser | null, idOrSlug: number | string, input: PageInput): Promise<Page> {
      if (!canEditPages(viewer)) throw new AppError(viewer ? 'forbidden' : 'unauthenticated', 'Only editors and admins write pages');
      const current = await row(idOrSlug);
      if (!current) throw new AppError('not_found', 'No page at this address');
      const v = await check(input, current);
      try {
        const r = await db
          .updateTable('pages')
          .set({ ...v, updated_at: clock.now().toISOString() })
          .where('id', '=', current.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return present(r);
      } catch (e) {
        if (isUniqueViolation(e)) throw taken();
        throw e;
      }
    },

    /** The export's pages, drafts too, a page at a time after an id (the archive's "pages"). */
    async exportPage(after: number, limit: number) {
      const rows = await db.selectFrom('pages').selectAll().where('id', '>', after).orderBy('id').limit(limit).execute();
      return rows.map((r) => ({
        id: r.id,
        authorId: r.author_id,
        title: r.title,
        slug: r.slug,
        body: r.body,
        description: r.description,
        imageId: r.image_id,
        status: r.status,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }));
    },

    /** Whether a page with this id still exists (an import's record may outlive it). */
    async exists(id: number, trx: Kysely<Database> = db): Promise<boolean> {
      return (await trx.selectFrom('pages').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
    },

    /**
     * Writes a page brought in by an import (new, or over the one `id` names),
     * in the caller's transaction when given: dates, status and author as the
     * source had them, the slug made unique among pages.
     */
    async writeImported(input: ImportedPage, id?: number, trx: Kysely<Database> = db): Promise<{ id: number; slug: string; status: 'draft' | 'published' }> {
      const root = slugify(input.slug, LIMITS.slug) || slugify(input.title, LIMITS.slug) || 'page';
      let q = trx.selectFrom('pages').select('slug').where('slug', 'like', `${root}%`);
      if (id !== undefined) q = q.where('id', '!=', id);
      const taken = new Set((await q.execute()).map((r) => r.slug));
      let slug = root;
      for (let n = 2; taken.has(slug); n++) slug = `${root}-${n}`;
      const values = {
        title: input.title.trim().slice(0, LIMITS.title) || 'Untitled',
        slug,
        body: input.body,
        body_html: renderMarkdown(input.body),
        description: input.description.trim().slice(0, LIMITS.description),
        status: input.status,
        image_id: input.imageId ?? null,
        author_id: input.authorId,
        created_at: input.createdAt,
        updated_at: input.updatedAt,
      };
      if (id !== undefined) {
        await trx.updateTable('pages').set(values).where('id', '=', id).execute();
        return { id, slug, status: values.status };
      }
      const row = await trx.insertInto('pages').values(values).returning('id').executeTakeFirstOrThrow();
      return { id: row.id, slug, status: values.status };
    },

    async remove(viewer: CurrentUser | null, idOrSlug: number | string): Promise<void> {
      if (!canEditPages(viewer)) throw new AppError(viewer ? 'forbidden' : 'unauthenticated', 'Only editors and admins write pages');
      const current = await row(idOrSlug);
      if (!current) throw new AppError('not_found', 'No page at this address');
      await db.deleteFrom('pages').where('id', '=', current.id).execute();
    },
  };
}

export type PagesService = ReturnType<typeof createPagesService>;
