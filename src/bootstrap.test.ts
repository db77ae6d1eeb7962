import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDb } from './platform/db/index.ts';
import { prepareDatabase } from './bootstrap.ts';
import { eachDatabase, freshDb } from '../test/support/app.ts';

eachDatabase('preparing a database', (dialect) => {
  test('several instances starting at once migrate once and seed one welcome post', async () => {
    const fresh = await freshDb(dialect);
    const others = [1, 2, 3].map(() => openDb({ url: fresh.url, schema: fresh.schema, poolSize: 2 }));
    try {
      const results = await Promise.all([fresh.db, ...others].map((db) => prepareDatabase(db)));
      const applied = results.flatMap((r) => r.migrations);
      assert.equal(new Set(applied).size, applied.length, 'each migration applied by exactly one instance');
      assert.ok(applied.length > 0);
      const welcome = await fresh.db.kysely.selectFrom('posts').select('slug').execute();
      assert.deepEqual(
        welcome.map((p) => p.slug),
        ['welcome-to-inkwell'],
      );

      // Deleting the welcome post is final: a restart does not bring it back.
      await fresh.db.kysely.deleteFrom('posts').execute();
      await prepareDatabase(fresh.db);
      assert.equal((await fresh.db.kysely.selectFrom('posts').select('id').execute()).length, 0);
    } finally {
      await Promise.all(others.map((db) => db.close()));
      await fresh.drop();
    }
  });
});
