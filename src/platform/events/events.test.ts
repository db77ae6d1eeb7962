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

  test('without the loop an event is also a job; with it, the commit hands it over and no job is made', async () => {
    const queue = createQueue({ db: db.kysely, clock, dialect });
    const events = createEvents({ db: db.kysely, clock, queue });
    const seen: number[] = [];
    events.on('t.happened', async (e) => {
      seen.push(e.payload.n);
    });

    await db.kysely.transaction().execute((trx) => events.record(trx, 't.happened', { n: 1 }));
    assert.equal((await jobs()).length, 1, 'a process without the loop leaves the event to a worker');
    assert.equal(await queue.drain(), 1);
    assert.deepEqual(seen, [1]);

    events.start(60_000);
    try {
      await db.kysely.transaction().execute((trx) => events.record(trx, 't.happened', { n: 2 }));
      assert.equal((await jobs()).length, 1, 'no second job');
      // Nothing kicks by hand: the recording transaction's commit starts the dispatch.
      for (let i = 0; i < 3000 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(seen, [1, 2]);
      const left = await db.kysely.selectFrom('events').select('id').where('processed_at', 'is', null).execute();
      assert.equal(left.length, 0);
    } finally {
      await events.stop();
    }
  });

  test('a failing handler rolls back its writes and the claim; the event is retried later', async () => {
    const events = createEvents({ db: db.kysely, clock, retryDelaysMs: [0, 0] });
    let fail = true;
    events.on('t.flaky', async (_e, trx) => {
      await trx.insertInto('settings').values({ key: 'flaky', value: 'written' }).execute();
      if (fail) throw new Error('boom');
    });
    await db.kysely.transaction().execute((trx) => events.record(trx, 't.flaky', {}));
    await events.dispatchDue();
    const row = await db.kysely.selectFrom('events').selectAll().where('type', '=', 't.flaky').executeTakeFirstOrThrow();
    assert.equal(row.processed_at, null);
    assert.equal(row.attempts, 1);
    assert.equal(row.last_error, 'boom');
    assert.equal(await db.kysely.selectFrom('settings').select('value').where('key', '=', 'flaky').executeTakeFirst(), undefined);
    fail = false;
    await events.dispatchDue();
    const done = await db.kysely.selectFrom('events').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.notEqual(done.processed_at, null);
    assert.equal(done.last_error, null);
  });
});
