import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';

// Old addresses must keep working: links from other sites, search engines and
// bookmarks point at them for years after a post is renamed or a blog moves in.
eachDatabase('redirects', (dialect) => {
  let t: TestApp;
  let admin: TestUser, author: TestUser;
  let adminToken: string, authorToken: string;

  before(async () => {
    t = await buildTestApp(dialect);
    admin = await buildUser(t, { role: 'admin' });
    author = await buildUser(t, { role: 'author' });
    adminToken = await buildToken(t, admin);
    authorToken = await buildToken(t, author);
  });
  after(() => t.close());

  const api = (method: string, url: string, token: string, body?: unknown) =>
    t.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });

  test('a renamed published post leaves its old address behind, without chains', async () => {
    const post = (await api('POST', '/api/v1/posts', authorToken, { title: 'First name', body: 'Hello', status: 'published', slug: 'first-name' })).json();
    assert.equal((await api('PATCH', `/api/v1/posts/${post.id}`, authorToken, { slug: 'second-name' })).statusCode, 200);
    await t.queue.drain();
    const old = await t.app.inject({ method: 'GET', url: '/posts/first-name' });
    assert.equal(old.statusCode, 301);
    assert.equal(old.headers.location, '/posts/second-name');
    // With a trailing slash and a query, as links in the wild have them.
    const slashed = await t.app.inject({ method: 'GET', url: '/posts/first-name/?utm_source=x' });
    assert.equal(slashed.statusCode, 301);
    assert.equal(slashed.headers.location, '/posts/second-name?utm_source=x');

    await api('PATCH', `/api/v1/posts/${post.id}`, authorToken, { slug: 'third-name' });
    await t.queue.drain();
    for (const from of ['first-name', 'second-name']) {
      const res = await t.app.inject({ method: 'GET', url: `/posts/${from}` });
      assert.equal(res.statusCode, 301, from);
      assert.equal(res.headers.location, '/posts/third-name', `${from} leads straight to the current address`);
    }
    // Back to the first name: the post answers there again, and no redirect loops.
    await api('PATCH', `/api/v1/posts/${post.id}`, authorToken, { slug: 'first-name' });
    await t.queue.drain();
    assert.equal((await t.app.inject({ method: 'GET', url: '/posts/first-name' })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/posts/third-name' })).headers.location, '/posts/first-name');
  });

  test('a draft renamed before anyone saw it leaves nothing behind', async () => {
    const post = (await api('POST', '/api/v1/posts', authorToken, { title: 'Quiet draft', body: 'x', slug: 'quiet-draft' })).json();
    await api('PATCH', `/api/v1/posts/${post.id}`, authorToken, { slug: 'quiet-draft-2' });
    await t.queue.drain();
    assert.equal((await t.app.inject({ method: 'GET', url: '/posts/quiet-draft' })).statusCode, 404);
  });

  test('the API: admins add, list, read and delete; others are refused; bad input is a 422 naming the field', async () => {
    const created = await api('POST', '/api/v1/redirects', adminToken, { from: '/2019/05/06/whats-backend/', to: '/posts/whats-backend', status: 301 });
    assert.equal(created.statusCode, 201);
    const r = created.json();
    assert.equal(r.from, '/2019/05/06/whats-backend');
    assert.equal(created.headers.location, `/api/v1/redirects/${r.id}`);
    const res = await t.app.inject({ method: 'GET', url: '/2019/05/06/whats-backend/' });
    assert.equal(res.statusCode, 301);
    assert.equal(res.headers.location, '/posts/whats-backend');

    assert.equal((await api('POST', '/api/v1/redirects', adminToken, { from: '/2019/05/06/whats-backend', to: '/elsewhere' })).statusCode, 409);
    assert.ok((await api('GET', '/api/v1/redirects', adminToken)).json().some((x: { id: number }) => x.id === r.id));
    assert.equal((await api('GET', '/api/v1/redirects', authorToken)).statusCode, 403);
    assert.equal((await api('POST', '/api/v1/redirects', authorToken, { from: '/a', to: '/b' })).statusCode, 403);
    for (const [body, field] of [
      [{ from: 'no-slash', to: '/b' }, 'from'],
      [{ from: '/a', to: 'javascript:alert(1)' }, 'to'],
      [{ from: '/same', to: '/same/' }, 'to'],
    ] as const) {
      const bad = await api('POST', '/api/v1/redirects', adminToken, body);
      assert.equal(bad.statusCode, 422, JSON.stringify(body));
      assert.equal(bad.json().errors[0].field, field);
    }
    assert.equal((await api('POST', '/api/v1/redirects', adminToken, { from: '/a', to: '/b', status: 307 })).statusCode, 422);
    assert.equal((await api('DELETE', `/api/v1/redirects/${r.id}`, adminToken)).statusCode, 204);
    assert.equal((await t.app.inject({ method: 'GET', url: '/2019/05/06/whats-backend' })).statusCode, 404);
    assert.equal((await api('GET', `/api/v1/redirects/${r.id}`, adminToken)).statusCode, 404);
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    assert.ok(doc.paths['/api/v1/redirects'].post, 'in the OpenAPI document');
    assert.ok(doc.paths['/api/v1/export'].get, 'the export too');
  });

  test('WordPress plain permalinks and non-ASCII paths are answered, whatever their percent-encoding', async () => {
    await api('POST', '/api/v1/redirects', adminToken, { from: '/?p=123', to: '/posts/plain-link' });
    await api('POST', '/api/v1/redirects', adminToken, { from: '/2020/01/02/%d0%bf%d1%80%d0%b8%d0%b2%d0%b5%d1%82/', to: '/posts/privet' });
    const plain = await t.app.inject({ method: 'GET', url: '/?p=123' });
    assert.equal(plain.statusCode, 301);
    assert.equal(plain.headers.location, '/posts/plain-link');
    assert.equal((await t.app.inject({ method: 'GET', url: '/?p=124' })).statusCode, 200, 'an unknown id is the home page, as before');
    const cyr = await t.app.inject({ method: 'GET', url: '/2020/01/02/%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82/' });
    assert.equal(cyr.statusCode, 301);
    assert.equal(cyr.headers.location, '/posts/privet');
    // The API never answers with a page's redirect.
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' })).statusCode, 404);
  });

  test('the admin page: plain forms with CSRF, the form again with input kept on a mistake', async () => {
    const c = new Client(t.app);
    await c.login(admin.username, admin.password);
    const page = await c.get('/admin/redirects');
    assert.equal(page.status, 200);
    assert.match((await c.get('/admin')).body, /href="\/admin\/redirects"/);
    await c.get('/admin/redirects');
    const bad = await c.postForm('/admin/redirects', { from: 'old', to: '/new-home', status: '302' });
    assert.equal(bad.status, 422);
    assert.match(bad.body, /value="old"/);
    assert.match(bad.body, /value="\/new-home"/);
    assert.match(bad.body, /Old address must be a path/);
    const ok = await c.postForm('/admin/redirects', { from: '/old-home', to: '/new-home', status: '302' });
    assert.equal(ok.status, 303);
    const list = await c.get('/admin/redirects');
    assert.match(list.body, /<code>\/old-home<\/code>/);
    const res = await t.app.inject({ method: 'GET', url: '/old-home' });
    assert.equal(res.statusCode, 302);
    const id = /action="\/admin\/redirects\/(\d+)\/delete"/.exec(list.body)![1];
    assert.equal((await c.postForm(`/admin/redirects/${id}/delete`, {})).status, 303);
    assert.equal((await t.app.inject({ method: 'GET', url: '/old-home' })).statusCode, 404);
    // Without the CSRF token the form is refused.
    const forged = await c.request('POST', '/admin/redirects', { form: { from: '/x', to: '/y' } });
    assert.equal(forged.status, 403);

    const authorClient = new Client(t.app);
    await authorClient.login(author.username, author.password);
    assert.equal((await authorClient.get('/admin/redirects')).status, 403);
  });
});
