import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import { prepareDatabase } from '../../bootstrap.ts';
import type { Database } from '../../platform/db/schema.ts';
import { createHttpClient, type HttpClient } from '../../platform/http-client/index.ts';
import { createQueue } from '../../platform/jobs/queue.ts';
import { createMailer } from '../../platform/mail/index.ts';
import { createSettings } from '../../platform/settings.ts';
import { systemClock } from '../../lib/clock.ts';
import { buildTestApp, eachDatabase, freshDb, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../../test/support/smtp.ts';
import { createAccountsService } from '../accounts/index.ts';
import { createCrawlService, outboundLinks, parseRobots, type CrawlService } from './index.ts';
import type { CrawlTables } from './crawl.types.ts';

const SITE = 'http://blog.test';

/** The accounts a checker built outside the app asks for the admins to tell. */
const accountsOn = (db: Kysely<Database>) => createAccountsService({ db, clock: systemClock, settings: createSettings(db) });
const UA = `Inkwell-LinkChecker/1.0 (+${SITE})`;

test('robots.txt: the group naming us beats *, the longest rule wins, allow wins a tie', () => {
  const txt = [
    '\uFEFF# comment',
    'User-agent: *',
    'Disallow: /private/',
    'Allow: /private/open',
    'Disallow: /*.pdf$',
    'Disallow:',
    '',
    'User-agent: OtherBot',
    'Disallow: /',
    'Sitemap: https://example.com/sitemap.xml',
  ].join('\r\n');
  const r = parseRobots(txt, ['inkwell']);
  assert.equal(r.allows('/'), true);
  assert.equal(r.allows('/private/'), false);
  assert.equal(r.allows('/private/secret?x=1'), false);
  assert.equal(r.allows('/private/open'), true);
  assert.equal(r.allows('/private/opener'), true, 'Allow is a prefix match too');
  assert.equal(r.allows('/files/a.pdf'), false);
  assert.equal(r.allows('/files/a.pdf?download=1'), true, '$ anchors at the end');
  assert.equal(r.allows('/robots.txt'), true);

  const mine = parseRobots('User-agent: *\nDisallow: /\n\nUser-agent: googlebot\nUser-agent: Inkwell/2.0\nDisallow: /nope # ours\n', [
    'inkwell',
    'inkwell-linkchecker',
  ]);
  assert.equal(mine.allows('/page'), true, 'only our group applies once one names us');
  assert.equal(mine.allows('/nope/x'), false);

  const tie = parseRobots('User-agent: *\nDisallow: /a\nAllow: /a\n', ['inkwell']);
  assert.equal(tie.allows('/a'), true);
  const star = parseRobots('User-agent: *\nDisallow: /*/secret\nAllow: /x*\n', ['inkwell']);
  assert.equal(star.allows('/docs/secret'), false);
  assert.equal(star.allows('/x/secret'), false, '/*/secret (9) is longer than /x* (3)');
  assert.equal(parseRobots('Disallow: /\nUser-agent: *\nAllow: /\n', ['inkwell']).allows('/x'), true, 'rules before any user-agent belong to no group');
  // A pathological pattern stays fast (no exponential backtracking).
  const evil = parseRobots(`User-agent: *\nDisallow: /${'*a'.repeat(40)}b\n`, ['inkwell']);
  // (Exponential matching would not finish within the test's time limit.)
  assert.equal(evil.allows(`/${'a'.repeat(3000)}`), true);
  // Non-ASCII paths compare in percent-encoded form.
  assert.equal(parseRobots('User-agent: *\nDisallow: /café\n', ['inkwell']).allows('/caf%C3%A9/menu'), false);
});

test('outbound links: absolute http(s) only, not our own origin, entities decoded, fragments dropped, deduplicated', () => {
  const body = `<p><a href="https://example.com/a?x=1&amp;y=2#frag" rel="nofollow">a</a>
<a href="https://example.com/a?x=1&amp;y=2">again</a> <a href="mailto:me@example.com">m</a> <a href="#top">t</a>
<a href="/about">rel</a> <a href="http://blog.test/posts/x">own</a> <a href='HTTP://Example.COM:80/b'>b</a>
<a title="x" href="ftp://example.com/f">ftp</a> <img src="https://img.example.com/i.png"></p>`;
  assert.deepEqual(outboundLinks(body, 'http://blog.test'), ['https://example.com/a?x=1&y=2', 'http://example.com/b']);
});

// ---------------------------------------------------------------------------
// The far side: two small sites on loopback ("127.0.0.1" and "localhost" are
// different hosts to the checker), counting what reaches them.

interface Seen {
  method: string;
  path: string;
  ua: string;
}

interface Site {
  server: Server;
  base: string;
  seen: Seen[];
  maxInFlight: number;
  reset(): void;
  close(): Promise<void>;
}

async function startSite(hostName: string, handle: (req: IncomingMessage, res: ServerResponse, path: string) => void): Promise<Site> {
  let inFlight = 0;
  const site: Site = {
    server: createServer((req, res) => {
      inFlight++;
      site.maxInFlight = Math.max(site.maxInFlight, inFlight);
      res.on('close', () => {
        inFlight--;
      });
      const path = req.url ?? '/';
      site.seen.push({ method: req.method ?? '', path, ua: String(req.headers['user-agent'] ?? '') });
      handle(req, res, path.split('?')[0]);
    }),
    base: '',
    seen: [],
    maxInFlight: 0,
    reset() {
      site.seen = [];
      site.maxInFlight = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        site.server.closeAllConnections();
        site.server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve) => site.server.listen(0, '127.0.0.1', resolve));
  site.base = `http://${hostName}:${(site.server.address() as AddressInfo).port}`;
  return site;
}

const send = (res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'text/plain', ...headers });
  res.end(body);
};

let ok2Status = 200;
const heldSlow = new Set<ServerResponse>();
/** Answers the /slow requests still waiting (for a run that uses the app's own long deadline). */
function releaseSlow(): void {
  for (const res of heldSlow) send(res, 200, 'too late');
  heldSlow.clear();
}

function siteA(req: IncomingMessage, res: ServerResponse, path: string): void {
  // Every page takes a moment, so requests to one host overlap if the checker lets them.
  const later = (fn: () => void, ms = 30) => {
    const timer = setTimeout(fn, ms);
    res.on('close', () => clearTimeout(timer));
  };
  switch (path) {
    case '/robots.txt':
      return send(res, 200, 'User-agent: *\nDisallow: /private/\nAllow: /private/open\n\nUser-agent: BadBot\nDisallow: /\n');
    case '/ok':
    case '/ok3':
    case '/ok4':
    case '/ok5':
    case '/final':
    case '/private/open':
      return later(() => send(res, 200, 'fine'));
    case '/ok2':
      return later(() => send(res, ok2Status, 'fine'));
    case '/missing':
      return later(() => send(res, 404, 'not here'));
    case '/error':
      return later(() => send(res, 500, 'oops'));
    case '/r1':
      return later(() => send(res, 301, '', { location: '/r2' }));
    case '/r2':
      return later(() => send(res, 302, '', { location: `${siteAHolder.base}/final` }));
    case '/head-refused':
      return later(() => (req.method === 'HEAD' ? send(res, 405, '', { allow: 'GET' }) : send(res, 200, 'only GET')));
    case '/slow':
      // Never answers by itself: only the client's deadline (or releaseSlow()) ends it.
      heldSlow.add(res);
      res.on('close', () => heldSlow.delete(res));
      return;
    default:
      return send(res, 404, 'no such page');
  }
}
const siteAHolder = { base: '' };

function siteB(_req: IncomingMessage, res: ServerResponse, path: string): void {
  switch (path) {
    case '/robots.txt':
      // A group for us: only /nope is off limits (the * group would forbid everything).
      return send(res, 200, 'User-agent: *\nDisallow: /\n\nUser-agent: Inkwell\nDisallow: /nope\n');
    case '/b-ok':
      return send(res, 200, 'fine');
    case '/b-gone':
      return send(res, 410, 'gone');
    default:
      return send(res, 404, 'no such page');
  }
}

// ---------------------------------------------------------------------------

eachDatabase('link checker', (dialect) => {
  let t: TestApp;
  let crawl: CrawlService;
  let smtp: SmtpCatcher;
  let a: Site, b: Site, dead: string;
  let admin: TestUser, author: TestUser;
  let token: string;
  const posts: Record<string, { id: number; slug: string }> = {};
  const db = () => t.db.kysely as unknown as Kysely<Database & CrawlTables>;
  // A deadline no working link can miss, however busy the machine; /slow, which never
  // answers, gets a short one from the client below, so it times out without a race.
  const limits = { perHostConcurrency: 2, delayMs: 10, requestTimeoutMs: 60_000, runTimeoutMs: 60_000 };
  const client = createHttpClient({ allowPrivate: true, userAgent: UA });
  const http: HttpClient = { request: (url, req) => client.request(url, url.endsWith('/slow') ? { ...req, timeoutMs: 100 } : req) };

  before(async () => {
    smtp = await startSmtpCatcher();
    a = await startSite('127.0.0.1', siteA);
    siteAHolder.base = a.base;
    b = await startSite('localhost', siteB);
    // A port nothing listens on: connection refused.
    const gone = await startSite('127.0.0.1', () => {});
    dead = `${gone.base}/nothing-here`;
    await gone.close();

    // The app's own link checker answers /admin/links; this suite also drives one directly, with the same limits.
    t = await buildTestApp(dialect, { env: { SMTP_URL: smtp.url, SITE_URL: SITE }, crawlLimits: limits });
    crawl = createCrawlService({
      db: t.db.kysely,
      clock: systemClock,
      http,
      mailer: t.mailer,
      accounts: accountsOn(t.db.kysely),
      site: { url: SITE, name: () => 'Inkwell' },
      limits,
    });
    admin = await buildUser(t, { role: 'admin' });
    author = await buildUser(t, { role: 'author' });
    token = await buildToken(t, author);

    const write = async (key: string, title: string, body: string, status = 'published') => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${token}` }, payload: { title, body, status } });
      assert.equal(res.statusCode, 201, res.body);
      posts[key] = res.json();
    };
    await write(
      'good',
      'Good links',
      [
        `[fine](${a.base}/ok) and [fine again](${a.base}/ok#section), [two](${a.base}/ok2), [open](${a.base}/private/open),`,
        `[other host](${b.base}/b-ok), [mail](mailto:someone@example.com), [home](${SITE}/posts/elsewhere), [top](#top), [rel](/about).`,
      ].join(' '),
    );
    await write(
      'bad',
      'Bad links',
      [
        `[missing](${a.base}/missing) [error](${a.base}/error) [slow](${a.base}/slow) [dead](${dead})`,
        `[gone](${b.base}/b-gone) [shared](${a.base}/ok) [ok4](${a.base}/ok4) [ok5](${a.base}/ok5)`,
      ].join(' '),
    );
    await write('moved', 'Moved & guarded', `[chain](${a.base}/r1) [head](${a.base}/head-refused) [secret](${a.base}/private/secret) [nope](${b.base}/nope)`);
    await write('draft', 'Draft', `[draft only](${a.base}/draft-only)`, 'draft');
  });

  after(async () => {
    await crawl?.stop();
    await t?.close();
    await Promise.all([a?.close(), b?.close(), smtp?.stop()]);
  });

  async function results() {
    const rows = await db().selectFrom('link_checks').selectAll().orderBy('url').execute();
    const pairs = await db().selectFrom('link_check_posts').select(['link_id', 'post_id']).execute();
    return new Map(
      rows.map((r) => [
        r.url,
        {
          state: r.state,
          status: r.status,
          error: r.error,
          finalUrl: r.final_url,
          redirects: r.redirects,
          firstSeen: r.first_seen_at,
          lastChecked: r.last_checked_at,
          posts: pairs
            .filter((p) => p.link_id === r.id)
            .map((p) => p.post_id)
            .sort((x, y) => x - y),
        },
      ]),
    );
  }
  async function deliver() {
    await t.queue.drain();
  }
  const adminMail = () => smtp.messages.filter((m) => m.to.includes(admin.email));

  test('a run records every outbound link once, with what it found and which posts contain it', async () => {
    a.reset();
    b.reset();
    const summary = await crawl.run({ trigger: 'manual' });
    const r = await results();
    const A = a.base,
      B = b.base;
    const expect: Record<string, { state: string; status: number | null; finalUrl?: string; posts: string[] }> = {
      [`${A}/ok`]: { state: 'ok', status: 200, posts: ['good', 'bad'] },
      [`${A}/ok2`]: { state: 'ok', status: 200, posts: ['good'] },
      [`${A}/ok4`]: { state: 'ok', status: 200, posts: ['bad'] },
      [`${A}/ok5`]: { state: 'ok', status: 200, posts: ['bad'] },
      [`${A}/private/open`]: { state: 'ok', status: 200, posts: ['good'] },
      [`${B}/b-ok`]: { state: 'ok', status: 200, posts: ['good'] },
      [`${A}/missing`]: { state: 'broken', status: 404, posts: ['bad'] },
      [`${A}/error`]: { state: 'broken', status: 500, posts: ['bad'] },
      [`${A}/slow`]: { state: 'broken', status: null, posts: ['bad'] },
      [dead]: { state: 'broken', status: null, posts: ['bad'] },
      [`${B}/b-gone`]: { state: 'broken', status: 410, posts: ['bad'] },
      [`${A}/r1`]: { state: 'redirect', status: 200, finalUrl: `${A}/final`, posts: ['moved'] },
      [`${A}/head-refused`]: { state: 'ok', status: 200, posts: ['moved'] },
      [`${A}/private/secret`]: { state: 'skipped', status: null, posts: ['moved'] },
      [`${B}/nope`]: { state: 'skipped', status: null, posts: ['moved'] },
    };
    assert.deepEqual([...r.keys()].sort(), Object.keys(expect).sort(), 'exactly the outbound links of published posts');
    for (const [url, e] of Object.entries(expect)) {
      const got = r.get(url)!;
      assert.equal(got.state, e.state, url);
      assert.equal(got.status, e.status, url);
      assert.equal(got.finalUrl, e.finalUrl ?? null, url);
      assert.deepEqual(
        got.posts,
        e.posts.map((k) => posts[k].id).sort((x, y) => x - y),
        url,
      );
      assert.ok(got.lastChecked, url);
    }
    assert.equal(r.get(`${A}/r1`)!.redirects, 2);
    assert.match(r.get(`${A}/slow`)!.error!, /^Timed out/);
    assert.match(r.get(dead)!.error!, /^Network error: .*ECONNREFUSED/);
    assert.equal(r.get(`${A}/private/secret`)!.error, 'Disallowed by robots.txt');

    assert.deepEqual(
      {
        links: summary.links,
        checked: summary.checked,
        ok: summary.ok,
        broken: summary.broken,
        redirects: summary.redirects,
        skipped: summary.skipped,
        unreached: summary.unreached,
        newBroken: summary.newBroken,
      },
      { links: 15, checked: 13, ok: 7, broken: 5, redirects: 1, skipped: 2, unreached: 0, newBroken: 5 },
    );
    const run = await db().selectFrom('crawl_runs').selectAll().where('id', '=', summary.id).executeTakeFirstOrThrow();
    assert.equal(run.trigger, 'manual');
    assert.ok(run.finished_at && run.finished_at >= run.started_at);
    assert.equal(run.new_broken, 5);

    // What the far side saw: robots.txt once per host and run, never a disallowed path,
    // HEAD first with GET only where HEAD was refused, our User-Agent on everything.
    const all = [...a.seen, ...b.seen];
    assert.ok(
      all.every((s) => s.ua === UA),
      JSON.stringify(all.filter((s) => s.ua !== UA)),
    );
    assert.equal(a.seen.filter((s) => s.path === '/robots.txt').length, 1);
    assert.equal(b.seen.filter((s) => s.path === '/robots.txt').length, 1);
    assert.ok(!all.some((s) => s.path.startsWith('/private/secret') || s.path === '/nope' || s.path === '/draft-only'));
    assert.deepEqual(
      a.seen.filter((s) => s.path === '/head-refused').map((s) => s.method),
      ['HEAD', 'GET'],
    );
    assert.deepEqual(
      a.seen.filter((s) => s.path === '/missing').map((s) => s.method),
      ['HEAD'],
    );
    assert.deepEqual(
      a.seen.filter((s) => ['/r1', '/r2', '/final'].includes(s.path)).map((s) => `${s.method} ${s.path}`),
      ['HEAD /r1', 'HEAD /r2', 'HEAD /final'],
    );
    // Per-host politeness: never more than two at a time, and the limit is what held it (not luck).
    assert.equal(a.maxInFlight, 2, 'at most two requests at a time to 127.0.0.1');
    assert.ok(b.maxInFlight <= 2);
  });

  test('admins get one email about new broken links, and none when nothing new broke', async () => {
    await deliver();
    const mail = await smtp.waitFor((m) => m.to.includes(admin.email));
    assert.equal(adminMail().length, 1);
    assert.equal(smtp.messages.filter((m) => m.to.includes(author.email)).length, 0, 'authors are not told');
    assert.equal(mail.subject, '5 new broken links on Inkwell');
    for (const url of [`${a.base}/missing`, `${a.base}/error`, `${a.base}/slow`, dead, `${b.base}/b-gone`]) assert.ok(mail.text.includes(url), url);
    assert.match(mail.text, new RegExp(`${a.base}/missing — HTTP 404 — in “Bad links” \\(${SITE}/posts/${posts.bad.slug}\\)`));
    assert.match(mail.text, /Timed out/);
    assert.ok(!mail.text.includes(`${a.base}/ok `), 'working links are not listed');
    assert.match(mail.text, new RegExp(`${SITE}/admin/links`));

    const firstSeen = (await results()).get(`${a.base}/missing`)!.firstSeen;
    const second = await crawl.run({ trigger: 'schedule' });
    assert.equal(second.newBroken, 0);
    assert.equal(second.broken, 5);
    await deliver();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(adminMail().length, 1, 'still broken is not news');
    assert.equal((await results()).get(`${a.base}/missing`)!.firstSeen, firstSeen);

    // Something new breaks: one more email, about that link only.
    ok2Status = 404;
    try {
      const third = await crawl.run({ trigger: 'schedule' });
      assert.equal(third.newBroken, 1);
      await deliver();
      const next = await smtp.waitFor((m) => m.to.includes(admin.email) && m !== mail);
      assert.equal(adminMail().length, 2);
      assert.equal(next.subject, '1 new broken link on Inkwell');
      assert.ok(next.text.includes(`${a.base}/ok2 — HTTP 404`));
      assert.ok(!next.text.includes(`${a.base}/missing`));
    } finally {
      ok2Status = 200;
    }
  });

  test('a run that hits its time limit leaves links for the next run, which checks them first', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: { authorization: `Bearer ${token}` },
      payload: { title: 'Later', body: `[three](${a.base}/ok3)`, status: 'published' },
    });
    assert.equal(res.statusCode, 201);
    const hurried = createCrawlService({
      db: t.db.kysely,
      clock: systemClock,
      http,
      mailer: t.mailer,
      accounts: accountsOn(t.db.kysely),
      site: { url: SITE, name: () => 'Inkwell' },
      limits: { ...limits, runTimeoutMs: 0 },
    });
    const cut = await hurried.run({ trigger: 'schedule' });
    assert.equal(cut.links, 16);
    assert.equal(cut.unreached, 16);
    assert.equal(cut.checked, 0);
    const r = await results();
    assert.equal(r.get(`${a.base}/ok3`)!.state, 'pending');
    assert.equal(r.get(`${a.base}/ok3`)!.lastChecked, null);
    assert.equal(r.get(`${a.base}/missing`)!.state, 'broken', 'results of earlier runs are kept');

    a.reset();
    const full = await crawl.run({ trigger: 'schedule' });
    assert.equal(full.unreached, 0);
    assert.equal((await results()).get(`${a.base}/ok3`)!.state, 'ok');
    const firstLink = a.seen.find((s) => s.path !== '/robots.txt');
    assert.equal(firstLink?.path, '/ok3', 'the never-checked link goes first');
  });

  test('links of unpublished posts are forgotten', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: { authorization: `Bearer ${token}` },
      payload: { title: 'Short-lived', body: `[five](${a.base}/ok5?only=here)`, status: 'published' },
    });
    const post = res.json() as { id: number };
    await crawl.run({ trigger: 'manual' });
    assert.equal((await results()).get(`${a.base}/ok5?only=here`)?.state, 'ok');
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/posts/${post.id}`, headers: { authorization: `Bearer ${token}` } });
    assert.ok(del.statusCode < 300, del.body);
    await crawl.run({ trigger: 'manual' });
    assert.equal((await results()).get(`${a.base}/ok5?only=here`), undefined);
  });

  test('/admin/links shows admins what broke, where, and what to update; others get 403', async () => {
    const c = new Client(t.app);
    assert.equal((await c.login(author.username, author.password)).status, 303);
    assert.equal((await c.get('/admin/links')).status, 403);
    await c.get('/');
    assert.equal((await c.postForm('/admin/links/run', {})).status, 403);

    const adm = new Client(t.app);
    assert.equal((await adm.login(admin.username, admin.password)).status, 303);
    const page = await adm.get('/admin/links');
    assert.equal(page.status, 200);
    const broken = page.body.slice(page.body.indexOf('id="broken-h"'), page.body.indexOf('id="redirects-h"'));
    for (const url of [`${a.base}/missing`, `${a.base}/error`, `${a.base}/slow`, dead, `${b.base}/b-gone`]) assert.ok(broken.includes(`>${url}</a>`), url);
    assert.ok(!broken.includes(`>${a.base}/ok</a>`));
    assert.match(broken, /HTTP 404/);
    assert.match(broken, /Timed out/);
    assert.ok(broken.includes(`<a href="/posts/${posts.bad.slug}">Bad links</a>`));
    const redirects = page.body.slice(page.body.indexOf('id="redirects-h"'), page.body.indexOf('id="skipped-h"'));
    assert.ok(redirects.includes(`>${a.base}/r1</a>`) && redirects.includes(`>${a.base}/final</a>`));
    assert.ok(redirects.includes('>Moved &#38; guarded</a>'), 'titles are escaped');
    const skipped = page.body.slice(page.body.indexOf('id="skipped-h"'));
    assert.ok(skipped.includes(`>${a.base}/private/secret</a>`) && skipped.includes(`>${b.base}/nope</a>`));
    assert.match(page.body, /Last check/);

    const runs = async () => await db().selectFrom('crawl_runs').select(['id', 'trigger', 'finished_at']).orderBy('id').execute();
    const before = (await runs()).length;
    const res = await adm.postForm('/admin/links/run', {});
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/admin/links');
    assert.match((await adm.get('/admin/links')).body, /Checking links now/);
    // The run goes on in the background; wait for it to be recorded as finished.
    // The app's own checker has the suite's long deadline: answer /slow so the run can end.
    for (let i = 0; i < 1200; i++) {
      releaseSlow();
      const all = await runs();
      if (all.length > before && all.at(-1)!.finished_at) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const last = (await runs()).at(-1)!;
    assert.equal((await runs()).length, before + 1);
    assert.equal(last.trigger, 'manual');
    assert.ok(last.finished_at);
  });
});

eachDatabase('link checker: one run at a time', (dialect) => {
  test("a second call joins the run going in this process; another instance's run is a conflict", async () => {
    const fresh = await freshDb(dialect);
    const queue = createQueue({ db: fresh.db.kysely, clock: systemClock, dialect });
    const mailer = createMailer({ db: fresh.db.kysely, clock: systemClock, queue, from: 'Inkwell <noreply@blog.test>' });
    try {
      await prepareDatabase(fresh.db);
      const make = () =>
        createCrawlService({
          db: fresh.db.kysely,
          clock: systemClock,
          mailer,
          accounts: accountsOn(fresh.db.kysely),
          http: { request: () => Promise.reject(new Error('no links, so no requests')) },
          site: { url: SITE, name: () => 'Inkwell' },
        });
      const crawl = make();
      const [x, y] = await Promise.all([crawl.run(), crawl.run({ trigger: 'schedule' })]);
      assert.equal(x.id, y.id);
      assert.equal(x.links, 0);
      assert.equal(x.trigger, 'manual');
      assert.deepEqual(await Promise.all([crawl.start('manual'), crawl.start('manual')]), [true, false]);
      await crawl.idle();
      assert.equal(crawl.running(), false);

      // Another instance's run that is still going (its row unfinished, and recent).
      const kdb = fresh.db.kysely as unknown as Kysely<Database & CrawlTables>;
      await kdb
        .insertInto('crawl_runs')
        .values({
          trigger: 'schedule',
          started_at: new Date().toISOString(),
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
        .execute();
      await assert.rejects(make().run(), { code: 'conflict' });
      assert.equal(await make().start('manual'), false);
      // One that died long ago does not block anyone.
      await kdb
        .updateTable('crawl_runs')
        .set({ started_at: new Date(Date.now() - 86_400_000).toISOString() })
        .where('finished_at', 'is', null)
        .execute();
      assert.equal((await make().run()).links, 0);
    } finally {
      await mailer.stop();
      await fresh.drop();
    }
  });
});
