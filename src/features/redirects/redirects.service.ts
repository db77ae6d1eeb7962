import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { AppError, assertValid, type FieldError } from '../../platform/errors.ts';
import type { Clock } from '../../lib/clock.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** A redirect as the admin page and the API show it. */
export interface Redirect {
  id: number;
  from: string;
  to: string;
  status: 301 | 302;
  source: string;
  createdAt: string;
}

/** A redirect to add, as its schema (redirects.schema.ts) passed it. */
export interface RedirectInput {
  from: string;
  to: string;
  status?: 301 | 302;
}

/**
 * The form a path is stored and looked up in: percent-decoded (browsers and
 * WordPress differ in the case of %d0), without a trailing slash, with the query
 * kept only when asked (a WordPress `/?p=12`). Null for something that is not a path.
 */
export function normalizePath(raw: string, keepQuery = true): string | null {
  const q = raw.indexOf('?');
  let path = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q + 1);
  if (!path.startsWith('/') || path.startsWith('//')) return null;
  try {
    path = decodeURIComponent(path);
  } catch {
    return null;
  }
  if (path.length > 1) path = path.replace(/\/+$/, '') || '/';
  return keepQuery && query ? `${path}?${query}` : path;
}

const toRedirect = (r: { id: number; from_path: string; to_path: string; status: number; source: string; created_at: string }): Redirect => ({
  id: r.id,
  from: r.from_path,
  to: r.to_path,
  status: r.status === 302 ? 302 : 301,
  source: r.source,
  createdAt: r.created_at,
});

/** Redirects from old addresses: made by hand, by a renamed post, or by an import. */
export function createRedirectsService(deps: { db: Kysely<Database>; clock: Clock }) {
  const { db, clock } = deps;

  // The schema checked presence and lengths; these are the rules of addresses.
  function validate(input: RedirectInput): { from: string; to: string; status: 301 | 302 } {
    const errors: FieldError[] = [];
    const toRaw = input.to.trim();
    const from = normalizePath(input.from.trim());
    if (!from || from === '/') errors.push({ field: 'from', message: 'must be a path on this site starting with / (like /old-post/)' });
    let to = toRaw;
    if (!(toRaw.startsWith('/') && !toRaw.startsWith('//'))) {
      // Another site is allowed (a blog that moved part of itself), but only over http(s).
      let url: URL | null = null;
      try {
        url = new URL(toRaw);
      } catch {
        /* reported below */
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
        errors.push({ field: 'to', message: 'must be a path starting with / or an http(s) address' });
      else to = url.href;
    }
    if (from && to && normalizePath(to) === from) errors.push({ field: 'to', message: 'must differ from the old address' });
    assertValid(errors);
    return { from: from!, to, status: input.status ?? 301 };
  }

  return {
    /**
     * The export's redirects, a page at a time after an id: each the archive's entry
     * (which has no id) and the id to page on.
     */
    async exportPage(after: number, limit: number) {
      const rows = await db
        .selectFrom('redirects')
        .select(['id', 'from_path', 'to_path', 'status', 'source'])
        .where('id', '>', after)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: r.id, entry: { from: r.from_path, to: r.to_path, status: r.status, source: r.source } }));
    },

    /** Every redirect, newest first. */
    async list(): Promise<Redirect[]> {
      const rows = await db.selectFrom('redirects').selectAll().orderBy('id', 'desc').execute();
      return rows.map(toRedirect);
    },

    async get(id: number): Promise<Redirect> {
      const row = await db.selectFrom('redirects').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new AppError('not_found', 'No redirect with that id');
      return toRedirect(row);
    },

    /** Adds a redirect by hand; 409 when the old address already has one. */
    async create(input: RedirectInput): Promise<Redirect> {
      const v = validate(input);
      const now = clock.now().toISOString();
      try {
        const row = await db
          .insertInto('redirects')
          .values({ from_path: v.from, to_path: v.to, status: v.status, source: 'admin', created_at: now, updated_at: now })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toRedirect(row);
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        throw new AppError('conflict', `${v.from} already redirects somewhere`, [{ field: 'from', message: 'already has a redirect' }]);
      }
    },

    async remove(id: number): Promise<void> {
      const res = await db.deleteFrom('redirects').where('id', '=', id).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw new AppError('not_found', 'No redirect with that id');
    },

    /**
     * Points `from` at `to` (replacing what `from` pointed at), points every
     * redirect that ended at `from` at `to` too, so there are no chains, and
     * drops any redirect away from `to`: something lives there now. Says
     * whether `from` is new, led elsewhere before, or already led there.
     */
    async point(trx: Db, from: string, to: string, source: string, status: 301 | 302 = 301): Promise<'new' | 'changed' | 'same' | 'none'> {
      const f = normalizePath(from);
      const t = normalizePath(to, true);
      if (!f || !t || f === t) return 'none';
      const now = clock.now().toISOString();
      const before = await trx.selectFrom('redirects').select('to_path').where('from_path', '=', f).executeTakeFirst();
      await trx.deleteFrom('redirects').where('from_path', '=', t).execute();
      await trx.updateTable('redirects').set({ to_path: to, updated_at: now }).where('to_path', '=', from).execute();
      await trx
        .insertInto('redirects')
        .values({ from_path: f, to_path: to, status, source, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('from_path').doUpdateSet({ to_path: to, status, source, updated_at: now }))
        .execute();
      return !before ? 'new' : before.to_path === to ? 'same' : 'changed';
    },

    /** Where a request for this URL (path and query) should go, if anywhere. */
    async lookup(url: string): Promise<{ location: string; status: 301 | 302 } | null> {
      const withQuery = normalizePath(url, true);
      const path = normalizePath(url, false);
      if (!path) return null;
      const candidates = withQuery && withQuery !== path ? [withQuery, path] : [path];
      const rows = await db.selectFrom('redirects').select(['from_path', 'to_path', 'status']).where('from_path', 'in', candidates).execute();
      const hit = rows.find((r) => r.from_path === candidates[0]) ?? rows[0];
      if (!hit) return null;
      // A path-only redirect carries the request's query along (campaign tags, paging).
      const q = url.indexOf('?');
      const carry = hit.from_path === path && q !== -1 && !hit.to_path.includes('?') ? url.slice(q) : '';
      // Only what a header cannot carry is encoded; a stored %2F stays as the admin wrote it.
      return { location: hit.to_path.replace(/[^\x21-\x7e]+/g, (c) => encodeURIComponent(c)) + carry, status: hit.status === 302 ? 302 : 301 };
    },
  };
}

export type RedirectsService = ReturnType<typeof createRedirectsService>;
