import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

// The cache must never be observable: every assertion here is about freshness.
eachDatabase('response cache: anonymous answers are never stale', (dialect) => {
  let t: TestApp;
  let other: TestApp;
  let author: TestUser;
  let token: string;
  const write = (app: TestApp, title: string) =>
    apiRequest(app.app, 'POST', '/api/v1/posts', { token, body: { title, body: `Body of ${title}`, status: 'published' } });
  before(async () => {
    t = await buildTestApp(dialect);
    other = await buildTestApp(dialect, { sameDbAs: t });
    author = await buildUser(t, { role: 'author' });
    token = await buildToken(t, author);
  });
  after(async () => {
    await other.close();
    await t.close();
  });

  test('a write through this instance shows on the next read of every cached route', async () => {
    for (const url of ['/posts', '/', '/feed.xml', '/atom.xml', '/sitemap.xml', '/api/v1/posts']) await t.app.inject({ url });
    const again = await t.app.inject({ url: '/posts' });
    assert.equal(again.statusCode, 200);
    assert.equal(again.body, (await t.app.inject({ url: '/posts' })).body, 'repeat reads agree');
    assert.equal((await write(t, 'Fresh from here')).statusCode, 201);
    for (const url of ['/posts', '/', '/feed.xml', '/atom.xml', '/sitemap.xml', '/api/v1/posts']) {
      const res = await t.app.inject({ url });
      assert.match(res.body, /Fresh from here|fresh-from-here/, url);
    }
  });

  test('the change token holds still while nothing is written, and moves on any write', async () => {
    // Other test files may be writing to the same PostgreSQL server: wait for a quiet moment.
    let a: string | null = null;
    for (let i = 0; i < 50; i++) {
      a = await t.db.changeToken();
      if (a !== null && a === (await t.db.changeToken())) break;
      a = null;
    }
    assert.notEqual(a, null, 'the token is there (caching is on) and two reads in a row can agree');
    assert.equal((await write(other, 'Moves the token')).statusCode, 201);
    assert.notEqual(await t.db.changeToken(), a, 'a write through another instance moves it');
  });

  test('a write through another instance on the same database shows at once', async () => {
    await t.app.inject({ url: '/posts' });
    await t.app.inject({ url: '/api/v1/posts/fresh-from-here' });
    assert.equal((await write(other, 'Fresh from elsewhere')).statusCode, 201);
    assert.match((await t.app.inject({ url: '/posts' })).body, /Fresh from elsewhere/);
    assert.equal(
      (
        await other.app.inject({
          method: 'PATCH',
          url: '/api/v1/posts/fresh-from-here',
          headers: { authorization: `Bearer ${token}` },
          payload: { title: 'Renamed elsewhere' },
        })
      ).statusCode,
      200,
    );
    assert.equal((await t.app.inject({ url: '/api/v1/posts/fresh-from-here' })).json().title, 'Renamed elsewhere');
  });

  test('a change to any table a page reads (not only posts) shows at once', async () => {
    assert.match((await t.app.inject({ url: '/posts' })).body, /author \d+/);
    await other.db.kysely.updateTable('users').set({ display_name: 'A brand new name' }).where('id', '=', author.id).execute();
    assert.match((await t.app.inject({ url: '/posts' })).body, /A brand new name/);
    await t.db.kysely.updateTable('users').set({ display_name: 'And another' }).where('id', '=', author.id).execute();
    assert.match((await t.app.inject({ url: '/posts' })).body, /And another/);
  });

  test('signed-in and anonymous answers never cross', async () => {
    const c = new Client(t.app);
    assert.equal((await c.login(author.username, author.password)).status, 303);
    const mine = await c.get('/posts');
    assert.match(mine.body, /Log out/);
    const anon = await t.app.inject({ url: '/posts' });
    assert.doesNotMatch(anon.body, /Log out|csrf-token/);
    assert.match((await c.get('/posts')).body, /Log out/);
    const bearer = await t.app.inject({ url: '/api/v1/posts', headers: { authorization: `Bearer ${token}` } });
    assert.equal(bearer.headers['cache-control'], 'private, no-cache');
  });

  test('cached answers keep their ETag, 304 and headers', async () => {
    const first = await t.app.inject({ url: '/posts' });
    const second = await t.app.inject({ url: '/posts' });
    assert.equal(second.headers.etag, first.headers.etag);
    assert.equal(second.headers['content-type'], first.headers['content-type']);
    assert.equal(second.headers['cache-control'], 'public, max-age=0, must-revalidate');
    assert.match(String(second.headers['content-security-policy']), /default-src 'self'/);
    assert.notEqual(second.headers['x-request-id'], first.headers['x-request-id']);
    const notModified = await t.app.inject({ url: '/posts', headers: { 'if-none-match': String(first.headers.etag) } });
    assert.equal(notModified.statusCode, 304);
    assert.equal(notModified.body, '');
  });
});
