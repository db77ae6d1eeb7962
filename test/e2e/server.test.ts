import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eachDatabase, freshDb } from '../support/app.ts';

const root = new URL('../../', import.meta.url).pathname;

interface Server {
  proc: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node src/main.ts` as a real process and waits until it listens. */
async function startServer(env: Record<string, string>): Promise<Server> {
  const proc = spawn(process.execPath, ['src/main.ts'], {
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
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 90_000);
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

function cli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['src/cli.ts', ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
}

eachDatabase('the real server process', (dialect) => {
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  let server: Server | undefined;

  before(async () => {
    const fresh = await freshDb(dialect);
    await fresh.db.close();
    drop = fresh.drop;
    // PostgreSQL: point the process at this run's own schema through the URL.
    const url = fresh.schema ? `${fresh.url}${fresh.url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${fresh.schema}`)}` : fresh.url;
    env = { DATABASE_URL: url };
  });
  after(async () => {
    if (server && server.proc.exitCode === null) server.proc.kill('SIGKILL');
    await drop();
  });

  test('first start: migrations, welcome post, setup link; then CLI, writes that survive kill -9, and a clean SIGTERM', async () => {
    server = await startServer(env);
    for (let i = 0; i < 600 && !/setup\?token=/.test(server.output()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(server.output(), /\/setup\?token=[\w-]{20,}/);
    const home = await fetch(`${server.url}/posts`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /Welcome to Inkwell/);

    // The CLI works against the same database while the server runs.
    const admin = cli(['create-admin', '--email', 'root@example.test', '--password', 'long enough pw', '--username', 'root'], env);
    assert.equal(admin.status, 0, admin.stderr);
    const minted = cli(['create-token', '--user', 'root', '--name', 'e2e'], env);
    assert.equal(minted.status, 0, minted.stderr);
    const token = minted.stdout.trim();
    assert.match(token, /^iwk_[\w-]{40,}$/);

    const created = await fetch(`${server.url}/api/v1/posts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Durable post', body: 'Still here after a crash.', status: 'published' }),
    });
    assert.equal(created.status, 201);

    server.proc.kill('SIGKILL');
    await server.exited;
    server = await startServer(env);
    assert.doesNotMatch(server.output(), /setup\?token/, 'no setup link once an admin exists');
    const again = await fetch(`${server.url}/api/v1/posts/durable-post`);
    assert.equal(again.status, 200, 'an answered write survives kill -9');
    assert.equal((await again.json()).title, 'Durable post');

    // SIGTERM while a request is half-sent: it still completes, then the process exits 0.
    const body = JSON.stringify({ title: 'In flight', body: 'sent in two halves', status: 'published' });
    const reply = new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${server!.url}/api/v1/posts`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        server!.proc.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });
    assert.equal(await reply, 201);
    assert.equal(await server.exited, 0);
  });
});

test('a bad setting stops start-up with one line naming it, exit code 1', () => {
  const res = spawnSync(process.execPath, ['src/main.ts'], { cwd: root, env: { ...process.env, PORT: 'eighty' }, encoding: 'utf8' });
  assert.equal(res.status, 1);
  assert.equal(res.stderr.trim().split('\n').length, 1);
  assert.match(res.stderr, /^inkwell: PORT must be an integer/);
  assert.doesNotMatch(res.stderr, /\n\s+at /);
});

test('an unreachable database stops start-up with a clear line', () => {
  const res = spawnSync(process.execPath, ['src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(res.status, 1);
  assert.match(res.stderr, /^inkwell: cannot prepare the database at DATABASE_URL/);
});

test('the CLI explains itself and creates the SQLite file where told', () => {
  const help = cli(['--help'], {});
  assert.equal(help.status, 0);
  for (const cmd of ['start', 'worker', 'migrate', 'crawl', 'create-admin', 'create-token']) assert.match(help.stdout, new RegExp(cmd));
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-cli-'));
  const file = join(dir, 'nested', 'blog.db');
  const migrate = cli(['migrate'], { DATABASE_URL: `sqlite:${file}` });
  assert.equal(migrate.status, 0, migrate.stderr);
  assert.match(migrate.stdout, /Applied: /);
  assert.ok(existsSync(file));
  assert.match(cli(['migrate'], { DATABASE_URL: `sqlite:${file}` }).stdout, /up to date/);
  const crawl = cli(['crawl'], { DATABASE_URL: `sqlite:${file}` });
  assert.equal(crawl.status, 0, crawl.stderr);
  assert.equal(JSON.parse(crawl.stdout).trigger, 'manual');
  const bad = cli(['create-admin', '--email', 'x', '--password', 'y'], { DATABASE_URL: `sqlite:${file}` });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /email must be an email address/);
  assert.equal(cli(['frobnicate'], {}).status, 1);
});
