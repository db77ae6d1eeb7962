import type { Kysely, Transaction } from 'kysely';
import type { Db } from './db/index.ts';
import type { Database } from './db/schema.ts';

/** A link in the footer's social list or in the header's navigation menu. */
export interface SiteLink {
  label: string;
  url: string;
}

/** Who may write comments: any signed-in account, verified accounts only, or nobody. */
export type Commenting = 'signed-in' | 'verified' | 'nobody';

/** The blog's own settings, edited on /admin/site and through /api/v1/site. */
export interface SiteSettings {
  name: string;
  description: string;
  /** Media ids from the library, and the URL each had when it was chosen. */
  logo: { id: string; url: string } | null;
  favicon: { id: string; url: string } | null;
  /** A CSS colour (#rrggbb), used as the --accent custom property. */
  accentColor: string;
  /** A BCP 47 language tag for <html lang> and the feeds. */
  language: string;
  /** An IANA time zone: the daily digest goes out at 08:00 there. */
  timeZone: string;
  postsPerPage: number;
  footerText: string;
  socialLinks: SiteLink[];
  /** The role of an account made through open sign-up (invitations name their own). */
  signupRole: 'reader' | 'author';
  commenting: Commenting;
  /** The header's menu, in order. */
  navigation: SiteLink[];
}

/** What every page and email knows of the blog: its public origin and its live settings. */
export interface Site {
  /** The public origin, e.g. https://blog.example (no trailing slash). */
  url: string;
  /** The blog's name as last loaded (refresh() keeps it current). */
  name(): string;
  /** The settings as last loaded. */
  settings(): SiteSettings;
  /**
   * Reloads the settings if the database changed since the last load, and returns them.
   * Work outside a request (jobs, schedules, event subscribers) calls it before it
   * renders an email; inside a transaction it passes it, so the row is read through it
   * (SQLite has one connection: a read beside an open transaction would wait for it).
   */
  refresh(through?: Kysely<Database> | Transaction<Database>): Promise<SiteSettings>;
  /**
   * refresh() without a promise when nothing changed and the change token is
   * synchronous (SQLite): the form the hook before every page uses, with the
   * token its request has read (request.changeToken()).
   */
  fresh(changeToken?: string | null | Promise<string | null>): SiteSettings | Promise<SiteSettings>;
  /** Stores new settings (already validated by the caller) and uses them at once. */
  save(next: SiteSettings): Promise<void>;
}

const KEY = 'site';

/** The settings of a blog nobody has configured yet. */
export function defaultSiteSettings(timeZone = 'UTC'): SiteSettings {
  return {
    name: 'Inkwell',
    description: '',
    logo: null,
    favicon: null,
    accentColor: '#2451b7',
    language: 'en',
    timeZone,
    postsPerPage: 20,
    footerText: '',
    socialLinks: [],
    signupRole: 'reader',
    commenting: 'verified',
    navigation: [],
  };
}

/**
 * The live site settings of one app. They are one JSON row of the settings
 * table; each refresh() first asks the database's change token (the one the
 * response cache uses), so an instance rereads the row only after some write
 * and several instances on one database agree after their next request. Each
 * app makes its own: nothing is kept at module level.
 */
export function createSite(deps: { db: Pick<Db, 'kysely' | 'changeToken'>; url: string; timezone?: string }): Site {
  const defaults = defaultSiteSettings(deps.timezone);
  let current: SiteSettings = defaults;
  let token: string | null | undefined;

  async function load(through: Kysely<Database> | Transaction<Database> = deps.db.kysely): Promise<SiteSettings> {
    const rows = await through.selectFrom('settings').select(['key', 'value']).where('key', 'in', [KEY, 'site_name']).execute();
    const stored = rows.find((r) => r.key === KEY)?.value;
    // Before site settings existed, only the name was kept (as site_name).
    const legacyName = rows.find((r) => r.key === 'site_name')?.value;
    let parsed: Partial<SiteSettings> = {};
    try {
      parsed = stored ? (JSON.parse(stored) as Partial<SiteSettings>) : {};
    } catch {
      parsed = {};
    }
    return { ...defaults, ...(legacyName ? { name: legacyName } : {}), ...parsed };
  }

  const refreshAt = async (read: string | null | Promise<string | null>, through?: Kysely<Database> | Transaction<Database>) => {
    const now = await read;
    if (now === null || now !== token) {
      current = await load(through);
      token = now;
    }
    return current;
  };
  return {
    url: deps.url,
    name: () => current.name,
    settings: () => current,
    refresh: (through) => refreshAt(deps.db.changeToken(), through),
    fresh(now = deps.db.changeToken()) {
      return typeof now === 'string' && now === token ? current : refreshAt(now);
    },
    async save(next) {
      const value = JSON.stringify(next);
      await deps.db.kysely
        .insertInto('settings')
        .values({ key: KEY, value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
        .execute();
      current = next;
      token = undefined;
    },
  };
}
