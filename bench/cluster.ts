// `npm run bench -- --pg [URL] --instances 3`: the read and write scenarios on one
// instance, then through HAProxy in front of n instances on the same database
// (the configuration the README documents and the cluster test uses), with the
// servers' CPU time per request (user + system, from /proc, over every instance).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { haproxyConfig, HAPROXY } from '../test/support/cluster.ts';

export interface ClusterBenchOptions {
  root: string;
  tmp: string;
  dbUrl: string;
  token: string;
  slug: string;
  instances: number;
  duration: number;
  connections: number;
  freePort(): Promise<number>;
  autocannon(url: string, extra: string[], connections: number, duration: number): Promise<any>;
  writes(url: string, token: string, connections: number, prefix: string): Promise<any>;
}

interface Row {
  setup: string;
  scenario: string;
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
  cpuMsPerRequest: number;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (100/s on Linux)
  } catch {
    return 0;
  }
}

/** Runs the cluster comparison; returns its Markdown table and whether any request failed. */
export async function clusterBench(o: ClusterBenchOptions): Promise<{ md: string; failed: boolean }> {
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const ports: number[] = [];
  for (let i = 0; i < o.instances; i++) ports.push(await o.freePort());
  const procs: ChildProcess[] = [];
  const start = async (port: number) => {
    const proc = spawn(process.execPath, ['bin/inkwell.js', 'start'], {
      cwd: o.root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        DATABASE_URL: o.dbUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'error',
        SITE_URL: 'http://127.0.0.1',
        TRUST_PROXY: '1',
        SESSION_SECRET: 'the benchmark cluster shares this session secret',
      },
    });
    procs.push(proc);
    for (let i = 0; i < 2000; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('Inkwell did not start');
  };
  await Promise.all(ports.map(start));
  const listen = await o.freePort();
  const cfg = join(o.tmp, 'haproxy.cfg');
  writeFileSync(
    cfg,
    haproxyConfig(
      listen,
      ports.map((port, i) => ({ name: `inkwell${i + 1}`, port })),
    ),
  );
  const haproxy = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
  const proxy = `http://127.0.0.1:${listen}`;
  const seen = new Set<string>();
  for (let i = 0; i < 2000 && seen.size < o.instances; i++) {
    try {
      seen.add((await fetch(`${proxy}/readyz`)).headers.get('x-served-by') ?? '');
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  const rows: Row[] = [];
  async function measure(setup: string, scenario: string, pids: number[], run: () => Promise<any>) {
    const before = pids.reduce((n, p) => n + cpuMs(p), 0);
    const r = await run();
    const used = pids.reduce((n, p) => n + cpuMs(p), 0) - before;
    const total = r.requests.total ?? r.requests.average * o.duration;
    const row = {
      setup,
      scenario,
      rps: Math.round(r.requests.average),
      p99: r.latency.p99,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
      cpuMsPerRequest: Math.round((used / Math.max(1, total)) * 1000) / 1000,
    };
    rows.push(row);
    console.log(
      `${setup.padEnd(26)} ${scenario.padEnd(22)} ${String(row.rps).padStart(6)} req/s  p99 ${row.p99} ms  cpu ${row.cpuMsPerRequest} ms/req  errors ${row.errors} non-2xx ${row.non2xx}`,
    );
  }
  const scenarios = (base: string, prefix: string): [string, () => Promise<any>][] => [
    ['GET /posts', () => o.autocannon(`${base}/posts`, [], o.connections, o.duration)],
    [`GET /posts/:slug`, () => o.autocannon(`${base}/posts/${o.slug}`, [], o.connections, o.duration)],
    ['GET /api/v1/posts', () => o.autocannon(`${base}/api/v1/posts`, [], o.connections, o.duration)],
    ['POST /api/v1/posts', () => o.writes(`${base}/api/v1/posts`, o.token, 16, prefix)],
  ];
  const inkwellPids = procs.map((p) => p.pid!);
  // Warm-up (JIT), not measured: every route on every instance.
  for (const [, run] of scenarios(proxy, 'warm')) await run();
  // One instance and the cluster alternate scenario by scenario, so the machine's
  // drifting speed (other work on it) weighs on both alike.
  const one = scenarios(`http://127.0.0.1:${ports[0]}`, 'one');
  const many = scenarios(proxy, 'many');
  for (let i = 0; i < one.length; i++) {
    await measure('1 instance, direct', one[i][0], [inkwellPids[0]], one[i][1]);
    await measure(`${o.instances} instances, HAProxy`, many[i][0], inkwellPids, many[i][1]);
  }

  haproxy.kill('SIGTERM');
  await Promise.all(
    procs.map(async (p) => {
      const exited = once(p, 'exit');
      p.kill('SIGTERM');
      await exited;
    }),
  );

  const md = [
    `Several instances, ${new Date().toISOString().slice(0, 10)}: PostgreSQL, ${o.connections} connections (writes: 16), ${o.duration} s per scenario, on ${os.cpus().length} cores shared by the load generator, HAProxy and every instance.`,
    "CPU per request is the Inkwell processes' user + system time over the requests answered (HAProxy not included).",
    '',
    `Load average before: ${loadBefore}.`,
    '',
    '| Setup | Scenario | req/s | p99 ms | server CPU ms/request | errors | non-2xx |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.setup} | ${r.scenario} | ${r.rps} | ${r.p99} | ${r.cpuMsPerRequest} | ${r.errors} | ${r.non2xx} |`),
    '',
  ].join('\n');
  return { md, failed: rows.some((r) => r.errors > 0 || r.non2xx > 0) };
}
