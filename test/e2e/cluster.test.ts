// Issue 19: many machines, proven. Three real Inkwell processes on one
// PostgreSQL schema behind a real HAProxy (round-robin, no sticky sessions,
// health checks on /readyz), driven the way an operator meets them: through
// the proxy, with instances stopped, restarted and killed under load.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { HAPROXY, startCluster, type Cluster, type Instance } from '../support/cluster.ts';
import { waitFor, withSchema } from '../support/inkwell-process.ts';
import { openSse } from '../support/sse.ts';
import { openDb, type Db } from '../../src/platform/db/index.ts';

const PG_URL = process.env.INKWELL_TEST_DATABASE_URL;
const skip = !PG_URL
  ? 'INKWELL_TEST_DATABASE_URL is not set (the cluster runs on PostgreSQL)'
  : !existsSync(HAPROXY)
    ? `${HAPROXY} is missing (apt-get install haproxy; .ci/run does)`
    : false;
const root = new URL('../../', import.meta.url).pathname;
// Bounds for the slow steps (npm test gives each test 120 s): a loaded machine
// slows them several times; the waits inside are bounded too.
const SLOW = 300_000;

/** A browser's cookies, kept across requests to any instance. */
class Jar {
  cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** A request as a browser sends it (cookies, Origin on state changes, no redirects followed). */
async function browse(jar: Jar, url: string, form?: Record<string, string>): Promise<Response> {
  const headers: Record<string, string> = { cookie: jar.header(), accept: 'text/html' };
  const init: RequestInit = { headers, redirect: 'manual', signal: AbortSignal.timeout(30_000) };
  if (form) {
    init.method = 'POST';
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers.origin = new URL(url).origin;
    init.body = new URLSearchParams(form).toString();
  }
  const res = await fetch(url, init);
  jar.take(res);
  return res;
}

const csrfOf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? assert.fail('no CSRF field on the page');

/** A JSON API request (always with a JSON content type, as front ends send it). */
function api(url: string, opts: { method?: string; token?: string; body?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return fetch(url, {
    method: opts.method ?? 'GET',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(30_000),
  });
}

describe('three instances behind HAProxy on one PostgreSQL', { skip, timeout: 600_000 }, () => {
  let cluster: Cluster;
  let db: Db;
  // Named after the run like every test schema, so test/run.ts drops it once every file
  // has finished: dropping it here, while another file's migrator scans the catalog,
  // made that scan fail ('schema ... does not exist', 3F000).
  const schema = `inkwell_t_${process.env.INKWELL_TEST_RUN ?? 'norun'}_cluster_${Math.random().toString(36).slice(2, 8)}`;
  let env: Record<string, string>;
  let adminToken: string;
  const admin = { email: `admin${process.pid}@example.test`, password: 'cluster admin password' };
  const reader = { email: `reader${process.pid}@example.test`, password: 'cluster reader password' };
  let postId: number;
  const slug = 'welcome-to-inkwell';
  const deliveries = new Map<string, number>();
  let receiver: http.Server;
  let hookUrl: string;

  before(
    async () => {
      // A schema of its own, dropped by this test: the cluster outlives a normal
      // suite, and test runs elsewhere clear inkwell_t_* schemas they cannot tie to
      // a running process of theirs.
      const maker = openDb({ url: PG_URL!, poolSize: 1 });
      await sql`create schema ${sql.id(schema)}`.execute(maker.kysely);
      await maker.close();
      db = openDb({ url: PG_URL!, schema, poolSize: 5 });
      receiver = http.createServer((req, res) => {
        const id = req.headers['inkwell-delivery'];
        req.resume();
        req.on('end', () => {
          if (typeof id === 'string') deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
          res.end('ok');
        });
      });
      receiver.listen(0, '127.0.0.1');
      await once(receiver, 'listening');
      hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
      env = {
        DATABASE_URL: withSchema(PG_URL!, schema),
        SESSION_SECRET: 'a shared session secret, the same on every instance',
        SITE_URL: 'http://127.0.0.1',
        TRUST_PROXY: '1',
        LOG_LEVEL: 'info',
        MEDIA_DIR: mkdtempSync(join(tmpdir(), 'inkwell-cluster-media-')),
        // The webhook receiver is this test, on loopback.
        ALLOW_PRIVATE_OUTBOUND: '1',
        WORKERS: '2',
      };
      cluster = await startCluster(3, env);
      const cli = (...args: string[]) => promisify(execFile)(process.execPath, ['bin/inkwell.js', ...args], { cwd: root, env: { ...process.env, ...env } });
      await cli('create-admin', '--email', admin.email, '--password', admin.password);
      await cli('create-user', '--email', reader.email, '--password', reader.password, '--role', 'reader');
      const login = await api(`${cluster.proxy}/api/v1/sessions`, { method: 'POST', body: { login: admin.email, password: admin.password } });
      assert.equal(login.status, 201, await login.clone().text());
      adminToken = ((await login.json()) as { token: string }).token;
      postId = ((await (await api(`${cluster.proxy}/api/v1/posts/${slug}`)).json()) as { id: number }).id;
    },
    { timeout: SLOW },
  );

  after(async () => {
    await cluster?.close();
    receiver?.close();
    await db?.close();
  });

  const inst = (n: number): Instance => cluster.instances[n];

  test('instances started together ran each migration once', async () => {
    const { rows } = await sql<{ name: string; n: number }>`select name, count(*)::int as n from kysely_migration group by name having count(*) > 1`.execute(
      db.kysely,
    );
    assert.deepEqual(rows, []);
    for (const p of cluster.all) assert.doesNotMatch(p.output(), /cannot prepare the database/);
  });

  test('log in once: signed in on every instance, CSRF tokens from one accepted by the others, logout ends it everywhere', async () => {
    const jar = new Jar();
    const form = await browse(jar, `${cluster.proxy}/login`);
    const loggedIn = await browse(jar, `${cluster.proxy}/login`, { _csrf: csrfOf(await form.text()), login: admin.email, password: admin.password });
    assert.equal(loggedIn.status, 303);
    assert.notEqual(form.headers.get('x-served-by'), loggedIn.headers.get('x-served-by'), 'round-robin: the form and the login went to different instances');

    const servedBy = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await browse(jar, `${cluster.proxy}/settings`);
      assert.equal(res.status, 200, 'signed in');
      servedBy.add(res.headers.get('x-served-by')!);
    }
    assert.equal(servedBy.size, 3, 'every instance knew the session');

    // A token from each instance's page, sent to the next instance.
    for (let i = 0; i < 3; i++) {
      const page = await browse(jar, `${inst(i).url}/posts/${slug}`);
      const res = await browse(jar, `${inst((i + 1) % 3).url}/posts/${slug}/comments`, {
        _csrf: csrfOf(await page.text()),
        body: `CSRF from ${inst(i).name} to ${inst((i + 1) % 3).name}`,
      });
      assert.equal(res.status, 303, `a token made by ${inst(i).name} is accepted by ${inst((i + 1) % 3).name}`);
    }

    // The cookie as it was while signed in, to replay after the logout.
    const old = new Jar();
    old.cookies = new Map(jar.cookies);
    const page = await browse(jar, `${cluster.proxy}/settings`);
    const out = await browse(jar, `${cluster.proxy}/logout`, { _csrf: csrfOf(await page.text()) });
    assert.equal(out.status, 303);
    for (const i of cluster.instances) {
      const res = await browse(old, `${i.url}/settings`);
      assert.equal(res.status, 303, `${i.name} no longer knows the session`);
      assert.match(res.headers.get('location') ?? '', /^\/login/);
    }
  });

  test('the 11th failed login in 15 minutes is refused wherever it lands', async () => {
    const servedBy = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const res = await api(`${cluster.proxy}/api/v1/sessions`, { method: 'POST', body: { login: reader.email, password: `wrong ${i}` } });
      assert.equal(res.status, 401);
      servedBy.add(res.headers.get('x-served-by')!);
    }
    assert.equal(servedBy.size, 3, 'the failures were spread over all three instances');
    for (const i of cluster.instances) {
      const res = await api(`${i.url}/api/v1/sessions`, { method: 'POST', body: { login: reader.email, password: reader.password } });
      assert.equal(res.status, 429, `${i.name} refuses, even the right password`);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    }
  });

  test('a comment posted through one instance reaches a live stream on another, and every anonymous page cache shows it', async () => {
    // Warm every instance's anonymous page cache.
    for (const i of cluster.instances) for (let k = 0; k < 2; k++) assert.equal((await fetch(`${i.url}/posts/${slug}`)).status, 200);
    const stream = await openSse(`${inst(2).url}/api/v1/events?post=${postId}`);
    try {
      const text = `Live across instances ${Date.now()}`;
      const res = await api(`${inst(0).url}/api/v1/posts/${postId}/comments`, { method: 'POST', token: adminToken, body: { body: text } });
      assert.equal(res.status, 201, await res.clone().text());
      const pushed = await stream.waitFor((e) => e.event === 'comment' && e.data.includes('Live across instances'), 30_000);
      assert.match(pushed.data, new RegExp(text));
      for (const i of cluster.instances) {
        const page = await (await fetch(`${i.url}/posts/${slug}`)).text();
        assert.match(page, new RegExp(text), `${i.name}'s next anonymous read shows the comment`);
      }
    } finally {
      stream.close();
    }
  });

  test('a burst of 1,000 jobs: each runs once across the three instances', { timeout: SLOW }, async () => {
    const hook = await api(`${cluster.proxy}/api/v1/webhooks`, { method: 'POST', token: adminToken, body: { url: hookUrl, events: ['post.published'] } });
    assert.equal(hook.status, 201, await hook.clone().text());
    const ids = await enqueueDeliveries(db, ((await hook.json()) as { webhook: { id: number } }).webhook.id, 'burst', 1000);
    await waitFor('1,000 deliveries', () => ids.every((id) => deliveries.has(id)), 120_000, 200);
    await waitFor('every job recorded as done', async () => (await doneCount(db, 'burst')) === 1000, 60_000, 200);
    const dupes = ids.filter((id) => deliveries.get(id) !== 1);
    assert.deepEqual(dupes, [], 'no job ran twice');
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_deliveries where delivery_id like 'dlv_burst_%' and attempts <> 1`.execute(
      db.kysely,
    );
    assert.equal(rows[0].n, 0);
  });

  /** Reads and writes through the proxy until stopped; counts failures, keeps acknowledged writes. */
  function load(token: string) {
    let stop = false;
    const failures: string[] = [];
    const acked: number[] = [];
    let reads = 0;
    let n = 0;
    const run = (async () => {
      // Bounded in count and time, whatever happens to the instances.
      const until = Date.now() + 240_000;
      while (!stop && n < 5000 && Date.now() < until) {
        n++;
        try {
          const read = await fetch(`${cluster.proxy}/posts/${slug}`, { signal: AbortSignal.timeout(30_000) });
          await read.arrayBuffer();
          if (read.status !== 200) failures.push(`read ${read.status}`);
          else reads++;
          const write = await api(`${cluster.proxy}/api/v1/posts`, {
            method: 'POST',
            token,
            body: { title: `Load ${n}`, body: `Written during a restart, ${n}.` },
          });
          const body = await write.text();
          if (write.status === 201) acked.push((JSON.parse(body) as { id: number }).id);
          else failures.push(`write ${write.status} ${body.slice(0, 200)}`);
        } catch (e) {
          failures.push(`error ${(e as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    return {
      failures,
      acked,
      reads: () => reads,
      stop: async () => {
        stop = true;
        await run;
      },
    };
  }

  test('rolling restart under load: no failed request, no lost acknowledged write', { timeout: SLOW }, async () => {
    const traffic = load(adminToken);
    for (const i of cluster.instances) {
      const before = traffic.acked.length;
      assert.equal(await cluster.stop(i), 0, 'a clean exit');
      await cluster.start(i);
      // Back in the proxy's pool (two good checks) before the next one goes.
      await waitFor(
        `${i.name} back behind the proxy`,
        async () => {
          const seen = new Set<string>();
          for (let k = 0; k < 6; k++) seen.add((await fetch(`${cluster.proxy}/healthz`)).headers.get('x-served-by')!);
          return seen.has(i.name);
        },
        60_000,
        200,
      );
      await waitFor('writes during this step', () => traffic.acked.length > before + 3, 60_000, 50);
    }
    await traffic.stop();
    assert.deepEqual(traffic.failures, [], 'no request failed');
    assert.ok(traffic.reads() > 10 && traffic.acked.length > 10, `load ran (${traffic.reads()} reads, ${traffic.acked.length} writes)`);
    await assertStored(db, traffic.acked);
  });

  test('SIGKILL of one instance during load and a job burst loses no acknowledged write and no job', { timeout: SLOW }, async () => {
    const {
      rows: [hook],
    } = await sql<{ id: number }>`select id from webhooks order by id limit 1`.execute(db.kysely);
    const traffic = load(adminToken);
    const ids = await enqueueDeliveries(db, hook.id, 'kill', 300);
    await waitFor('the burst under way', () => ids.filter((id) => deliveries.has(id)).length >= 30, 60_000, 20);
    await cluster.kill(inst(1));
    await waitFor('writes after the kill', () => traffic.acked.length > 10, 60_000, 50);
    await new Promise((r) => setTimeout(r, 2000));
    await traffic.stop();
    // Requests in flight on the killed instance may fail (never acknowledged); the rest go on.
    await assertStored(db, traffic.acked);
    // Jobs the dead instance held are taken again when their lease ends (a minute).
    await waitFor('every job of the burst done', async () => (await doneCount(db, 'kill')) === 300, 150_000, 500);
    assert.deepEqual(
      ids.filter((id) => !deliveries.has(id)),
      [],
      'every job ran',
    );
    await cluster.start(inst(1));
  });

  test('a cron tick runs once across the three instances', { timeout: SLOW }, async () => {
    // publish-scheduled-posts runs every minute; the tests above take longer than that.
    const runs = () =>
      cluster.all
        .flatMap((p) => p.output().split('\n'))
        .filter((l) => l.includes('running scheduled task'))
        .map((l) => JSON.parse(l) as { schedule: string; tick: string });
    await waitFor('a scheduled run', () => runs().some((r) => r.schedule === 'publish-scheduled-posts'), 90_000, 500);
    const keys = runs().map((r) => `${r.schedule} ${r.tick}`);
    assert.deepEqual(
      keys.filter((k, i) => keys.indexOf(k) !== i),
      [],
      'no tick ran twice',
    );
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from cron_ticks where name = 'publish-scheduled-posts'`.execute(db.kysely);
    assert.ok(rows[0].n >= 1);
  });
});

/** Enqueues n webhook deliveries at once, as a burst of events would: one transaction, n jobs. */
async function enqueueDeliveries(db: Db, hookId: number, tag: string, n: number): Promise<string[]> {
  const now = new Date().toISOString();
  const ids = Array.from({ length: n }, (_, i) => `dlv_${tag}_${i}`);
  await db.kysely.transaction().execute(async (trx) => {
    await trx
      .insertInto('webhook_deliveries')
      .values(
        ids.map((id) => ({
          webhook_id: hookId,
          delivery_id: id,
          event: 'post.published',
          body: JSON.stringify({ event: 'post.published', id }),
          status: 'pending',
          response_status: null,
          response_excerpt: null,
          duration_ms: null,
          error: null,
          created_at: now,
          last_attempt_at: null,
        })),
      )
      .execute();
    await trx
      .insertInto('jobs')
      .values(
        ids.map((id) => ({
          type: 'webhook.deliver',
          payload: JSON.stringify({ deliveryId: id }),
          status: 'queued',
          run_at: now,
          max_attempts: 5,
          lease_until: null,
          locked_by: null,
          last_error: null,
          idempotency_key: null,
          created_at: now,
          updated_at: now,
          finished_at: null,
        })),
      )
      .execute();
  });
  return ids;
}

async function doneCount(db: Db, tag: string): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`select count(*)::int as n from webhook_deliveries where delivery_id like ${`dlv_${tag}_%`} and status = 'succeeded'`.execute(db.kysely);
  return rows[0].n;
}

async function assertStored(db: Db, acked: number[]): Promise<void> {
  if (!acked.length) return;
  const rows = await db.kysely.selectFrom('posts').select('id').where('id', 'in', acked).execute();
  assert.equal(rows.length, acked.length, 'every acknowledged write is in the database');
}
