#!/usr/bin/env node
// npm runs this after install (postinstall). It starts Inkwell once, on a throwaway
// SQLite file, exactly as `npm start` does, and stops it: every module a start loads
// is then in Node's compile cache (see bin/inkwell.js). Without it, the first start
// after an install strips the TypeScript itself, and the stripper (a WebAssembly
// module) stays in that server's memory for as long as it runs: measured +0.4-0.9 s
// to the first answer and ~+19 MB of idle RSS.
//
// It never fails the install: any problem is one line on stderr, and the first
// start fills the cache instead.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
const tmp = mkdtempSync(join(os.tmpdir(), 'inkwell-compile-'));

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
  });

try {
  const port = await freePort();
  // The same Node flags as npm start: V8 keys its cache by some of them.
  const args = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    .scripts.start.split(/\s+/)
    .slice(1);
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: `sqlite:${join(tmp, 'warm.db')}`,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      SITE_URL: `http://127.0.0.1:${port}`,
    },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let up = false;
  for (let i = 0; i < 600 && child.exitCode === null && !up; i++) {
    up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!up) await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  await exited;
  if (!up) throw new Error(stderr.trim().split('\n').pop() || 'Inkwell did not start');
} catch (e) {
  process.stderr.write(`inkwell: could not fill the compile cache (${e.message}); the first start will.\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
