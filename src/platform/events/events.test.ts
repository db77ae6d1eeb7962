import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eachDatabase, freshDb } from '../../../test/support/app.ts';
import type { Db } from '../db/index.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createQueue } from '../jobs/queue.ts';
import { createEvents } from './index.ts';

// Events of this suite only, declared the way a feature declares its own.
declare module './index.ts' {
  interface EventCatalogue {
    't.happened': { n: number };
    't.flaky': Record<string, never>;
  }
}

eachDatabase('domain events', (dialect) => {
  let db: Db;
  let fresh: Awaited<ReturnType<typeof freshDb>>;
  const clock = { now: () => new Date() };
  const jobs = async () => db.kysely.selectFrom('jobs').select('payload').where('type', '=', 'event.dispatch').execute();

  before(async () => {
    fresh = await freshDb(dialect);
    db = fresh.db;
    await migrateToLatest(db.kysely);
  });
  after(() => fresh.drop());

  test('an event is dispatched by a job that the commit starts; a rolled-back change has neither', async () => {
    const queue = createQueue({ db: db.kysely, clock, dialect });
    const events = createEvents({ db: db.kysely, clock, queue });
    const seen: number[] = [];
    const after: number[] = [];
    events.on('t.happened', async (e) => {
      seen.push(e.payload.n);
    });
    events.afterCommit((e) => {
      if (e.type === 't.happened') after.push(e.payload.n);
    });
    await assert.rejects(
      db.kysely.transaction().execute(async (trx) => {
        await events.record(trx, 't.happened', { n: 0 });
        throw new Error('the change failed');
      }),
    );
    assert.equal((await jobs()).length, 0);

    queue.start({ concurrency: 4, pollMs: 60_000 });
    try {
      await db.kysely.transaction().execute((trx) => events.record(trx, 't.happened', { n: 1 }));
      assert.equal((await jobs()).length, 1, 'one job per event');
      // Nothing kicks by hand: the recording transaction's commit starts the job.
      for (let i = 0; i < 3000 && after.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(seen, [1]);
      assert.deepEqual(after, [1], 'after-commit hooks run once the dispatch committed');
      const [e] = await events.since(0, ['t.happened']);
      assert.equal(e.payload.n, 1, 'the log shows the dispatched event');
    } finally {
      await queue.stop();
    }
  });

  test('since(): dispatched events of the names asked for, after the cursor, oldest first', async () => {
    const queue = createQueue({ db: db.kysely, clock, dialect });
    const events = createEvents({ db: db.kysely, clock, queue });
    const ids: number[] = [];
    for (const n of [10, 11, 12]) ids.push(await events.record(db.kysely, 't.happened', { n }));
    await events.record(db.kysely, 't.flaky', {});
    assert.deepEqual(await events.since(ids[0] - 1, ['t.happened']), [], 'not before they were dispatched');
    await queue.drain();
    const got = await events.since(ids[0], ['t.happened']);
    assert.deepEqual(
      got.map((e) => [e.id, e.type, e.payload.n]),
      [
        [ids[1], 't.happened', 11],
        [ids[2], 't.happened', 12],
      ],
    );
  });

  test('a failing handler rolls back its writes; the dispatch is retried with backoff, then kept as failed', async () => {
    let at = Date.now();
    const c = { now: () => new Date(at) };
    const queue = createQueue({ db: db.kysely, clock: c, dialect });
    const events = createEvents({ db: db.kysely, clock: c, queue, retryDelaysMs: [60_000] });
    let fail = true;
    events.on('t.flaky', async (_e, trx) => {
      await trx.insertInto('settings').values({ key: 'flaky', value: 'written' }).execute();
      if (fail) throw new Error('boom');
    });
    const id = await db.kysely.transaction().execute((trx) => events.record(trx, 't.flaky', {}));
    const job = async () =>
      db.kysely
        .selectFrom('jobs')
        .selectAll()
        .where('payload', '=', JSON.stringify({ eventId: id }))
        .executeTakeFirstOrThrow();
    const processed = async () => (await db.kysely.selectFrom('events').select('processed_at').where('id', '=', id).executeTakeFirstOrThrow()).processed_at;
    await queue.drain();
    let row = await job();
    assert.equal(row.status, 'queued');
    assert.equal(row.attempts, 1);
    assert.match(row.last_error ?? '', /boom/);
    assert.ok(Date.parse(row.run_at) >= at + 45_000, 'waits about a minute');
    assert.equal(await processed(), null, 'the mark rolled back with the handler');
    assert.equal(await db.kysely.selectFrom('settings').select('value').where('key', '=', 'flaky').executeTakeFirst(), undefined);
    assert.equal(await queue.drain(), 0, 'not due yet');
    at += 75_000;
    await queue.drain();
    row = await job();
    assert.equal(row.status, 'failed', 'kept as failed after the last attempt');
    assert.equal(row.attempts, 2);
    // An admin retries it from /admin/jobs once the cause is fixed.
    fail = false;
    assert.equal(await queue.retry(row.id), true);
    await queue.drain();
    assert.equal((await job()).status, 'succeeded');
    assert.notEqual(await processed(), null);
    assert.equal((await db.kysely.selectFrom('settings').select('value').where('key', '=', 'flaky').executeTakeFirstOrThrow()).value, 'written');
  });

  test('a dispatcher that died mid-lease: the event is handled after the lease runs out, once', async () => {
    let at = Date.now();
    const c = { now: () => new Date(at) };
    const queue = createQueue({ db: db.kysely, clock: c, dialect });
    const events = createEvents({ db: db.kysely, clock: c, queue });
    const seen: number[] = [];
    events.on('t.happened', async (e) => {
      seen.push(e.payload.n);
    });
    const id = await events.record(db.kysely, 't.happened', { n: 42 });
    // A worker claimed the dispatch, then was killed: its transaction rolled back, its lease stays.
    await db.kysely
      .updateTable('jobs')
      .set({ status: 'running', attempts: 1, locked_by: 'dead', lease_until: new Date(at + 60_000).toISOString() })
      .where('payload', '=', JSON.stringify({ eventId: id }))
      .execute();
    assert.equal(await queue.drain(), 0, 'not while the lease lasts');
    at += 61_000;
    assert.equal(await queue.drain(), 1);
    assert.equal(await queue.drain(), 0);
    assert.deepEqual(seen, [42]);
  });
});
