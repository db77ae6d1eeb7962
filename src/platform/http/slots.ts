import type { FastifyRequest } from 'fastify';

/**
 * An extension point: a place in one feature's page that other features fill
 * with HTML. The host declares the slot and renders it; guests add fragments
 * from their own plugins, so the host never imports them.
 */
export interface Slot<A extends unknown[]> {
  /** Adds a fragment; fragments render in the order given by `order` (then in the order added). */
  add(fragment: (...args: A) => string | Promise<string>, order?: number): void;
  /** Every fragment's HTML for these arguments, joined. */
  render(...args: A): Promise<string>;
}

/** Makes an empty slot. */
export function createSlot<A extends unknown[]>(): Slot<A> {
  const fragments: { order: number; fn: (...args: A) => string | Promise<string> }[] = [];
  return {
    add(fn, order = 0) {
      fragments.push({ order, fn });
      fragments.sort((a, b) => a.order - b.order);
    },
    async render(...args) {
      let out = '';
      for (const f of fragments) out += await f.fn(...args);
      return out;
    },
  };
}

/** One entry in a region of every page: a link, a badge, a form, a <link> in <head>. */
export interface ChromeEntry {
  /** Lower comes first. */
  order: number;
  /** HTML for this visitor, or '' to show nothing (already escaped: use html``). */
  render(request: FastifyRequest): string;
}

/** The regions of every page that features add to: <head>, the header's navigation, the footer. */
export type Region = 'head' | 'nav' | 'footer';

/** A page of the admin area, listed on /admin. */
export interface AdminPage {
  href: string;
  name: string;
  description: string;
  order: number;
}

/**
 * The page chrome's extension points. Rendering a page is synchronous, so an
 * entry that needs the database (an unread count) loads it in a preload,
 * which runs before the handler of every signed-in HTML page.
 */
export interface PageChrome {
  add(region: Region, entry: ChromeEntry): void;
  /** Work to do before a signed-in page is rendered (loads what an entry shows). */
  preload(fn: (request: FastifyRequest) => Promise<void>): void;
  /** Lists a page on the admin index. */
  adminPage(page: AdminPage): void;
  entries(region: Region): readonly ChromeEntry[];
  preloaders(): readonly ((request: FastifyRequest) => Promise<void>)[];
  adminPages(): readonly AdminPage[];
}

/** Empty chrome: a page with the site's name and nothing else. */
export function createPageChrome(): PageChrome {
  const regions: Record<Region, ChromeEntry[]> = { head: [], nav: [], footer: [] };
  const loads: ((request: FastifyRequest) => Promise<void>)[] = [];
  const admin: AdminPage[] = [];
  return {
    add(region, entry) {
      regions[region].push(entry);
      regions[region].sort((a, b) => a.order - b.order);
    },
    preload(fn) {
      loads.push(fn);
    },
    adminPage(page) {
      admin.push(page);
      admin.sort((a, b) => a.order - b.order);
    },
    entries: (region) => regions[region],
    preloaders: () => loads,
    adminPages: () => admin,
  };
}

/**
 * A render-time hook over a piece of trusted HTML: the host passes its HTML
 * through every transform that guests added, in `order`. Guests get HTML that
 * was already sanitized and must return HTML that is just as safe (escape
 * whatever they add).
 */
export interface HtmlFilter<A extends unknown[]> {
  /** Adds a transform; transforms run in the order given by `order` (then in the order added). */
  add(transform: (html: string, ...args: A) => string | Promise<string>, order?: number): void;
  /** The HTML after every transform. */
  apply(html: string, ...args: A): Promise<string>;
}

/** Makes a filter that changes nothing until a guest adds a transform. */
export function createHtmlFilter<A extends unknown[]>(): HtmlFilter<A> {
  const transforms: { order: number; fn: (html: string, ...args: A) => string | Promise<string> }[] = [];
  return {
    add(fn, order = 0) {
      transforms.push({ order, fn });
      transforms.sort((a, b) => a.order - b.order);
    },
    async apply(html, ...args) {
      let out = html;
      for (const t of transforms) out = await t.fn(out, ...args);
      return out;
    },
  };
}
