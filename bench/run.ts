// npm run bench [-- --posts 100000] [--pg postgres://…] [--duration 10] [--connections 64] [--smoke]
//                [--instances 3]   (with --pg: one instance beside several behind HAProxy, bench/cluster.ts)
//                [--only write]    (only these scenarios: read, write, mixed; comma-separated)
// A bare --pg uses INKWELL_TEST_DATABASE_URL.
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
import { clusterBench } from './cluster.ts';

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
  },
});
// Which groups of scenarios run: `--only write` measures the writes alone (minutes instead of a full run).
const GROUPS = ['read', 'write', 'mixed'];
const only = new Set(args.only ? args.only.split(',').map((g) => g.trim()) : GROUPS);
for (const g of only) {
  if (!GROUPS.includes(g)) {
    console.error(`bench: --only takes ${GROUPS.join(', ')} (comma-separated); got "${g}"`);
    process.exit(2);
  }
}
const INSTANCES = Number(args.instances ?? 1);
if (INSTANCES > 1 && !args.pg) {
  console.error('bench: --instances needs --pg (several instances share one PostgreSQL database)');
  process.exit(2);
}
const smoke = !!args.smoke;
const POSTS = Number(args.posts ?? (smoke ? 1000 : 10_000));
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

/** The process's CPU time so far (user + system), in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
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
function uncachedReads(url: string, duration = DURATION): Promise<any> {
  return new Promise((resolve, reject) => {
    const p = spawn(node, [join(root, 'bench/read-load.ts'), url, String(CONNECTIONS), String(duration)], { stdio: ['ignore', 'pipe', 'inherit'] });
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
function writes(url: string, token: string, connections: number, prefix: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const p = spawn(node, [join(root, 'bench/write-load.ts'), url, token, String(connections), String(DURATION), prefix], {
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
  const { token, commentedSlug } = await seed(db.kysely, POSTS);
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

  // JIT warm-up, not measured: each read route once under load, so no scenario pays
  // for compiling the code paths (and the route's schemas) the others then reuse.
  for (const url of [
    ...(only.has('read') || only.has('mixed') ? [] : ['skip']),
    `${base}/posts`,
    `${base}/posts?before=${deepCursor}`,
    `${base}/posts/${commentedSlug}`,
    `${base}/api/v1/posts`,
    `${base}/feed.xml`,
    `http://127.0.0.1:${ceilingPort}/posts`,
  ]) {
    if (url === 'skip') break;
    await autocannon(url, [], CONNECTIONS, smoke ? 1 : 2);
  }

  const results: Result[] = [];
  // This machine's speed drifts by tens of percent within seconds, so a ratio to a
  // ceiling measured minutes earlier mixes that drift into the result. A scenario
  // compared with a ceiling therefore alternates with it: three rounds of the ceiling
  // then the scenario, a third of the duration each, and the ratio of their totals.
  const ceilingUrl = { page: `http://127.0.0.1:${ceilingPort}/posts`, json: `http://127.0.0.1:${ceilingPort}/api` };
  const ROUNDS = 3;
  async function scenario(name: string, run: (seconds: number) => Promise<any>, ceilingKind?: keyof typeof ceilingUrl, note?: string) {
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(server.pid!));
    }, 200);
    let r: Result;
    if (!ceilingKind) {
      r = summarize(name, await run(DURATION));
    } else {
      const seconds = Math.max(1, Math.round(DURATION / ROUNDS));
      const ceilings: number[] = [];
      const runs: any[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        ceilings.push((await autocannon(ceilingUrl[ceilingKind], [], CONNECTIONS, seconds)).requests.average);
        runs.push(await run(seconds));
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      r = {
        name,
        rps: Math.round(mean(runs.map((x) => x.requests.average))),
        p50: Math.max(...runs.map((x) => x.latency.p50)),
        p99: Math.max(...runs.map((x) => x.latency.p99)),
        errors: runs.reduce((n, x) => n + x.errors + x.timeouts, 0),
        non2xx: runs.reduce((n, x) => n + x.non2xx, 0),
        ceilingRps: Math.round(mean(ceilings)),
      };
      r.ratio = Math.round((r.rps / r.ceilingRps!) * 1000) / 10;
    }
    clearInterval(sampler);
    r.peakRssMb = peak;
    if (note) r.note = note;
    results.push(r);
    console.log(
      `${name.padEnd(28)} ${String(r.rps).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}  non-2xx ${r.non2xx}${r.ratio !== undefined ? `  ${r.ratio}% of ceiling (${r.ceilingRps} req/s)` : ''}`,
    );
    return r;
  }

  if (only.has('read')) await readScenarios();
  async function readScenarios() {
    await scenario('ceiling: node:http page', (d) => autocannon(ceilingUrl.page, [], CONNECTIONS, d));
    await scenario('ceiling: node:http JSON', (d) => autocannon(ceilingUrl.json, [], CONNECTIONS, d));
    await scenario('GET /posts', (d) => autocannon(`${base}/posts`, [], CONNECTIONS, d), 'page');
    await scenario('GET /posts, uncached', (d) => uncachedReads(`${base}/posts`, d), 'page', 'a new URL each request: queries and rendering every time');
    await scenario(
      'GET /posts?before= (deep)',
      (d) => autocannon(`${base}/posts?before=${deepCursor}`, [], CONNECTIONS, d),
      'page',
      `cursor at post ${Math.floor(POSTS * 0.05)} of ${POSTS}`,
    );
    await scenario('GET /posts/:slug (50 comments)', (d) => autocannon(`${base}/posts/${commentedSlug}`, [], CONNECTIONS, d), 'page');
    await scenario('GET /posts?before= (deep), uncached', (d) => uncachedReads(`${base}/posts?before=${deepCursor}`, d), 'page', 'a new URL each request');
    await scenario('GET /api/v1/posts', (d) => autocannon(`${base}/api/v1/posts`, [], CONNECTIONS, d), 'json');
    await scenario('GET /api/v1/posts, uncached', (d) => uncachedReads(`${base}/api/v1/posts`, d), 'json', 'a new URL each request');
    await scenario('GET /feed.xml', (d) => autocannon(`${base}/feed.xml`, [], CONNECTIONS, d), 'page');
  }
  if (only.has('write')) {
    // A published post leaves background work (its event's dispatch): the server's CPU
    // per post counts it too, until the process is idle again.
    const cpuBefore = cpuMs(server.pid!);
    const r = await scenario(
      'POST /api/v1/posts',
      () => writes(`${base}/api/v1/posts`, token, 16, 'bench'),
      undefined,
      '16 connections; each write answered only after an fdatasync of the WAL covered it (group commit)',
    );
    const cpuAnswering = cpuMs(server.pid!) - cpuBefore;
    let last = cpuMs(server.pid!);
    for (;;) {
      await new Promise((res) => setTimeout(res, 1000));
      const now = cpuMs(server.pid!);
      if (now - last < 30) break;
      last = now;
    }
    const posts = r.rps * DURATION;
    const perPost = (ms: number) => (posts ? (ms / posts).toFixed(2) : '—');
    r.note += `; server CPU per post ${perPost(cpuAnswering)} ms while answering, ${perPost(last - cpuBefore)} ms with the background work that followed`;
    console.log(`  ${r.note}`);
  }
  if (only.has('mixed'))
    await scenario(
      'mixed 90/10 read/write',
      async () => {
        const [reads, w] = await Promise.all([autocannon(`${base}/posts`, [], 58), writes(`${base}/api/v1/posts`, token, 6, 'mixed')]);
        return {
          requests: { average: reads.requests.average + w.requests.average },
          latency: { p50: Math.max(reads.latency.p50, w.latency.p50), p99: Math.max(reads.latency.p99, w.latency.p99) },
          errors: reads.errors + w.errors,
          timeouts: reads.timeouts + w.timeouts,
          non2xx: reads.non2xx + w.non2xx,
        };
      },
      undefined,
      '58 reading + 6 writing connections',
    );

  const peakRssMb = rssMb(server.pid!, 'VmHWM');
  // Wait for Inkwell to finish its shutdown: dropping the schema under its last
  // transactions can deadlock with them (seen once on PostgreSQL).
  await new Promise((r) => {
    server.once('exit', r);
    server.kill('SIGTERM');
  });
  ceiling.kill('SIGTERM');

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
    '| Scenario | req/s | ceiling req/s, alternating | % of ceiling | p50 ms | p99 ms | errors | non-2xx | peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.name}${r.note ? ` (${r.note})` : ''} | ${r.rps} | ${r.ceilingRps ?? '—'} | ${r.ratio ?? '—'} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.peakRssMb} |`,
    ),
    '',
  ].join('\n');
  if (!smoke) {
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
