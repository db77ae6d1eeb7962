// Issue 13, item 6: asking for a reset link does the same work whether or not the
// address has an account; the lookup, the link and the mail come after the answer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildUser } from '../../../test/support/factories.ts';

eachDatabase('forgot password: the answer comes before any account work', (dialect) => {
  let t: TestApp;

  before(async () => {
    t = await buildTestApp(dialect);
  });
  after(() => t.close());

  // Everything a reset request can leave behind, per address.
  async function traces(email: string) {
    const k = t.db.kysely;
    const tokens = await k
      .selectFrom('account_tokens')
      .innerJoin('users', 'users.id', 'account_tokens.user_id')
      .select('account_tokens.id')
      .where('users.email', '=', email)
      .where('purpose', '=', 'reset')
      .execute();
    const mail = await k.selectFrom('mail_outbox').select('id').where('to_address', '=', email).execute();
    return { tokens: tokens.length, mail: mail.length };
  }
  const jobs = () => t.db.kysely.selectFrom('jobs').select(['type', 'payload', 'status']).orderBy('id').execute();

  test('a real and an unknown address: the same answer after the same work (one queued job each)', async () => {
    const u = await buildUser(t, { role: 'reader' });
    const unknown = 'nobody-here@example.test';
    const before = (await jobs()).length;

    const known = await t.app.inject({ method: 'POST', url: '/api/v1/password/forgot', payload: { email: u.email } });
    const ghost = await t.app.inject({ method: 'POST', url: '/api/v1/password/forgot', payload: { email: unknown } });
    assert.equal(known.statusCode, 202);
    assert.equal(ghost.statusCode, 202);
    assert.equal(known.body, ghost.body);

    const c = new Client(t.app);
    await c.get('/password/forgot');
    assert.equal((await c.postForm('/password/forgot', { email: u.email })).status, 200);
    await c.get('/password/forgot');
    assert.equal((await c.postForm('/password/forgot', { email: unknown })).status, 200);

    // Answered, and nothing was looked up, issued or mailed yet, for either address.
    assert.deepEqual(await traces(u.email), { tokens: 0, mail: 0 });
    const queued = (await jobs()).slice(before);
    assert.equal(queued.length, 4, 'one job per request, account or not');
    const shape = (j: { type: string; payload: string; status: string }) => ({ type: j.type, status: j.status, keys: Object.keys(JSON.parse(j.payload)) });
    assert.deepEqual(queued.map(shape), Array(4).fill({ type: 'accounts.password-reset', status: 'queued', keys: ['email'] }));

    // The work happens when the job runs: a link for the real account only.
    await t.queue.drain();
    assert.deepEqual(await traces(u.email), { tokens: 2, mail: 2 });
    assert.equal((await t.db.kysely.selectFrom('mail_outbox').select('id').where('to_address', '=', unknown).execute()).length, 0);
  });
});
