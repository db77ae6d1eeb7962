// SIGTERM with live streams open: every open post page holds a server-sent
// events stream, and those must not hold the process up. The streams end at
// once (clients reconnect elsewhere with Last-Event-ID) and the process exits 0.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { eachDatabase, freshDb } from '../support/app.ts';

const root = new URL('../../', import.meta.url).pathname;

/** Starts `node src/main.ts` as a real process and waits until it listens. */
async function startServer(env: Record<string, string>) {
  const proc: ChildProcess = spawn(process.execPath, ['src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
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
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20_000);
    const check = () => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`server exited:\n${out}`));
    });
  });
  return { proc, url, output: () => out, exited };
}

/** What became of an SSE stream: it ended cleanly (the server finished it) or broke off. */
function openStream(url: string): Promise<{ status: number; first: string; ended: Promise<'end' | 'aborted'> }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      const ended = new Promise<'end' | 'aborted'>((done) => {
        res.on('end', () => done('end'));
        res.on('aborted', () => done('aborted'));
        res.on('error', () => done('aborted'));
      });
      res.once('data', (chunk: string) => resolve({ status: res.statusCode!, first: chunk, ended }));
    });
    req.on('error', reject);
  });
}

eachDatabase('SIGTERM with live streams open', (dialect) => {
  let env: Record<string, string>;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;

  before(async () => {
    const fresh = await freshDb(dialect);
    await fresh.db.close();
    const url = fresh.schema ? `${fresh.url}${fresh.url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${fresh.schema}`)}` : fresh.url;
    env = { DATABASE_URL: url };
  });
  after(() => {
    if (server && server.proc.exitCode === null) server.proc.kill('SIGKILL');
  });

  test('open streams end at once and the process exits 0, not by the forced exit', async () => {
    server = await startServer(env);
    const post = (await (await fetch(`${server.url}/api/v1/posts/welcome-to-inkwell`)).json()) as { id: number };
    const streams = await Promise.all([1, 2].map(() => openStream(`${server!.url}/api/v1/events?post=${post.id}`)));
    for (const s of streams) {
      assert.equal(s.status, 200);
      assert.match(s.first, /retry: \d+/);
    }

    server.proc.kill('SIGTERM');
    // Generous bounds against a loaded machine; the old code ended the streams
    // only when the forced exit (status 1) killed the process after 10 s.
    const bound = <T>(p: Promise<T>, what: string) =>
      Promise.race([
        p,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen in 60 s:\n${server!.output()}`)), 60_000).unref()),
      ]);
    for (const s of streams) assert.equal(await bound(s.ended, 'the stream ending'), 'end', 'the server ended the stream cleanly');
    assert.equal(await bound(server.exited, 'the exit'), 0, server.output());
    assert.doesNotMatch(server.output(), /did not finish within/);
  });
});
