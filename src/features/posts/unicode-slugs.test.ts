import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';

const enc = (path: string) => path.split('/').map(encodeURIComponent).join('/');

// A blog written in Japanese, Russian or French gets addresses in its own words:
// tags and posts have slugs in any script, unique, and safe in every URL.
eachDatabase('slugs in any script', (dialect) => {
  let t: TestApp;
  let author: TestUser;
  let c: Client;
  let token: string;

  before(async () => {
    t = await buildTestApp(dialect);
    author = await buildUser(t, { role: 'author' });
    token = await buildToken(t, author);
    c = new Client(t.app);
    assert.equal((await c.login(author.username, author.password)).status, 303);
  });
  after(() => t.close());

  const api = (method: string, url: string, body?: unknown) =>
    t.app.inject({
      method: method as 'POST',
      url,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      payload: body ? JSON.stringify(body) : undefined,
    });

  test('writing through the form: the post and its tags get slugs in their own script, links and redirects encoded', async () => {
    await c.get('/posts/new');
    const created = await c.postForm('/posts', {
      title: '日本語のメモ',
      slug: '',
      body: 'こんにちは',
      excerpt: '',
      tags: 'Café crème, 日本語, Cafe Creme',
      status: 'published',
    });
    assert.equal(created.status, 303);
    assert.equal(created.headers.location, `/posts/${encodeURIComponent('日本語のメモ')}`, 'Location carries the slug percent-encoded');
    const page = await c.get(created.headers.location as string);
    assert.equal(page.status, 200);
    assert.match(page.body, /こんにちは/);
    assert.match(page.body, /href="\/tags\/cafe-creme">Café crème</, '"Café crème" and "Cafe Creme" are one tag');
    assert.match(page.body, /href="\/tags\/日本語">日本語</);
    const tagPage = await c.get(`/tags/${encodeURIComponent('日本語')}`);
    assert.equal(tagPage.status, 200);
    assert.match(tagPage.body, /日本語のメモ/);
    const post = (await api('GET', enc('/api/v1/posts/日本語のメモ'))).json();
    assert.deepEqual(post.tags.map((x: { slug: string }) => x.slug).sort(), ['cafe-creme', '日本語']);

    // Renaming it: a slug typed in Cyrillic, and the old address redirects (encoded).
    await c.get(enc('/posts/日本語のメモ/edit'));
    const edited = await c.postForm(enc('/posts/日本語のメモ'), {
      _method: 'PUT',
      title: 'Заметка',
      slug: 'Моя-Заметка',
      body: 'Текст',
      excerpt: '',
      tags: '',
      status: 'published',
    });
    assert.equal(edited.status, 303);
    assert.equal(edited.headers.location, enc('/posts/моя-заметка'));
    await t.queue.drain({ types: ['event.dispatch'] });
    const old = await c.get(enc('/posts/日本語のメモ'));
    assert.equal(old.status, 301);
    assert.equal(old.headers.location, enc('/posts/моя-заметка'));
    // Feeds and the sitemap carry URLs, which are ASCII: the slug percent-encoded.
    for (const url of ['/feed.xml', '/atom.xml', '/sitemap.xml']) {
      const body = (await c.get(url)).body;
      assert.ok(body.includes(`/posts/${encodeURIComponent('моя-заметка')}`), `${url} links the post percent-encoded`);
      assert.ok(!body.includes('/posts/моя-заметка'), `${url} has no raw non-ASCII URL`);
    }
  });

  test('the same title twice gets a unique slug; a slug with reserved characters is refused naming the field', async () => {
    const a = (await api('POST', '/api/v1/posts', { title: 'Привет, мир', body: 'one', status: 'published' })).json();
    const b = (await api('POST', '/api/v1/posts', { title: 'Привет, мир', body: 'two', status: 'published' })).json();
    assert.equal(a.slug, 'привет-мир');
    assert.equal(b.slug, 'привет-мир-2');
    for (const slug of ['a/b', 'with space', 'x?y', '100%', 'two--hyphens']) {
      const res = await api('PATCH', `/api/v1/posts/${b.id}`, { slug });
      assert.equal(res.statusCode, 422, slug);
      assert.ok(
        res.json().errors.some((e: { field: string }) => e.field === 'slug'),
        slug,
      );
    }
    const ok = await api('PATCH', `/api/v1/posts/${b.id}`, { slug: 'Crème-Brûlée' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().slug, 'crème-brûlée', 'a slug typed by hand keeps its accents, lowercased');
    assert.equal((await t.app.inject({ method: 'GET', url: enc('/posts/crème-brûlée') })).statusCode, 200);
  });
});
