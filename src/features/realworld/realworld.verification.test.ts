// Issue 13, item 6: the RealWorld API honours Inkwell's email verification for
// accounts made by Inkwell's own sign-up; accounts it registered itself (the
// protocol has no verification) still publish at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { RealWorldClient, uniq } from './realworld.test-client.ts';

eachDatabase('RealWorld API and email verification', (dialect) => {
  let t: TestApp;
  let rw: RealWorldClient;

  before(async () => {
    t = await buildTestApp(dialect);
    rw = new RealWorldClient(t);
  });
  after(() => t.close());

  const article = { article: { title: 'Hello', description: 'd', body: 'b' } };

  test("an unverified Inkwell account cannot publish or comment through RealWorld until it confirms; RealWorld's own accounts can", async () => {
    const name = `iw${uniq()}`;
    const email = `${name}@example.test`;
    const password = 'a long passphrase';
    const signup = await t.app.inject({ method: 'POST', url: '/api/v1/users', remoteAddress: '203.0.113.7', payload: { email, username: name, password } });
    assert.equal(signup.statusCode, 201, signup.body);
    const token = (await rw.login(email, password)).body.user.token as string;

    const refused = await rw.call('POST', '/articles', { token, body: article });
    assert.equal(refused.status, 403, refused.text);
    assert.deepEqual(refused.body, { errors: { email: ['is not verified'] } });
    const someone = await rw.register();
    const theirs = await rw.createArticle(someone.token);
    assert.equal((await rw.call('POST', `/articles/${theirs.slug}/comments`, { token, body: { comment: { body: 'hi' } } })).status, 403);
    assert.equal((await rw.list({ author: name })).articlesCount, 0, 'nothing was published');

    // Following the mailed link (read from the outbox: no SMTP here) lets it publish.
    const mail = await t.db.kysely.selectFrom('mail_outbox').select('text').where('to_address', '=', email).executeTakeFirstOrThrow();
    const verify = /\/verify\/([\w-]+)/.exec(mail.text)![1];
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/verification', payload: { token: verify } })).statusCode, 204);
    assert.equal((await rw.call('POST', '/articles', { token, body: article })).status, 201);

    // An account registered through RealWorld itself publishes at once, though unverified in Inkwell.
    const u = await rw.register();
    const me = await t.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${u.token}` } });
    assert.equal(me.json().verified, false);
    assert.equal((await rw.call('POST', '/articles', { token: u.token, body: article })).status, 201);
  });
});
