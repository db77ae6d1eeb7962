import { spawn, type ChildProcess } from 'node:child_process';
import { freshDb } from './app.ts';
import type { Dialect } from '../../src/platform/db/index.ts';

const root = new URL('../../', import.meta.url).pathname;

export interface InkwellProcess {
  proc: ChildProcess;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
}

/**
 * Starts `inkwell start` (bin/inkwell.js, as an operator would) as a real
 * process with this environment, and waits until it listens (bounded).
 */
export async function startInkwell(env: Record<string, string>, opts: { timeoutMs?: number } = {}): Promise<InkwellProcess> {
  const proc: ChildProcess = spawn(process.execPath, ['bin/inkwell.js', 'start'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`inkwell did not start:\n${out}`)), opts.timeoutMs ?? 60_000);
    const check = () => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    proc.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`inkwell exited:\n${out}`));
    });
  });
  return { proc, url, output: () => out, exited };
}

/** DATABASE_URL for a fresh database: a SQLite file, or a new PostgreSQL schema named in the URL. */
export async function freshDatabaseUrl(dialect: Dialect): Promise<{ url: string; schema?: string }> {
  const fresh = await freshDb(dialect);
  await fresh.db.close();
  return { url: withSchema(fresh.url, fresh.schema), schema: fresh.schema };
}

/** A PostgreSQL URL whose sessions use this schema (the server's options parameter). */
export function withSchema(url: string, schema: string | undefined): string {
  if (!schema) return url;
  return `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/** Resolves once check() is true, polling; rejects after timeoutMs with what. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
