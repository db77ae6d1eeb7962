import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { sql } from 'kysely';
import { openDb, type Db } from './index.ts';

// Group commit changes when a write is answered, never what is written.
describe('node:sqlite driver with group commit', () => {
  let dir: string;
  let db: Db;
  let other: Db;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-sqlite-'));
    db = openDb({ url: `sqlite:${join(dir, 'a.db')}` });
    other = openDb({ url: `sqlite:${join(dir, 'a.db')}` });
    await sql`create table t (id integer primary key, v text not null unique)`.execute(db.kysely);
  });
  after(async () => {
    await other.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const k = () => db.kysely as any;

  test('rows come back as plain objects with every column, also streamed, and odd column names keep their values', async () => {
    await sql`insert into t (id, v) values (9001, 'row-a'), (9002, 'row-b')`.execute(db.kysely);
    const { rows } = await sql<Record<string, unknown>>`select id, v, null as "none", 1.5 as "odd ""name""" from t where id > 9000 order by id`.execute(
      db.kysely,
    );
    assert.deepEqual(rows, [
      { id: 9001, v: 'row-a', none: null, 'odd "name"': 1.5 },
      { id: 9002, v: 'row-b', none: null, 'odd "name"': 1.5 },
    ]);
    const streamed: unknown[] = [];
    for await (const r of k().selectFrom('t').select(['id', 'v']).where('id', '>', 9000).orderBy('id').stream()) streamed.push(r);
    assert.deepEqual(streamed, [
      { id: 9001, v: 'row-a' },
      { id: 9002, v: 'row-b' },
    ]);
    // A name twice, or __proto__, keeps node:sqlite's own row objects.
    const twice = await sql<Record<string, unknown>>`select id, v as id from t where id = 9001`.execute(db.kysely);
    assert.equal(twice.rows[0].id, 'row-a');
    const proto = await sql<Record<string, unknown>>`select v as "__proto__" from t where id = 9001`.execute(db.kysely);
    assert.equal(Object.getOwnPropertyDescriptor(proto.rows[0], '__proto__')?.value, 'row-a');
    await sql`delete from t where id > 9000`.execute(db.kysely);
  });

  test('runs in WAL mode with NORMAL sync (the driver syncs the WAL itself)', async () => {
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db.kysely);
    assert.equal(mode.rows[0].journal_mode, 'wal');
    const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(db.kysely);
    assert.equal(sync.rows[0].synchronous, 1);
  });

  test('many concurrent transactions and single writes all commit, each visible to another connection once answered', async () => {
    const seen: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const write =
        i % 2
          ? k()
              .transaction()
              .execute(async (trx: any) => {
                await trx
                  .insertInto('t')
                  .values({ v: `a${i}` })
                  .execute();
                await trx
                  .insertInto('t')
                  .values({ v: `b${i}` })
                  .execute();
              })
          : k()
              .insertInto('t')
              .values({ v: `a${i}` })
              .execute();
      seen.push(
        write.then(async () => {
          const rows = await (other.kysely as any).selectFrom('t').select('v').where('v', '=', `a${i}`).execute();
          assert.equal(rows.length, 1, `a${i} is visible once its write is answered`);
        }),
      );
    }
    await Promise.all(seen);
    const { count } = await k()
      .selectFrom('t')
      .select((eb: any) => eb.fn.countAll().as('count'))
      .executeTakeFirst();
    assert.equal(Number(count), 300);
  });

  test('a failed transaction rolls back alone, while others in the same batch commit', async () => {
    const results = await Promise.allSettled([
      k()
        .transaction()
        .execute(async (trx: any) => {
          await trx.insertInto('t').values({ v: 'kept-1' }).execute();
        }),
      k()
        .transaction()
        .execute(async (trx: any) => {
          await trx.insertInto('t').values({ v: 'lost' }).execute();
          await trx.insertInto('t').values({ v: 'a0' }).execute(); // unique violation
        }),
      k()
        .transaction()
        .execute(async (trx: any) => {
          await trx.insertInto('t').values({ v: 'kept-2' }).execute();
        }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    const rows = await k().selectFrom('t').select('v').where('v', 'in', ['kept-1', 'lost', 'kept-2']).orderBy('v').execute();
    assert.deepEqual(
      rows.map((r: any) => r.v),
      ['kept-1', 'kept-2'],
    );
  });

  test("a query never runs inside another caller's open transaction", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const trx = k()
      .transaction()
      .execute(async (t: any) => {
        await t.insertInto('t').values({ v: 'pending' }).execute();
        await gate;
        throw new Error('roll back');
      });
    const read = k().selectFrom('t').select('v').where('v', '=', 'pending').execute();
    await new Promise((r) => setTimeout(r, 20));
    release();
    await assert.rejects(trx, /roll back/);
    assert.deepEqual(await read, [], 'the read waited for the transaction and saw its rollback');
  });

  test("a write waits for another connection's write lock without stopping the event loop", async () => {
    // A busy timeout: the driver may still be finishing the last test's commit.
    const holder = new DatabaseSync(join(dir, 'a.db'), { timeout: 30_000 });
    holder.exec('begin immediate');
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 5);
    let written = false;
    const write = k()
      .insertInto('t')
      .values({ v: 'after-the-lock' })
      .execute()
      .then(() => {
        written = true;
      });
    // A write that blocked the event loop would never let these ticks happen.
    while (ticks < 5) await new Promise((r) => setTimeout(r, 5));
    const ticksWhileLocked = ticks;
    assert.equal(written, false, 'the write is still waiting for the lock');
    holder.exec('commit');
    holder.close();
    await write;
    clearInterval(timer);
    assert.ok(ticksWhileLocked >= 5, `timers ran while the write waited (${ticksWhileLocked} ticks)`);
    const rows = await (other.kysely as any).selectFrom('t').select('v').where('v', '=', 'after-the-lock').execute();
    assert.equal(rows.length, 1);
  });

  test('the change token moves on every write, by this connection or another', async () => {
    const before = db.changeToken();
    assert.equal(db.changeToken(), before);
    await (other.kysely as any).insertInto('t').values({ v: 'from-other' }).execute();
    const afterOther = db.changeToken();
    assert.notEqual(afterOther, before);
    await k().updateTable('t').set({ v: 'from-here' }).where('v', '=', 'from-other').execute();
    assert.notEqual(db.changeToken(), afterOther);
  });
});
