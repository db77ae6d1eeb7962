import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { hashPassword } from '../../lib/secrets.ts';
import { loadConfig } from '../../config.ts';

eachDatabase('password hash cost (PASSWORD_HASH_COST)', (dialect) => {
  let cheap: TestApp;
  let full: TestApp;

  before(async () => {
    cheap = await buildTestApp(dialect);
    full = await buildTestApp(dialect, { env: { PASSWORD_HASH_COST: '15' } });
  });
  after(async () => {
    await cheap.close();
    await full.close();
  });

  const signUp = (t: TestApp, username: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { 'content-type': 'application/json' },
      payload: { email: `${username}@example.test`, username, password: 'a good long password' },
    });
  const storedHash = async (t: TestApp, username: string) =>
    (await t.db.kysely.selectFrom('users').select('password_hash').where('username', '=', username).executeTakeFirstOrThrow()).password_hash;
  const logIn = (t: TestApp, login: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      headers: { 'content-type': 'application/json' },
      payload: { login, password: 'a good long password' },
    });

  test('production hashes at cost 15 unless configured; the test app configures a cheap cost', async () => {
    assert.equal(loadConfig({}).passwordHashCost, 15, 'the default is unchanged');
    assert.equal((await signUp(full, 'fullcost')).statusCode, 201);
    assert.match((await storedHash(full, 'fullcost')) ?? '', /^scrypt\$32768\$8\$1\$/);
    assert.equal((await signUp(cheap, 'cheapcost')).statusCode, 201);
    assert.match((await storedHash(cheap, 'cheapcost')) ?? '', /^scrypt\$1024\$8\$1\$/);
    assert.equal((await logIn(cheap, 'cheapcost')).statusCode, 201);
  });

  test('a hash keeps its own cost: one made at another cost still logs in', async () => {
    assert.equal((await signUp(cheap, 'movedcost')).statusCode, 201);
    await cheap.db.kysely
      .updateTable('users')
      .set({ password_hash: await hashPassword('a good long password', 15) })
      .where('username', '=', 'movedcost')
      .execute();
    assert.equal((await logIn(cheap, 'movedcost')).statusCode, 201);
  });
});
