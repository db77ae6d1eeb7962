import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eachDatabase, freshDb } from '../support/app.ts';
import type { Db } from '../../src/platform/db/index.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { createQueue } from '../../src/platform/jobs/queue.ts';

const root = new URL('../../', import.meta.url).pathname;

/** Resolves when check() is true; rejects at once when the process exits first. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, exited: Promise<number | null>, output: () => string): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => {
    gone = code;
  });
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    if (gone !== undefined) throw new Error(`the worker exited with code ${gone} before ${what}:\n${output()}`);
    await sleep(100);
  }
  throw new Error(`gave up waiting for ${what}:\n${output()}`);
}

eachDatabase('the standalone worker process (inkwell worker)', (dialect) => {
  let env: Record<string, string>;
  let db: Db;
  let drop: () => Promise<void>;
  let kill: (() => void) | undefined;

  before(async () => {
    const fresh = await freshDb(dialect);
    drop = fresh.drop;
    db = fresh.db;
    const url = fresh.schema ? `${fresh.url}${fresh.url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${fresh.schema}`)}` : fresh.url;
    env = { DATABASE_URL: url, LOG_LEVEL: 'info' };
  });
  after(async () => {
    kill?.();
    await db.close().catch(() => {});
    await drop();
  });

  test('keeps running, claims a job enqueued long after it started, and exits 0 on SIGTERM', async () => {
    // The real CLI, the way the README's split set-up runs it.
    const proc = spawn(process.execPath, ['bin/inkwell.js', 'worker'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    kill = () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    };
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
    });
    proc.stderr!.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const output = () => out;

    await waitFor('it logged "worker started"', () => /worker started/.test(out), exited, output);
    // Let it run a while with nothing to do: everything it has is idle timers.
    for (let i = 0; i < 5; i++) {
      await sleep(1000);
      assert.equal(proc.exitCode, null, `the worker exited while idle:\n${out}`);
    }

    // Enqueue from another process (this test), as the web server would with WORKERS=0.
    const producer = createQueue({ db: db.kysely, clock: systemClock, dialect });
    // A kind every process defines (a worker claims only kinds it handles): the dispatch of
    // an event that does not exist, which the worker claims and finds nothing to do for.
    const id = await producer.enqueue(db.kysely, 'event.dispatch', { eventId: 0 });
    assert.ok(id);
    const claimedBy = `${hostname()}:${proc.pid}:`;
    await waitFor(
      'it claimed the job',
      async () => {
        const row = await db.kysely.selectFrom('jobs').select(['attempts', 'locked_by']).where('id', '=', id).executeTakeFirstOrThrow();
        return row.attempts >= 1 && (row.locked_by ?? '').startsWith(claimedBy);
      },
      exited,
      output,
    );

    proc.kill('SIGTERM');
    assert.equal(await exited, 0, out);
  });
});
