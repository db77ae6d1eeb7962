import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { HttpClient, OutboundResponse } from '../../platform/http-client/index.ts';
import { renderEmail, type Mailer } from '../../platform/mail/index.ts';
import type { Clock } from '../../lib/clock.ts';
import type { AccountsService } from '../accounts/index.ts';
import { ALLOW_ALL, parseRobots, type RobotsRules } from './robots.ts';
import type { CrawlTables, CrawlTrigger, LinkChecksTable, LinkState } from './crawl.types.ts';

// Until the crawl tables are part of the global Database type, this feature
// queries through a view of the database that includes them.
type Db = Kysely<Database & CrawlTables>;
type Trx = Transaction<Database & CrawlTables>;
type LinkRow = Selectable<LinkChecksTable>;

export interface CrawlLimits {
  /** Requests in flight to one host at a time. */
  perHostConcurrency: number;
  /** Wait between the starts of two requests to one host. */
  delayMs: number;
  /** Time limit of one request (a link that takes longer is broken: "timed out"). */
  requestTimeoutMs: number;
  /** Time limit of a run: links not reached by then are checked first next time. */
  runTimeoutMs: number;
  /** Requests in flight across all hosts. */
  concurrency: number;
}

export const DEFAULT_LIMITS: CrawlLimits = {
  perHostConcurrency: 2,
  delayMs: 500,
  requestTimeoutMs: 10_000,
  runTimeoutMs: 10 * 60_000,
  concurrency: 8,
};

interface Log {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

export interface CrawlDeps {
  db: Kysely<Database>;
  clock: Clock;
  /** The SSRF-safe outbound client (platform/http-client). */
  http: HttpClient;
  mailer: Mailer;
  /** Who is told of links that broke: accounts' active admins. */
  accounts: Pick<AccountsService, 'adminContacts'>;
  site: { url: string; name: () => string; refresh?: (through?: Transaction<Database>) => Promise<unknown> };
  limits?: Partial<CrawlLimits>;
  log?: Log;
}

/** What one run did (a crawl_runs row). */
export interface RunSummary {
  id: number;
  trigger: CrawlTrigger;
  startedAt: string;
  /** Null while the run is going (or if its process died). */
  finishedAt: string | null;
  /** Unique outbound links in published posts. */
  links: number;
  /** Links requested (ok + broken + redirects). */
  checked: number;
  ok: number;
  broken: number;
  redirects: number;
  /** Disallowed by robots.txt. */
  skipped: number;
  /** Left for the next run (time limit, or a host answered 429). */
  unreached: number;
  /** Links that were not broken before this run and are now. */
  newBroken: number;
  error: string | null;
}

/** A link as the admin page shows it. */
export interface LinkInfo {
  id: number;
  url: string;
  state: LinkState;
  status: number | null;
  error: string | null;
  finalUrl: string | null;
  redirects: number;
  firstSeenAt: string;
  lastCheckedAt: string | null;
  brokenSince: string | null;
  posts: { id: number; slug: string; title: string }[];
}

export interface LinkReport {
  broken: LinkInfo[];
  redirects: LinkInfo[];
  skipped: LinkInfo[];
  /** How many links are in each state. */
  counts: Record<LinkState, number>;
  lastRun: RunSummary | null;
  running: boolean;
}

/** The User-Agent the checker sends (and the one to create its HttpClient with). */
export function crawlUserAgent(siteUrl: string): string {
  return `Inkwell-LinkChecker/1.0 (+${siteUrl})`;
}

// robots.txt groups that speak to us: "Inkwell" or our full product token.
const ROBOTS_AGENTS = ['inkwell', 'inkwell-linkchecker'];
const ROBOTS_MAX_BYTES = 512 * 1024;
// Only the status matters; the client stops reading a GET body after this much.
const GET_MAX_BYTES = 16 * 1024;
const MAX_REDIRECTS = 5;
const MAX_URL_LENGTH = 2048;
const REPORT_LIMIT = 500;
const EMAIL_LIMIT = 50;
const CHUNK = 400;
const STATES: LinkState[] = ['pending', 'ok', 'broken', 'redirect', 'skipped'];

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (all, e: string) => {
    if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? all;
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

const HREF = /<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;

/**
 * The outbound links of some post HTML: absolute http(s) hrefs, fragment
 * removed, normalized; links to the site itself, mailto:, relative links and
 * bare fragments are not outbound.
 */
export function outboundLinks(bodyHtml: string, siteOrigin: string): string[] {
  const out = new Set<string>();
  for (const m of bodyHtml.matchAll(HREF)) {
    const href = decodeEntities(m[1] ?? m[2] ?? m[3] ?? '').trim();
    if (!/^https?:\/\//i.test(href)) continue;
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      continue;
    }
    url.hash = '';
    if (url.origin === siteOrigin || !url.hostname || url.href.length > MAX_URL_LENGTH) continue;
    out.add(url.href);
  }
  return [...out];
}

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const ERROR_LABELS: Record<string, string> = {
  timeout: 'Timed out',
  blocked: 'Blocked (the address is private or not allowed)',
  too_many_redirects: 'Too many redirects',
  bad_url: 'Not a valid URL',
  network: 'Network error',
};

function describeError(e: unknown): string {
  const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : '';
  const message = e instanceof Error ? e.message : String(e);
  const label = ERROR_LABELS[code];
  const text = label ? (message && message !== label ? `${label}: ${message}` : label) : message || 'Unknown error';
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

const isNetworkError = (e: unknown) => (e as { code?: unknown })?.code === 'network';

interface Outcome {
  state: 'ok' | 'broken' | 'redirect' | 'skipped';
  status: number | null;
  error: string | null;
  finalUrl: string | null;
  redirects: number;
}

/** At most `limit` requests in flight per host, and starts at least `delayMs` apart. */
function createHostGates(limit: number, delayMs: number) {
  const gates = new Map<string, { active: number; waiting: (() => void)[]; nextAt: number }>();
  return {
    async acquire(host: string): Promise<void> {
      let g = gates.get(host);
      if (!g) gates.set(host, (g = { active: 0, waiting: [], nextAt: 0 }));
      // A releasing request hands its slot straight to the next in line.
      if (g.active >= limit) await new Promise<void>((resolve) => g.waiting.push(resolve));
      else g.active++;
      const now = performance.now();
      const start = Math.max(now, g.nextAt);
      g.nextAt = start + delayMs;
      if (start > now) await sleep(start - now);
    },
    release(host: string): void {
      const g = gates.get(host)!;
      const next = g.waiting.shift();
      if (next) next();
      else g.active--;
    },
  };
}

function toSummary(r: Selectable<CrawlTables['crawl_runs']>): RunSummary {
  return {
    id: r.id,
    trigger: r.trigger,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    links: r.links,
    checked: r.checked,
    ok: r.ok,
    broken: r.broken,
    redirects: r.redirects,
    skipped: r.skipped,
    unreached: r.unreached,
    newBroken: r.new_broken,
    error: r.error,
  };
}

/** The nightly link checker: finds the outbound links of published posts, checks them politely, reports breakage. */
export function createCrawlService(deps: CrawlDeps) {
  const db = deps.db as unknown as Db;
  const { clock, http, mailer, log } = deps;
  const limits: CrawlLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const siteUrl = deps.site.url.replace(/\/+$/, '');
  const siteOrigin = new URL(siteUrl).origin;
  const userAgent = crawlUserAgent(siteUrl);
  const now = () => clock.now().toISOString();
  // A run row left unfinished longer than this belongs to a process that died.
  const staleMs = limits.runTimeoutMs + 2 * limits.requestTimeoutMs + 60_000;

  let current: { done: Promise<RunSummary>; claimed: Promise<boolean> } | null = null;
  let stopping = false;

  /** Reads every published post and makes link_checks / link_check_posts match what they link to. */
  async function collect(): Promise<number> {
    const found = new Map<string, Set<number>>();
    let after = 0;
    for (;;) {
      const page = await db
        .selectFrom('posts')
        .select(['id', 'body_html'])
        .where('status', '=', 'published')
        .where('deleted_at', 'is', null)
        .where('id', '>', after)
        .orderBy('id')
        .limit(200)
        .execute();
      for (const p of page) {
        for (const url of outboundLinks(p.body_html, siteOrigin)) {
          let posts = found.get(url);
          if (!posts) found.set(url, (posts = new Set()));
          posts.add(p.id);
        }
      }
      if (page.length < 200) break;
      after = page.at(-1)!.id;
    }

    await db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('link_checks').select(['id', 'url']).execute();
      const known = new Set(existing.map((l) => l.url));
      const fresh = [...found.keys()].filter((u) => !known.has(u));
      const seenAt = now();
      for (const batch of chunks(fresh, 100)) {
        await trx
          .insertInto('link_checks')
          .values(
            batch.map((url) => ({
              url,
              host: new URL(url).hostname,
              state: 'pending' as const,
              status: null,
              error: null,
              final_url: null,
              redirects: 0,
              first_seen_at: seenAt,
              last_checked_at: null,
              broken_since: null,
            })),
          )
          .onConflict((oc) => oc.column('url').doNothing())
          .execute();
      }
      // Links no published post contains any more are forgotten (their post rows cascade).
      const gone = existing.filter((l) => !found.has(l.url)).map((l) => l.id);
      for (const batch of chunks(gone)) await trx.deleteFrom('link_checks').where('id', 'in', batch).execute();

      const ids = new Map((await trx.selectFrom('link_checks').select(['id', 'url']).execute()).map((l) => [l.url, l.id]));
      const want = new Set<string>();
      for (const [url, posts] of found) for (const postId of posts) want.add(`${ids.get(url)}:${postId}`);
      const have = new Set((await trx.selectFrom('link_check_posts').select(['link_id', 'post_id']).execute()).map((r) => `${r.link_id}:${r.post_id}`));
      const pair = (k: string) => {
        const [link_id, post_id] = k.split(':').map(Number);
        return { link_id, post_id };
      };
      for (const batch of chunks(
        [...want].filter((k) => !have.has(k)),
        200,
      )) {
        await trx
          .insertInto('link_check_posts')
          .values(batch.map(pair))
          .onConflict((oc) => oc.columns(['link_id', 'post_id']).doNothing())
          .execute();
      }
      for (const k of [...have].filter((x) => !want.has(x))) {
        const { link_id, post_id } = pair(k);
        await trx.deleteFrom('link_check_posts').where('link_id', '=', link_id).where('post_id', '=', post_id).execute();
      }
    });
    return found.size;
  }

  /** Claims the run (one at a time across instances); null when another is under way. */
  async function claim(trigger: CrawlTrigger): Promise<{ id: number; startedAt: string } | null> {
    const startedAt = now();
    const since = new Date(clock.now().getTime() - staleMs).toISOString();
    return db.transaction().execute(async (trx) => {
      const busy = await trx.selectFrom('crawl_runs').select('id').where('finished_at', 'is', null).where('started_at', '>', since).executeTakeFirst();
      if (busy) return null;
      const row = await trx
        .insertInto('crawl_runs')
        .values({
          trigger,
          started_at: startedAt,
          finished_at: null,
          links: 0,
          checked: 0,
          ok: 0,
          broken: 0,
          redirects: 0,
          skipped: 0,
          unreached: 0,
          new_broken: 0,
          error: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: row.id, startedAt };
    });
  }

  async function execute(runId: number, trigger: CrawlTrigger, startedAt: string): Promise<RunSummary> {
    const deadline = performance.now() + limits.runTimeoutMs;
    const gates = createHostGates(limits.perHostConcurrency, limits.delayMs);
    const robots = new Map<string, Promise<RobotsRules>>();
    const backedOff = new Set<string>();
    const counts = { links: 0, checked: 0, ok: 0, broken: 0, redirects: 0, skipped: 0, unreached: 0 };
    const newlyBroken: number[] = [];

    const request = async (host: string, url: string, method: 'HEAD' | 'GET', maxBytes = GET_MAX_BYTES): Promise<OutboundResponse> => {
      await gates.acquire(host);
      try {
        return await http.request(url, {
          method,
          maxBytes,
          maxRedirects: MAX_REDIRECTS,
          timeoutMs: limits.requestTimeoutMs,
          headers: { 'User-Agent': userAgent, Accept: '*/*' },
        });
      } finally {
        gates.release(host);
      }
    };

    // Only a robots.txt we could read restricts us. One that is missing (4xx)
    // allows everything (RFC 9309); one that errors would, by the RFC, forbid
    // everything, but that would hide exactly the dead sites a link checker
    // exists to find, and we send a HEAD or two per link, not a crawl.
    const robotsFor = (url: URL): Promise<RobotsRules> => {
      let p = robots.get(url.origin);
      if (!p) {
        p = request(url.hostname, `${url.origin}/robots.txt`, 'GET', ROBOTS_MAX_BYTES)
          .then((res) => (res.status >= 200 && res.status < 300 ? parseRobots(res.body.toString('utf8'), ROBOTS_AGENTS) : ALLOW_ALL))
          .catch(() => ALLOW_ALL);
        robots.set(url.origin, p);
      }
      return p;
    };

    /** HEAD, then GET where HEAD is refused; 'later' when the host asks us to slow down. */
    const probe = async (link: LinkRow): Promise<Outcome | 'later'> => {
      let res: OutboundResponse | undefined;
      let err: unknown;
      try {
        res = await request(link.host, link.url, 'HEAD');
      } catch (e) {
        err = e;
      }
      if (res ? res.status === 405 || res.status === 501 : isNetworkError(err)) {
        res = undefined;
        try {
          res = await request(link.host, link.url, 'GET');
        } catch (e) {
          err = e;
        }
      }
      if (!res) return { state: 'broken', status: null, error: describeError(err), finalUrl: null, redirects: 0 };
      if (res.status === 429) return 'later';
      const redirects = res.redirects.length;
      const finalUrl = redirects > 0 && res.url !== link.url ? res.url : null;
      if (res.status >= 400) return { state: 'broken', status: res.status, error: null, finalUrl, redirects };
      return { state: finalUrl ? 'redirect' : 'ok', status: res.status, error: null, finalUrl, redirects };
    };

    const checkOne = async (link: LinkRow): Promise<void> => {
      const url = new URL(link.url);
      if (backedOff.has(link.host) || stopping) {
        counts.unreached++;
        return;
      }
      const rules = await robotsFor(url);
      let outcome: Outcome | 'later';
      if (!rules.allows(url.pathname + url.search)) {
        outcome = { state: 'skipped', status: null, error: 'Disallowed by robots.txt', finalUrl: null, redirects: 0 };
      } else if (performance.now() >= deadline || backedOff.has(link.host) || stopping) {
        counts.unreached++;
        return;
      } else {
        outcome = await probe(link);
      }
      if (outcome === 'later') {
        backedOff.add(link.host);
        counts.unreached++;
        return;
      }
      const broken = outcome.state === 'broken';
      const brokenBefore = link.state === 'broken';
      if (broken && !brokenBefore) newlyBroken.push(link.id);
      counts[outcome.state === 'redirect' ? 'redirects' : outcome.state]++;
      if (outcome.state !== 'skipped') counts.checked++;
      const at = now();
      await db
        .updateTable('link_checks')
        .set({
          state: outcome.state,
          status: outcome.status,
          error: outcome.error,
          final_url: outcome.finalUrl,
          redirects: outcome.redirects,
          last_checked_at: at,
          broken_since: broken ? (brokenBefore ? (link.broken_since ?? at) : at) : null,
        })
        .where('id', '=', link.id)
        .execute();
    };

    let failure: unknown;
    try {
      counts.links = await collect();
      const links = await db.selectFrom('link_checks').selectAll().execute();
      // Never-checked links first, then the longest unchecked: a run cut short
      // by its time limit leaves the freshest results for next time.
      links.sort((a, b) => (a.last_checked_at ?? '').localeCompare(b.last_checked_at ?? '') || a.id - b.id);
      // Interleaved by host, so the workers spread across hosts instead of queueing at one.
      const byHost = new Map<string, LinkRow[]>();
      for (const l of links) {
        const list = byHost.get(l.host);
        if (list) list.push(l);
        else byHost.set(l.host, [l]);
      }
      const queue: LinkRow[] = [];
      const lists = [...byHost.values()];
      for (let i = 0; queue.length < links.length; i++) {
        for (const list of lists) if (i < list.length) queue.push(list[i]);
      }
      let next = 0;
      const worker = async () => {
        while (next < queue.length) {
          if (performance.now() >= deadline || stopping) {
            counts.unreached += queue.length - next;
            next = queue.length;
            return;
          }
          await checkOne(queue[next++]);
        }
      };
      // Settled, not all: a failing worker must not leave others writing after the run is recorded.
      const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limits.concurrency, queue.length)) }, worker));
      const rejected = results.find((r) => r.status === 'rejected');
      if (rejected) throw rejected.reason;
    } catch (e) {
      failure = e;
      log?.error({ runId, err: (e as Error).message }, 'link check failed');
    }

    const finishedAt = now();
    const summary: RunSummary = {
      id: runId,
      trigger,
      startedAt,
      finishedAt,
      ...counts,
      newBroken: newlyBroken.length,
      error: failure === undefined ? null : describeError(failure),
    };
    let mailed = 0;
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('crawl_runs')
        .set({
          finished_at: finishedAt,
          links: summary.links,
          checked: summary.checked,
          ok: summary.ok,
          broken: summary.broken,
          redirects: summary.redirects,
          skipped: summary.skipped,
          unreached: summary.unreached,
          new_broken: summary.newBroken,
          error: summary.error,
        })
        .where('id', '=', runId)
        .execute();
      if (newlyBroken.length) mailed = await mailAdmins(trx, newlyBroken, counts.broken);
    });
    log?.info({ ...summary, mailed }, 'link check finished');
    if (failure !== undefined) throw failure;
    return summary;
  }

  async function postsOf(d: Db | Trx, linkIds: number[]): Promise<Map<number, LinkInfo['posts']>> {
    const out = new Map<number, LinkInfo['posts']>();
    for (const batch of chunks(linkIds)) {
      const rows = await d
        .selectFrom('link_check_posts')
        .innerJoin('posts', 'posts.id', 'link_check_posts.post_id')
        .select(['link_check_posts.link_id', 'posts.id', 'posts.slug', 'posts.title'])
        .where('link_check_posts.link_id', 'in', batch)
        .orderBy('posts.id')
        .execute();
      for (const r of rows) {
        const list = out.get(r.link_id);
        const post = { id: r.id, slug: r.slug, title: r.title };
        if (list) list.push(post);
        else out.set(r.link_id, [post]);
      }
    }
    return out;
  }

  /** Tells every admin about links that broke in this run, in the run's final transaction. */
  async function mailAdmins(trx: Trx, linkIds: number[], brokenThisRun: number): Promise<number> {
    const admins = await deps.accounts.adminContacts(trx as unknown as Transaction<Database>);
    if (!admins.length) return 0;
    const links = await trx
      .selectFrom('link_checks')
      .select(['id', 'url', 'status', 'error'])
      .where('id', 'in', linkIds.slice(0, EMAIL_LIMIT))
      .orderBy('url')
      .execute();
    const posts = await postsOf(
      trx,
      links.map((l) => l.id),
    );
    // A schedule runs outside any request: the name may have changed on another instance.
    await deps.site.refresh?.(trx as unknown as Transaction<Database>);
    const siteName = deps.site.name();
    const n = linkIds.length;
    const paragraphs = [
      `The nightly link check found ${n} ${n === 1 ? 'link' : 'links'} that stopped working${brokenThisRun > n ? ` (${brokenThisRun} broken in all)` : ''}:`,
      ...links.map((l) => {
        const why = l.status !== null ? `HTTP ${l.status}` : (l.error ?? 'no response');
        const where = (posts.get(l.id) ?? []).map((p) => `“${p.title}” (${siteUrl}/posts/${encodeURIComponent(p.slug)})`).join(', ');
        return `${l.url} — ${why} — in ${where || 'no published post'}`;
      }),
      ...(n > links.length ? [`…and ${n - links.length} more.`] : []),
    ];
    const subject = `${n} new broken ${n === 1 ? 'link' : 'links'} on ${siteName}`.replace(/[\r\n]+/g, ' ').slice(0, 200);
    const content = renderEmail({
      siteName,
      siteUrl,
      heading: subject,
      paragraphs,
      action: { label: 'See all link problems', url: `${siteUrl}/admin/links` },
      footer: 'Admins receive this when links in published posts break.',
    });
    for (const a of admins) {
      await mailer.send(trx as unknown as Transaction<Database>, { to: a.email, toName: a.name, subject, ...content });
    }
    return admins.length;
  }

  function launch(trigger: CrawlTrigger): { done: Promise<RunSummary>; claimed: Promise<boolean>; joined: boolean } {
    if (current) return { ...current, joined: true };
    stopping = false;
    let onClaim: (ok: boolean) => void = () => {};
    const claimed = new Promise<boolean>((resolve) => {
      onClaim = resolve;
    });
    const run = (async () => {
      const c = await claim(trigger);
      onClaim(c !== null);
      if (!c) throw new AppError('conflict', 'A link check is already running');
      return execute(c.id, trigger, c.startedAt);
    })();
    run.catch(() => onClaim(false));
    const entry = {
      done: run.finally(() => {
        if (current === entry) current = null;
      }),
      claimed,
    };
    current = entry;
    return { ...entry, joined: false };
  }

  function linkInfo(l: LinkRow, posts: Map<number, LinkInfo['posts']>): LinkInfo {
    return {
      id: l.id,
      url: l.url,
      state: l.state,
      status: l.status,
      error: l.error,
      finalUrl: l.final_url,
      redirects: l.redirects,
      firstSeenAt: l.first_seen_at,
      lastCheckedAt: l.last_checked_at,
      brokenSince: l.broken_since,
      posts: posts.get(l.id) ?? [],
    };
  }

  return {
    /**
     * Runs a check now and resolves when it is done. Joins the run already
     * going in this process; a conflict error when another instance runs one.
     */
    run(opts: { trigger: CrawlTrigger } = { trigger: 'manual' }): Promise<RunSummary> {
      return launch(opts.trigger).done;
    },

    /** Starts a run in the background; false when one is already going. */
    async start(trigger: CrawlTrigger = 'manual'): Promise<boolean> {
      const l = launch(trigger);
      if (l.joined) return false;
      l.done.catch((e) => {
        if (!(e instanceof AppError && e.code === 'conflict')) log?.error({ err: (e as Error).message }, 'link check failed');
      });
      return l.claimed;
    },

    /** Whether this process is running a check. */
    running: () => current !== null,

    /** Resolves when this process's run (if any) has finished. */
    async idle(): Promise<void> {
      await current?.done.catch(() => {});
    },

    /** Stops taking new links (those left count as unreached) and waits for the requests in flight. */
    async stop(): Promise<void> {
      stopping = true;
      await current?.done.catch(() => {});
    },

    /** Broken links, redirects to update, links robots.txt keeps us from, and the last run. */
    async report(): Promise<LinkReport> {
      const pick = (state: LinkState) => db.selectFrom('link_checks').selectAll().where('state', '=', state).orderBy('url').limit(REPORT_LIMIT).execute();
      const [broken, redirects, skipped] = await Promise.all([pick('broken'), pick('redirect'), pick('skipped')]);
      const posts = await postsOf(
        db,
        [...broken, ...redirects, ...skipped].map((l) => l.id),
      );
      const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<LinkState, number>;
      const grouped = await db
        .selectFrom('link_checks')
        .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
        .groupBy('state')
        .execute();
      for (const g of grouped) counts[g.state] = Number(g.n);
      const last = await db.selectFrom('crawl_runs').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
      const lastRun = last ? toSummary(last) : null;
      const staleBefore = new Date(clock.now().getTime() - staleMs).toISOString();
      return {
        broken: broken.map((l) => linkInfo(l, posts)),
        redirects: redirects.map((l) => linkInfo(l, posts)),
        skipped: skipped.map((l) => linkInfo(l, posts)),
        counts,
        lastRun,
        running: current !== null || (lastRun !== null && lastRun.finishedAt === null && lastRun.startedAt > staleBefore),
      };
    },
  };
}

export type CrawlService = ReturnType<typeof createCrawlService>;
