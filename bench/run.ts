// npm run bench [-- --posts 100000] [--pg postgres://…] [--duration 10] [--connections 64] [--smoke]
//                [--only uncached,api-uncached,write]   (a subset of the scenarios, by id; `--only list` lists them)
//                [--instances 3]   (with --pg: one instance beside several behind HAProxy, bench/cluster.ts)
//                [--only upload [--uploads 8] [--concurrency 8]]   (image uploads and their variants, bench/upload.ts)
// A bare --pg uses INKWELL_TEST_DATABASE_URL. A quick run: --posts 10000 --duration 3 --only …
// (runs with --smoke or --only are not written to bench/results/, except the upload run).
// Seeds a fresh database, starts Inkwell as its own process, drives it with
// autocannon (another process) over loopback, and compares every scenario
// with a bare node:http server answering the same bytes (the ceiling).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDb } from '../src/platform/db/index.ts';
import { prepareDatabase } from '../src/bootstrap.ts';
import { encodeCursor } from '../src/lib/cursor.ts';
import { seed } from './seed.ts';
import { clusterBench, cpuMs } from './cluster.ts';
import { uploadBench } from './upload.ts';

// `--pg` with no URL after it: the test database from the environment.
const argv = process.argv.slice(2);
const pgAt = argv.indexOf('--pg');
if (pgAt !== -1 && (pgAt + 1 >= argv.length || argv[pgAt + 1].startsWith('--'))) {
  const envUrl = process.env.INKWELL_TEST_DATABASE_URL;
  if (!envUrl) {
    console.error('bench: --pg needs a URL (or INKWELL_TEST_DATABASE_URL)');
    process.exit(2);
  }
  argv.splice(pgAt + 1, 0, envUrl);
}

const { values: args } = parseArgs({
  args: argv,
  options: {
    posts: { type: 'string' },
    pg: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    smoke: { type: 'boolean' },
    instances: { type: 'string' },
    only: { type: 'string' },
    uploads: { type: 'string' },
    concurrency: { type: 'string' },
  },
});
const ONLY = args.only ? new Set(args.only.split(',').map((x) => x.trim())) : null;
// The scenarios' ids, in the order they run (checked against the list in main()).
const IDS = 'ceiling floor posts uncached deep post post-uncached deep-uncached signed-in signed-in-post tag search api api-uncached feed write mixed'.split(
  ' ',
);
if (ONLY?.has('list')) {
  console.log(IDS.join('\n'));
  process.exit(0);
}
// `upload` is a run of its own (bench/upload.ts): it needs no posts and no ceiling.
if (ONLY?.has('upload') && ONLY.size > 1) {
  console.error('bench: --only upload runs alone');
  process.exit(2);
}
const unknown = [...(ONLY ?? [])].filter((id) => id !== 'upload' && !IDS.includes(id));
if (unknown.length) {
  console.error(`bench: no scenario ${unknown.join(', ')} (npm run bench -- --only list)`);
  process.exit(2);
}
const INSTANCES = Number(args.instances ?? 1);
if (INSTANCES > 1 && !args.pg) {
  console.error('bench: --instances needs --pg (several instances share one PostgreSQL database)');
  process.exit(2);
}
const smoke = !!args.smoke;
// The upload scenario needs only an account and its token.
const POSTS = Number(args.posts ?? (args.only === 'upload' ? 10 : smoke ? 1000 : 10_000));
const DURATION = Number(args.duration ?? (smoke ? 2 : 10));
const CONNECTIONS = Number(args.connections ?? 64);
const root = new URL('../', import.meta.url).pathname;
const node = process.execPath;
const tmp = mkdtempSync(join(os.tmpdir(), 'inkwell-bench-'));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  ceilingRps?: number;
  ratio?: number;
  /** The server process's CPU time (user + system, all threads) per answered request; writes include their background work. */
  cpuMsPerRequest?: number;
  peakRssMb?: number;
  note?: string;
}

/** One autocannon run in its own process; returns its JSON summary. */
function autocannon(url: string, extra: string[] = [], connections = CONNECTIONS, duration = DURATION): Promise<any> {
  return new Promise((resolve, reject) => {
    const p = spawn(node, [join(root, 'node_modules/autocannon/autocannon.js'), '-j', '-c', String(connections), '-d', String(duration), ...extra, url], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('exit', () => {
      try {
        resolve(JSON.parse(out));
      } catch (_e) {
        reject(new Error(`autocannon output: ${out.slice(0, 300)}`));
      }
    });
  });
}

/** Reads of a new URL each time (bench/read-load.ts): the path without the response cache. */
function uncachedReads(url: string, duration = DURATION, opts: { unique?: boolean; headers?: Record<string, string> } = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    const p = spawn(node, [join(root, 'bench/read-load.ts'), url, String(CONNECTIONS), String(duration), JSON.stringify(opts)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('exit', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`read-load output: ${out.slice(0, 300)}`));
      }
    });
  });
}

/** Authenticated unique writes through bench/write-load.ts. */
function writes(url: string, token: string, connections: number, prefix: string, duration = DURATION): Promise<any> {
  return new Promise((resolve, reject) => {
    const p = spawn(node, [join(root, 'bench/write-load.ts'), url, token, String(connections), String(duration), prefix], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('exit', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`write-load output: ${out.slice(0, 300)}`));
      }
    });
  });
}

const summarize = (name: string, r: any): Result => ({
  name,
  rps: Math.round(r.requests.average),
  p50: r.latency.p50,
  p99: r.latency.p99,
  errors: r.errors + r.timeouts,
  non2xx: r.non2xx,
});

const loadBefore = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');

async function main() {
  // 1. A fresh, seeded database.
  let dbUrl = `sqlite:${join(tmp, 'bench.db')}`;
  let schema: string | undefined;
  if (args.pg) {
    schema = `inkwell_bench_${process.pid}`;
    const admin = openDb({ url: args.pg, poolSize: 1 });
    await sql`create schema ${sql.id(schema)}`.execute(admin.kysely);
    await admin.close();
    dbUrl = `${args.pg}${args.pg.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  }
  const db = openDb({ url: args.pg ?? dbUrl, schema });
  await prepareDatabase(db);
  const seedStart = Date.now();
  const { token, commentedSlug, sessionCookie, tagSlug } = await seed(db.kysely, POSTS);
  const deep = await db.kysely
    .selectFrom('posts')
    .select(['id', 'published_at'])
    .where('slug', '=', `post-${Math.floor(POSTS * 0.05)}`)
    .executeTakeFirstOrThrow();
  const deepCursor = encodeCursor({ at: deep.published_at!, id: deep.id });
  // A live PostgreSQL has planner statistics (autovacuum analyzes); a freshly
  // seeded one has none until autovacuum's next round, and plans a top-N sort
  // over every published post instead of the index scan.
  if (args.pg) await sql`analyze`.execute(db.kysely);
  await db.close();
  console.log(`seeded ${POSTS.toLocaleString('en')} posts in ${Date.now() - seedStart} ms (${args.pg ? 'PostgreSQL' : 'SQLite'})`);

  if (args.only === 'upload') {
    const { md, failed } = await uploadBench({
      root,
      tmp,
      dbUrl,
      token,
      uploads: Number(args.uploads ?? (smoke ? 2 : 8)),
      concurrency: Number(args.concurrency ?? 8),
      freePort,
      rssMb,
    });
    console.log(`\n${md}`);
    if (!smoke) {
      mkdirSync(join(root, 'bench/results'), { recursive: true });
      writeFileSync(
        join(root, `bench/results/${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}-upload-${args.pg ? 'postgres' : 'sqlite'}.md`),
        md,
      );
    }
    if (args.pg && schema) {
      const admin = openDb({ url: args.pg, poolSize: 1 });
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.kysely);
      await admin.close();
    }
    rmSync(tmp, { recursive: true, force: true });
    if (failed) {
      console.error('bench: some uploads failed');
      process.exit(1);
    }
    return;
  }

  if (INSTANCES > 1) {
    const { md, failed } = await clusterBench({
      root,
      tmp,
      dbUrl,
      token,
      slug: commentedSlug,
      instances: INSTANCES,
      duration: DURATION,
      connections: CONNECTIONS,
      freePort,
      autocannon,
      writes,
    });
    console.log(`\n${md}`);
    if (!smoke) {
      mkdirSync(join(root, 'bench/results'), { recursive: true });
      writeFileSync(join(root, `bench/results/${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}-postgres-${INSTANCES}-instances.md`), md);
    }
    const admin = openDb({ url: args.pg!, poolSize: 1 });
    await sql`drop schema if exists ${sql.id(schema!)} cascade`.execute(admin.kysely);
    await admin.close();
    rmSync(tmp, { recursive: true, force: true });
    if (failed) {
      console.error('bench: errors or non-2xx answers through the cluster');
      process.exit(1);
    }
    return;
  }

  // 2. Inkwell as its own process, started exactly as `npm start` does (same Node flags): cold start and idle memory.
  // The first start after an install strips the TypeScript and fills Node's compile cache (bin/inkwell.js);
  // every later start reads it. Both are measured, on a cache of the benchmark's own.
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const startArgs = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/).slice(1);
  async function startInkwell(): Promise<{ proc: ChildProcess; ms: number }> {
    const started = Date.now();
    const proc = spawn(node, startArgs, {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        DATABASE_URL: dbUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        SITE_URL: base,
        NODE_COMPILE_CACHE: join(tmp, 'compile-cache'),
      },
    });
    for (let i = 0; i < 1000; i++) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) return { proc, ms: Date.now() - started };
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('Inkwell did not start');
  }
  const first = await startInkwell();
  const firstStartMs = first.ms;
  await new Promise((r) => {
    first.proc.once('exit', r);
    first.proc.kill('SIGTERM');
  });
  const { proc: server, ms: coldStartMs } = await startInkwell();
  await new Promise((r) => setTimeout(r, 1000));
  const idleRssMb = rssMb(server.pid!);

  // 3. The ceiling serves the same bytes from memory: body and headers (those Node adds itself aside).
  const ceilingArgs: string[] = [];
  for (const [path, name] of [
    ['/posts', 'page'],
    ['/api', 'api'],
  ] as const) {
    const res = await fetch(`${base}${path === '/api' ? '/api/v1/posts' : path}`);
    const headers = Object.fromEntries(
      [...res.headers].filter(([h]) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(h)),
    );
    writeFileSync(join(tmp, `${name}.body`), Buffer.from(await res.arrayBuffer()));
    writeFileSync(join(tmp, `${name}.headers.json`), JSON.stringify(headers));
    ceilingArgs.push(path, join(tmp, `${name}.body`), join(tmp, `${name}.headers.json`));
  }
  const ceilingPort = await freePort();
  const ceiling = spawn(node, [join(root, 'bench/ceiling.ts'), String(ceilingPort), ...ceilingArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => ceiling.stdout!.once('data', r));

  // The stack floor (SQLite only: it reads the database file with node:sqlite).
  let floor: ChildProcess | undefined;
  const floorPort = await freePort();
  if (!args.pg) {
    floor = spawn(
      node,
      [join(root, 'bench/floor.ts'), String(floorPort), dbUrl.slice('sqlite:'.length), join(tmp, 'page.body'), join(tmp, 'page.headers.json'), '20'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise((r, j) => {
      floor!.stdout!.once('data', r);
      floor!.once('exit', () => j(new Error('the stack floor did not start')));
    });
  }

  const results: Result[] = [];
  // This machine's speed drifts by tens of percent within seconds, so a ratio to a
  // ceiling measured minutes earlier mixes that drift into the result. A scenario
  // compared with a ceiling therefore alternates with it: three rounds of the ceiling
  // then the scenario, a third of the duration each, and the ratio of their totals.
  const ceilingUrl = { page: `http://127.0.0.1:${ceilingPort}/posts`, json: `http://127.0.0.1:${ceilingPort}/api` };
  const ROUNDS = 3;
  const signedIn = { unique: false, headers: { cookie: sessionCookie } };

  interface Scenario {
    /** For --only. */
    id: string;
    name: string;
    run: (seconds: number) => Promise<any>;
    ceiling?: keyof typeof ceilingUrl;
    note?: string;
    /** URLs to warm up (JIT) before any measurement; a GET each, under load. */
    warm?: string[];
    /** The process whose CPU counts (the server, or the stack floor). */
    pid?: number;
    /** Count the CPU the server spends after the run until it is idle again (a write's background work). */
    background?: boolean;
  }
  const all: Scenario[] = [
    { id: 'ceiling', name: 'ceiling: node:http page', run: (d) => autocannon(ceilingUrl.page, [], CONNECTIONS, d), pid: ceiling.pid, warm: [ceilingUrl.page] },
    { id: 'ceiling', name: 'ceiling: node:http JSON', run: (d) => autocannon(ceilingUrl.json, [], CONNECTIONS, d), pid: ceiling.pid },
    ...(floor
      ? [
          {
            id: 'floor',
            name: 'stack floor: Fastify + node:sqlite + the same views, GET /posts',
            run: (d: number) => uncachedReads(`http://127.0.0.1:${floorPort}/posts`, d),
            ceiling: 'page' as const,
            note: 'two prepared statements and the list view per request, the page around it cut from Inkwell’s answer; no hooks, no cache',
            pid: floor.pid,
            warm: [`http://127.0.0.1:${floorPort}/posts`],
          },
        ]
      : []),
    { id: 'posts', name: 'GET /posts', run: (d) => autocannon(`${base}/posts`, [], CONNECTIONS, d), ceiling: 'page', warm: [`${base}/posts`] },
    {
      id: 'uncached',
      name: 'GET /posts, uncached',
      run: (d) => uncachedReads(`${base}/posts`, d),
      ceiling: 'page',
      note: 'a new URL each request: queries and rendering every time',
    },
    {
      id: 'deep',
      name: 'GET /posts?before= (deep)',
      run: (d) => autocannon(`${base}/posts?before=${deepCursor}`, [], CONNECTIONS, d),
      ceiling: 'page',
      note: `cursor at post ${Math.floor(POSTS * 0.05)} of ${POSTS}`,
      warm: [`${base}/posts?before=${deepCursor}`],
    },
    {
      id: 'post',
      name: 'GET /posts/:slug (50 comments)',
      run: (d) => autocannon(`${base}/posts/${commentedSlug}`, [], CONNECTIONS, d),
      ceiling: 'page',
      warm: [`${base}/posts/${commentedSlug}`],
    },
    {
      id: 'post-uncached',
      name: 'GET /posts/:slug (50 comments), uncached',
      run: (d) => uncachedReads(`${base}/posts/${commentedSlug}`, d),
      ceiling: 'page',
      note: 'a new URL each request',
    },
    {
      id: 'deep-uncached',
      name: 'GET /posts?before= (deep), uncached',
      run: (d) => uncachedReads(`${base}/posts?before=${deepCursor}`, d),
      ceiling: 'page',
      note: 'a new URL each request',
    },
    {
      id: 'signed-in',
      name: 'GET /posts, signed in',
      run: (d) => uncachedReads(`${base}/posts`, d, signedIn),
      ceiling: 'page',
      note: 'a reader’s session cookie: session lookup, the header’s entries (unread badge), CSRF meta; never cached',
    },
    {
      id: 'signed-in-post',
      name: 'GET /posts/:slug (50 comments), signed in',
      run: (d) => uncachedReads(`${base}/posts/${commentedSlug}`, d, signedIn),
      ceiling: 'page',
      note: 'the same reader',
    },
    {
      id: 'tag',
      name: 'GET /tags/:slug, uncached',
      run: (d) => uncachedReads(`${base}/tags/${tagSlug}`, d),
      ceiling: 'page',
      note: `${tagSlug}, on 4 % of the posts; a new URL each request`,
      warm: [`${base}/tags/${tagSlug}`],
    },
    {
      id: 'search',
      name: 'GET /search?q=',
      run: (d) => uncachedReads(`${base}/search?q=lantern+4242`, d),
      ceiling: 'page',
      note: 'q=lantern 4242 (full-text, one match); never cached',
      warm: [`${base}/search?q=lantern+4242`],
    },
    {
      id: 'api',
      name: 'GET /api/v1/posts',
      run: (d) => autocannon(`${base}/api/v1/posts`, [], CONNECTIONS, d),
      ceiling: 'json',
      warm: [`${base}/api/v1/posts`],
    },
    {
      id: 'api-uncached',
      name: 'GET /api/v1/posts, uncached',
      run: (d) => uncachedReads(`${base}/api/v1/posts`, d),
      ceiling: 'json',
      note: 'a new URL each request',
    },
    { id: 'feed', name: 'GET /feed.xml', run: (d) => autocannon(`${base}/feed.xml`, [], CONNECTIONS, d), ceiling: 'page', warm: [`${base}/feed.xml`] },
    {
      id: 'write',
      name: 'POST /api/v1/posts',
      run: (d) => writes(`${base}/api/v1/posts`, token, 16, 'bench', d),
      note: '16 connections; each write answered only after an fdatasync of the WAL covered it (group commit); CPU per post includes its background work (event dispatch) until the server is idle',
      background: true,
    },
    {
      id: 'mixed',
      name: 'mixed 90/10 read/write',
      run: async (d) => {
        const [reads, w] = await Promise.all([autocannon(`${base}/posts`, [], 58, d), writes(`${base}/api/v1/posts`, token, 6, 'mixed', d)]);
        return {
          requests: { average: reads.requests.average + w.requests.average, total: reads.requests.total + w.requests.total },
          latency: { p50: Math.max(reads.latency.p50, w.latency.p50), p99: Math.max(reads.latency.p99, w.latency.p99) },
          errors: reads.errors + w.errors,
          timeouts: reads.timeouts + w.timeouts,
          non2xx: reads.non2xx + w.non2xx,
        };
      },
      note: '58 reading + 6 writing connections',
      background: true,
    },
  ];
  if ([...new Set(all.map((x) => x.id))].join(' ') !== IDS.filter((id) => id !== 'floor' || floor).join(' '))
    throw new Error('bench: IDS and the scenarios differ');
  const chosen = all.filter((x) => !ONLY || ONLY.has(x.id));

  // JIT warm-up, not measured: each read route once under load, so no scenario pays
  // for compiling the code paths (and the route's schemas) the others then reuse.
  for (const url of new Set(chosen.flatMap((x) => x.warm ?? []))) await autocannon(url, [], CONNECTIONS, smoke ? 1 : 2);
  if (chosen.some((x) => x.id === 'signed-in' || x.id === 'signed-in-post')) await uncachedReads(`${base}/posts`, smoke ? 1 : 2, signedIn);
  // The write path too (its CPU per post is measured, and a short run would count its compiling).
  if (chosen.some((x) => x.background)) {
    await writes(`${base}/api/v1/posts`, token, 16, 'warm', smoke ? 1 : 2);
    await untilIdle(server.pid!);
  }

  /** CPU time the process spends from now until it has been idle for a second (background work), at most 60 s. */
  async function untilIdle(pid: number): Promise<void> {
    let last = cpuMs(pid);
    for (let quiet = 0, i = 0; quiet < 5 && i < 300; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const now = cpuMs(pid);
      quiet = now - last <= 10 ? quiet + 1 : 0;
      last = now;
    }
  }

  async function scenario(x: Scenario) {
    const pid = x.pid ?? server.pid!;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(server.pid!));
    }, 200);
    let cpu = 0;
    let answered = 0;
    const measured = async (seconds: number) => {
      const before = cpuMs(pid);
      const out = await x.run(seconds);
      if (x.background) await untilIdle(pid);
      cpu += cpuMs(pid) - before;
      answered += out['2xx'] ?? out.requests.total ?? 0;
      return out;
    };
    let r: Result;
    if (!x.ceiling) {
      r = summarize(x.name, await measured(DURATION));
    } else {
      const seconds = Math.max(1, Math.round(DURATION / ROUNDS));
      const ceilings: number[] = [];
      const runs: any[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        ceilings.push((await autocannon(ceilingUrl[x.ceiling], [], CONNECTIONS, seconds)).requests.average);
        runs.push(await measured(seconds));
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      r = {
        name: x.name,
        rps: Math.round(mean(runs.map((y) => y.requests.average))),
        p50: Math.max(...runs.map((y) => y.latency.p50)),
        p99: Math.max(...runs.map((y) => y.latency.p99)),
        errors: runs.reduce((n, y) => n + y.errors + y.timeouts, 0),
        non2xx: runs.reduce((n, y) => n + y.non2xx, 0),
        ceilingRps: Math.round(mean(ceilings)),
      };
      r.ratio = Math.round((r.rps / r.ceilingRps!) * 1000) / 10;
    }
    clearInterval(sampler);
    r.peakRssMb = peak;
    r.cpuMsPerRequest = Math.round((cpu / Math.max(1, answered)) * 1000) / 1000;
    if (x.note) r.note = x.note;
    results.push(r);
    console.log(
      `${x.name.padEnd(28)} ${String(r.rps).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  cpu ${r.cpuMsPerRequest} ms/req  errors ${r.errors}  non-2xx ${r.non2xx}${r.ratio !== undefined ? `  ${r.ratio}% of ceiling (${r.ceilingRps} req/s)` : ''}`,
    );
    return r;
  }
  for (const x of chosen) await scenario(x);

  const peakRssMb = rssMb(server.pid!, 'VmHWM');
  // Wait for Inkwell to finish its shutdown: dropping the schema under its last
  // transactions can deadlock with them (seen once on PostgreSQL).
  await new Promise((r) => {
    server.once('exit', r);
    server.kill('SIGTERM');
  });
  ceiling.kill('SIGTERM');
  floor?.kill('SIGTERM');

  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}; load average before the run ${loadBefore}`;
  const report = {
    date: new Date().toISOString(),
    machine,
    database: args.pg ? 'postgres' : 'sqlite',
    posts: POSTS,
    durationSeconds: DURATION,
    connections: CONNECTIONS,
    coldStartMs,
    firstStartMs,
    idleRssMb,
    peakRssMb,
    results,
  };
  const md = [
    `Inkwell benchmark, ${report.date.slice(0, 10)}: ${report.database}, ${POSTS.toLocaleString('en')} posts, ${CONNECTIONS} connections, ${DURATION} s per scenario.`,
    `Machine: ${machine}. Cold start ${coldStartMs} ms (the first start after an install, which fills Node's compile cache: ${firstStartMs} ms); idle RSS ${idleRssMb} MB; peak RSS ${peakRssMb} MB.`,
    '',
    "Server CPU is the serving process's own user + system time (all its threads) per answered request, so the load generator sharing the cores does not count; for writes it runs until the server is idle again, so it includes each post's background work.",
    '',
    '| Scenario | req/s | ceiling req/s, alternating | % of ceiling | server CPU ms/request | p50 ms | p99 ms | errors | non-2xx | peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.name}${r.note ? ` (${r.note})` : ''} | ${r.rps} | ${r.ceilingRps ?? '—'} | ${r.ratio ?? '—'} | ${r.cpuMsPerRequest ?? '—'} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.peakRssMb} |`,
    ),
    '',
  ].join('\n');
  if (!smoke && !ONLY) {
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    const stamp = `${report.date.slice(0, 19).replace(/[:T]/g, '-')}-${report.database}-${POSTS}`;
    writeFileSync(join(root, `bench/results/${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(root, `bench/results/${stamp}.md`), md);
    writeFileSync(join(root, 'bench/results/latest.md'), md);
  }
  console.log(`\n${md}`);
  if (args.pg && schema) {
    const admin = openDb({ url: args.pg, poolSize: 1 });
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.kysely);
    await admin.close();
  }
  rmSync(tmp, { recursive: true, force: true });
  const bad = results.filter((r) => r.errors > 0 || r.non2xx > 0);
  if (bad.length) {
    console.error(`bench: errors or non-2xx answers in: ${bad.map((r) => r.name).join(', ')}`);
    process.exit(1);
  }
}

await main();
