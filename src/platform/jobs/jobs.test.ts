import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { eachDatabase, freshDb } from '../../../test/support/app.ts';
import type { Db } from '../db/index.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createQueue } from './queue.ts';
import { createScheduler } from './scheduler.ts';

const root = new URL('../../../', import.meta.url).pathname;

eachDatabase('the job queue and the scheduler', (dialect) => {
  let db: Db;
  let fresh: Awaited<ReturnType<typeof freshDb>>;
  let now = new Date('2026-11-23T10:00:00Z');
  const clock = { now: () => now };
  const status = async (id: number) => db.kysely.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  before(async () => {
    fresh = await freshDb(dialect);
    db = fresh.db;
    await migrateToLatest(db.kysely);
  });
  after(() => fresh.drop());

  test('a job enqueued in a rolled-back transaction does not exist; a committed one runs', async () => {
    const q = createQueue({ db: db.kysely, clock, dialect });
    const ran: string[] = [];
    q.define<{ n: string }>('t1', {
      handler: async (p) => {
        ran.push(p.n);
      },
    });
    await assert.rejects(
      db.kysely.transaction().execute(async (trx) => {
        await q.enqueue(trx, 't1', { n: 'rolled back' });
        throw new Error('change failed');
      }),
    );
    const id = await db.kysely.transaction().execute((trx) => q.enqueue(trx, 't1', { n: 'committed' }));
    assert.equal(await q.drain(), 1);
    assert.deepEqual(ran, ['committed']);
    assert.equal((await status(id!)).status, 'succeeded');
    assert.equal((await q.enqueue(db.kysely, 't1', { n: 'x' }, { idempotencyKey: 'once' })) !== null, true);
    assert.equal(await q.enqueue(db.kysely, 't1', { n: 'x' }, { idempotencyKey: 'once' }), null, 'the same key enqueues once');
    await q.drain();
  });

  test('retries with backoff, then kept as failed with its error; admins retry or discard', async () => {
    const q = createQueue({ db: db.kysely, clock, dialect });
    let calls = 0;
    q.define('flaky', {
      retryDelaysMs: [1000, 5000],
      handler: async () => {
        calls += 1;
        throw new Error(`boom ${calls}`);
      },
    });
    const id = (await q.enqueue(db.kysely, 'flaky', {}))!;
    await q.drain();
    let row = await status(id);
    assert.equal(row.status, 'queued');
    assert.equal(row.attempts, 1);
    assert.match(row.last_error ?? '', /boom 1/);
    const wait = Date.parse(row.run_at) - now.getTime();
    assert.ok(wait >= 800 && wait <= 1200, `about 1 s with jitter, got ${wait}`);
    assert.equal(await q.drain(), 0, 'not due yet');
    now = new Date(now.getTime() + 1500);
    await q.drain();
    now = new Date(now.getTime() + 6500);
    await q.drain();
    row = await status(id);
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 3);
    assert.match(row.last_error ?? '', /boom 3/);
    assert.equal((await q.counts()).failed, 1);
    assert.equal(await q.retry(id), true);
    assert.equal((await status(id)).status, 'queued');
    assert.equal(await q.discard(id), true);
    assert.equal((await status(id)).status, 'discarded');
  });

  test('a job whose worker was killed (SIGKILL) runs again after its lease expires', async () => {
    const id = (await createQueue({ db: db.kysely, clock: { now: () => new Date() }, dialect }).enqueue(db.kysely, 'slow', {}))!;
    const child = spawn(process.execPath, ['test/support/job-child.ts', fresh.url, fresh.schema ?? ''], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('child never claimed the job')), 90_000);
      child.stdout!.on('data', (d) => {
        if (String(d).includes('claimed')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const claimed = await status(id);
    assert.equal(claimed.status, 'running');
    // The kind's own lease (20 s in the child), not the default minute.
    const leaseMs = Date.parse(claimed.lease_until!) - Date.parse(claimed.updated_at);
    assert.ok(leaseMs > 19_000 && leaseMs <= 20_000, `a 20 s lease, got ${leaseMs} ms`);
    const worker = (clock: { now: () => Date }) => {
      const q = createQueue({ db: db.kysely, clock, dialect });
      let ran = 0;
      q.define('slow', {
        leaseMs: 20_000,
        handler: async () => {
          ran += 1;
        },
      });
      return { q, ran: () => ran };
    };
    assert.equal(await worker({ now: () => new Date() }).q.drain(), 0, 'not before the lease runs out');
    const later = worker({ now: () => new Date(Date.now() + 21_000) });
    assert.equal(await later.q.drain(), 1);
    assert.equal(later.ran(), 1);
    const row = await status(id);
    assert.equal(row.status, 'succeeded');
    assert.equal(row.attempts, 2);
  });

  test('one claim takes several due jobs; a transactional job commits its writes with its end, or neither', async () => {
    const q = createQueue({ db: db.kysely, clock, dialect });
    let fail = true;
    let claimedTogether = 0;
    q.define<{ key: string }>('tx', {
      retryDelaysMs: [1000],
      transactional: async (p, trx) => {
        const held = await trx
          .selectFrom('jobs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('type', '=', 'tx')
          .where('status', '=', 'running')
          .where('locked_by', '=', q.workerId)
          .executeTakeFirstOrThrow();
        claimedTogether = Math.max(claimedTogether, Number(held.n));
        await trx.insertInto('settings').values({ key: p.key, value: 'written' }).execute();
        if (fail && p.key === 'tx-bad') throw new Error('rolled back');
      },
    });
    const ids = [];
    for (const key of ['tx-1', 'tx-2', 'tx-3', 'tx-bad']) ids.push((await q.enqueue(db.kysely, 'tx', { key }))!);
    assert.equal(await q.drain(), 4);
    assert.equal(claimedTogether, 4, 'one claim took all four');
    const written = async () => (await db.kysely.selectFrom('settings').select('key').where('key', 'like', 'tx-%').orderBy('key').execute()).map((r) => r.key);
    assert.deepEqual(await written(), ['tx-1', 'tx-2', 'tx-3']);
    assert.equal((await status(ids[3])).status, 'queued');
    fail = false;
    now = new Date(now.getTime() + 2000);
    await q.drain();
    assert.equal((await status(ids[3])).status, 'succeeded');
    assert.deepEqual(await written(), ['tx-1', 'tx-2', 'tx-3', 'tx-bad']);
  });

  test('a job of a kind this process does not handle is left for one that does', async () => {
    const q = createQueue({ db: db.kysely, clock, dialect });
    const id = (await q.enqueue(db.kysely, 'elsewhere', {}))!;
    assert.equal(await q.drain(), 0);
    assert.equal((await status(id)).status, 'queued');
    await db.kysely.deleteFrom('jobs').where('id', '=', id).execute();
  });

  test('several workers never run the same job twice', async () => {
    const seen = new Map<number, number>();
    let active = 0;
    let maxActive = 0;
    const workers = [0, 1, 2].map(() => {
      const q = createQueue({ db: db.kysely, clock: { now: () => new Date() }, dialect });
      q.define<{ i: number }>('work', {
        handler: async (p) => {
          active += 1;
          maxActive = Math.max(maxActive, active);
          seen.set(p.i, (seen.get(p.i) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 5));
          active -= 1;
        },
      });
      return q;
    });
    for (let i = 0; i < 30; i++) await workers[0].enqueue(db.kysely, 'work', { i });
    for (const w of workers) w.start({ concurrency: 2, pollMs: 20 });
    for (let i = 0; i < 2400 && seen.size < 30; i++) await new Promise((r) => setTimeout(r, 25));
    await Promise.all(workers.map((w) => w.stop()));
    assert.equal(seen.size, 30);
    assert.ok(
      [...seen.values()].every((n) => n === 1),
      'each job ran exactly once',
    );
    if (dialect === 'postgres') assert.ok(maxActive > 1, 'PostgreSQL workers share the queue concurrently');
  });

  test('graceful stop releases a running job for another worker', async () => {
    const q = createQueue({ db: db.kysely, clock: { now: () => new Date() }, dialect });
    // Runs until the test lets it finish, so stop() surely finds it still running.
    let finish = () => {};
    q.define('long', {
      handler: () =>
        new Promise<void>((r) => {
          finish = r;
        }),
    });
    const id = (await q.enqueue(db.kysely, 'long', {}))!;
    q.start({ concurrency: 1, pollMs: 20 });
    for (let i = 0; i < 1500 && (await status(id)).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
    await q.stop(100);
    const row = await status(id);
    assert.equal(row.status, 'queued');
    assert.equal(row.attempts, 0, 'the interrupted attempt is not counted');
    await db.kysely.deleteFrom('jobs').where('id', '=', id).execute();
    finish();
  });

  test('a cron tick runs exactly once across instances; a missed tick runs once at start-up', async () => {
    let at = new Date('2026-11-23T10:00:30Z');
    const c = { now: () => at };
    const runs: string[] = [];
    const make = () => {
      const s = createScheduler({ db: db.kysely, clock: c, timezone: 'UTC' });
      s.register('hourly-report', '0 * * * *', async (tick) => {
        runs.push(tick.toISOString());
      });
      return s;
    };
    const [a, b] = [make(), make()];
    await Promise.all([a.tick(), b.tick()]);
    assert.deepEqual(runs, [], 'the first sight of a schedule runs nothing retroactively');
    at = new Date('2026-11-23T11:00:05Z');
    await Promise.all([a.tick(), b.tick(), a.tick()]);
    assert.deepEqual(runs, ['2026-11-23T11:00:00.000Z']);
    at = new Date('2026-11-23T14:30:00Z'); // everything was down for 12:00, 13:00 and 14:00
    await Promise.all([make().tick(), make().tick()]);
    assert.deepEqual(runs, ['2026-11-23T11:00:00.000Z', '2026-11-23T14:00:00.000Z']);
  });

  test('schedules follow the site time zone', async () => {
    let at = new Date('2026-11-23T00:30:00Z');
    const runs: string[] = [];
    const s = createScheduler({ db: db.kysely, clock: { now: () => at }, timezone: 'Europe/Berlin' });
    s.register('one-am-berlin', '0 1 * * *', async (tick) => {
      runs.push(tick.toISOString());
    });
    await s.tick();
    at = new Date('2026-11-24T00:05:00Z'); // 01:05 in Berlin (UTC+1 in November)
    await s.tick();
    assert.deepEqual(runs, ['2026-11-24T00:00:00.000Z']);
  });
});
