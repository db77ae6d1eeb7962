import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

// The trash gives up a post's address (WordPress's "__trashed"); restoring takes it back if free.
eachDatabase('a trashed post frees its slug', (dialect) => {
  let t: TestApp;
  let author: TestUser;
  let token: string;

  before(async () => {
    t = await buildTestApp(dialect);
    author = await buildUser(t, { role: 'author' });
    token = await buildToken(t, author);
  });
  after(() => t.close());

  const call = (method: string, url: string, body?: unknown) => apiRequest(t.app, method, url, { token, body });
  const publish = async (fields: Record<string, unknown>) => {
    const res = await call('POST', '/api/v1/posts', { body: 'Words.', status: 'published', ...fields });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: number; slug: string };
  };

  test('a new post takes the address of a trashed one; restoring gives the old post the next free one', async () => {
    const first = await publish({ title: 'Hello there', slug: 'hello-there' });
    assert.equal((await call('DELETE', `/api/v1/posts/${first.id}`)).statusCode, 204);
    // The trashed post is no longer at its old address, and no redirect leads anywhere.
    assert.equal((await t.app.inject('/posts/hello-there')).statusCode, 404);

    // The same slug, given or derived from the title, is free again.
    const second = await publish({ title: 'Hello there', slug: 'hello-there' });
    assert.equal(second.slug, 'hello-there');
    await call('DELETE', `/api/v1/posts/${second.id}`);
    const third = await publish({ title: 'Hello there' });
    assert.equal(third.slug, 'hello-there');

    const trash = (await call('GET', '/api/v1/posts?status=trashed')).json().posts.map((p: { slug: string }) => p.slug);
    assert.ok(trash.includes('hello-there__trashed') && trash.includes('hello-there__trashed-2'), trash.join());

    // "hello-there" is taken by the third: the first comes back as hello-there-2, by the trash page's button.
    const web = new Client(t.app);
    await web.login(author.username, author.password);
    await web.get('/admin/posts/trash');
    const restored = await web.postForm(`/admin/posts/trash/${first.id}/restore`, {});
    assert.equal(restored.status, 303);
    assert.equal(restored.headers.location, '/posts/hello-there-2');
    assert.equal((await t.app.inject('/posts/hello-there-2')).statusCode, 200);
    assert.match((await t.app.inject('/posts/hello-there')).body, /Hello there/);
  });

  test('restoring takes the old address back when it is still free', async () => {
    const post = await publish({ title: 'Coming back', slug: 'coming-back' });
    await call('DELETE', `/api/v1/posts/${post.id}`);
    const res = await call('POST', `/api/v1/posts/${post.id}/restore`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().slug, 'coming-back');
    assert.equal((await t.app.inject('/posts/coming-back')).statusCode, 200);
  });
});
