import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { eachDatabase, freshDb } from '../../../test/support/app.ts';
import { preparedQuery } from './prepared.ts';

// A query compiled once must answer every later call with that call's values,
// never the first caller's, on both engines, inside transactions too.
eachDatabase('preparedQuery', (dialect) => {
  let env: Awaited<ReturnType<typeof freshDb>>;
  let db: Kysely<any>;
  before(async () => {
    env = await freshDb(dialect);
    db = env.db.kysely as unknown as Kysely<any>;
    await sql`create table things (id integer primary key, name text not null, kind text not null)`.execute(db);
    await db
      .insertInto('things')
      .values([
        { id: 1, name: 'ink', kind: 'a' },
        { id: 2, name: 'quill', kind: 'b' },
        { id: 3, name: 'paper', kind: 'a' },
        { id: 4, name: "o'clock; drop table things", kind: 'b' },
      ])
      .execute();
  });
  after(() => env.drop());
  // node:sqlite's rows have no prototype; compare their fields.
  const plain = (r: { rows: unknown[] }) => r.rows.map((x) => ({ ...(x as object) }));

  const byKind = preparedQuery((k: Kysely<any>, s: { kind: string; limit: number }, shape) => {
    const q = k.selectFrom('things').select(['id', 'name']).where('kind', '=', s.kind);
    return (shape === 'named' ? q.where('name', '!=', 'ink') : q).orderBy('id').limit(s.limit);
  });

  test('each call gets its own values; the SQL stays parameterised', async () => {
    assert.deepEqual(plain(await byKind(db, { kind: 'a', limit: 10 })), [
      { id: 1, name: 'ink' },
      { id: 3, name: 'paper' },
    ]);
    assert.deepEqual(plain(await byKind(db, { kind: 'b', limit: 1 })), [{ id: 2, name: 'quill' }]);
    assert.deepEqual(plain(await byKind(db, { kind: "b' or '1'='1", limit: 10 })), []);
  });

  test('a shape is its own compiled query', async () => {
    assert.deepEqual(plain(await byKind(db, { kind: 'a', limit: 10 }, 'named')), [{ id: 3, name: 'paper' }]);
    assert.deepEqual((await byKind(db, { kind: 'a', limit: 10 })).rows.length, 2);
  });

  test('runs inside a transaction and sees its writes', async () => {
    const rows = await db.transaction().execute(async (trx) => {
      await trx.insertInto('things').values({ id: 5, name: 'nib', kind: 'c' }).execute();
      return plain(await byKind(trx, { kind: 'c', limit: 10 }));
    });
    assert.deepEqual(rows, [{ id: 5, name: 'nib' }]);
  });

  test('a value used twice is filled in both places', async () => {
    const same = preparedQuery((k: Kysely<any>, s: { name: string }) =>
      k.selectFrom('things').select('id').where('name', '=', s.name).where('name', '>=', s.name),
    );
    assert.deepEqual(plain(await same(db, { name: 'quill' })), [{ id: 2 }]);
    assert.deepEqual(plain(await same(db, { name: 'paper' })), [{ id: 3 }]);
  });
});
