import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInkwell, waitFor, type InkwellProcess } from './inkwell-process.ts';

export const HAPROXY = '/usr/sbin/haproxy';

/** A free loopback port (asked of the kernel, then released for the caller to bind). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * The HAProxy configuration the README documents for several instances:
 * round-robin without sticky sessions, each instance checked on /readyz every
 * second (out after one failed check, back after two good ones), a failed
 * connection retried on another instance, and the answering instance named in
 * X-Served-By (the tests use it to see where a request went).
 */
export function haproxyConfig(listen: number, servers: { name: string; port: number }[]): string {
  return `global
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  # Live streams (server-sent events) stay open for as long as a page does.
  timeout tunnel 1h
  # A connection refused (an instance that just stopped) is tried again on another.
  retries 3
  option redispatch
  # A new connection to the instance per request: one stopping never gets a
  # request on a connection it is closing.
  option http-server-close
  option forwardfor

frontend inkwell
  bind 127.0.0.1:${listen}
  default_backend inkwell

backend inkwell
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 1s fall 1 rise 2
  http-response set-header X-Served-By %[srv_name]
${servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`).join('\n')}
`;
}

export interface Instance {
  name: string;
  port: number;
  url: string;
  /** The running process (undefined while stopped). */
  process?: InkwellProcess;
}

/** Three (or n) Inkwell processes on fixed ports behind HAProxy. */
export interface Cluster {
  proxy: string;
  instances: Instance[];
  /** Every process started, for their logs. */
  all: InkwellProcess[];
  start(i: Instance): Promise<void>;
  /** SIGTERM, and wait for a clean exit (code 0). */
  stop(i: Instance): Promise<number | null>;
  kill(i: Instance): Promise<void>;
  close(): Promise<void>;
}

/** Starts n instances at once on one database (with env) and HAProxy in front of them. */
export async function startCluster(n: number, env: Record<string, string>): Promise<Cluster> {
  const instances: Instance[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    instances.push({ name: `inkwell${i + 1}`, port, url: `http://127.0.0.1:${port}` });
  }
  const all: InkwellProcess[] = [];
  const start = async (i: Instance) => {
    i.process = await startInkwell({ ...env, PORT: String(i.port) }, { timeoutMs: 120_000 });
    all.push(i.process);
  };
  // Started together, as after a deploy: migrations must run once, not collide.
  await Promise.all(instances.map(start));

  const listen = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(listen, instances));
  const haproxy: ChildProcess = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let haproxyErr = '';
  haproxy.stderr!.on('data', (d) => {
    haproxyErr += d;
  });
  const proxy = `http://127.0.0.1:${listen}`;
  // Up when round-robin has reached every instance.
  const seen = new Set<string>();
  await waitFor(
    `HAProxy sending to all ${n} instances (${haproxyErr})`,
    async () => {
      try {
        const res = await fetch(`${proxy}/healthz`);
        const by = res.headers.get('x-served-by');
        if (res.ok && by) seen.add(by);
      } catch {
        /* not listening yet */
      }
      return seen.size === n;
    },
    30_000,
    50,
  );

  return {
    proxy,
    instances,
    all,
    start,
    async stop(i) {
      const p = i.process!;
      p.proc.kill('SIGTERM');
      const code = await p.exited;
      i.process = undefined;
      return code;
    },
    async kill(i) {
      const p = i.process!;
      p.proc.kill('SIGKILL');
      await p.exited;
      i.process = undefined;
    },
    async close() {
      for (const p of all) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
      if (haproxy.exitCode === null) {
        haproxy.kill('SIGTERM');
        await once(haproxy, 'exit');
      }
    },
  };
}
