// Characters XML 1.0 does not allow (C0 controls other than tab, newline and
// carriage return; U+FFFE, U+FFFF; lone surrogates) would make the feeds
// unreadable, so every way in refuses them with a 422 naming the field: the
// JSON API, the HTML forms, the RealWorld API, comments and profiles.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../support/app.ts';
import { Client } from '../support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../support/factories.ts';

const BAD = ['bell \u0007 here', 'form\u000cfeed', 'non\uFFFEchar', 'non\uFFFFchar', 'lone \uD800 surrogate', 'esc \u001b[31m'];

eachDatabase('characters XML forbids are refused at input', (dialect) => {
  let t: TestApp;
  let writer: TestUser;
  let token: string;

  before(async () => {
    t = await buildTestApp(dialect);
    writer = await buildUser(t, { role: 'author' });
    token = await buildToken(t, writer);
  });
  after(() => t.close());

  const api = (method: string, url: string, body: unknown, auth = `Bearer ${token}`) =>
    t.app.inject({
      method: method as 'POST',
      url,
      headers: { authorization: auth, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  const fields = (res: { json(): { errors?: { field: string; message: string }[] } }) => (res.json().errors ?? []).map((e) => e.field);

  test('the posts API: title, body, excerpt and tags, each named', async () => {
    for (const bad of BAD) {
      for (const [field, input] of [
        ['title', { title: bad, body: 'fine' }],
        ['body', { title: 'Fine', body: bad }],
        ['excerpt', { title: 'Fine', body: 'fine', excerpt: bad }],
        ['tags', { title: 'Fine', body: 'fine', tags: ['ok', bad] }],
      ] as const) {
        const res = await api('POST', '/api/v1/posts', { ...input, status: 'published' });
        assert.equal(res.statusCode, 422, `${field} ${JSON.stringify(bad)}: ${res.body}`);
        assert.match(String(res.headers['content-type']), /problem\+json/);
        assert.deepEqual(fields(res), [field], res.body);
        assert.match(res.json().errors[0].message, /control characters/);
      }
    }
    const created = await api('POST', '/api/v1/posts', { title: 'Tabs\tare fine', body: 'Line\r\nbreaks\tand tabs are fine', status: 'published' });
    assert.equal(created.statusCode, 201, created.body);
    const patched = await api('PATCH', `/api/v1/posts/${created.json().id}`, { title: 'x\u0007' });
    assert.equal(patched.statusCode, 422);
    assert.deepEqual(fields(patched), ['title']);
  });

  test('the HTML form shows the form again, with the input kept and the field named', async () => {
    const c = new Client(t.app);
    assert.equal((await c.login(writer.username, writer.password)).status, 303);
    await c.get('/posts/new');
    const res = await c.postForm('/posts', { title: 'Ding\u0007', slug: '', body: 'Body kept', excerpt: '', tags: '', status: 'published' });
    assert.equal(res.status, 422);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /control characters/);
    assert.match(res.body, /Body kept/);
  });

  test('comments and profile fields', async () => {
    const post = await api('POST', '/api/v1/posts', { title: 'Commented', body: 'x', status: 'published' });
    assert.equal(post.statusCode, 201, post.body);
    const comment = await api('POST', `/api/v1/posts/${post.json().id}/comments`, { body: 'hi \u0007' });
    assert.equal(comment.statusCode, 422, comment.body);
    assert.deepEqual(fields(comment), ['body']);
    for (const field of ['displayName', 'bio'] as const) {
      const res = await api('PATCH', '/api/v1/me', { [field]: 'me \u000c' });
      assert.equal(res.statusCode, 422, res.body);
      assert.deepEqual(fields(res), [field]);
    }
    assert.equal((await api('PATCH', '/api/v1/me', { bio: 'Line one\nline two\ttabbed' })).statusCode, 200);
  });

  test('the RealWorld API answers 422 naming the field', async () => {
    const signup = await t.app.inject({
      method: 'POST',
      url: '/realworld/api/users',
      headers: { 'content-type': 'application/json' },
      payload: { user: { username: 'rwchars', email: 'rwchars@example.test', password: 'long enough' } },
    });
    assert.equal(signup.statusCode, 201, signup.body);
    const auth = `Token ${signup.json().user.token}`;
    const article = await api('POST', '/realworld/api/articles', { article: { title: 'T\u0007', description: 'd', body: 'b', tagList: [] } }, auth);
    assert.equal(article.statusCode, 422, article.body);
    assert.ok(article.json().errors.title, article.body);
    const tags = await api('POST', '/realworld/api/articles', { article: { title: 'T', description: 'd', body: 'b', tagList: ['x\uFFFF'] } }, auth);
    assert.equal(tags.statusCode, 422, tags.body);
    assert.ok(tags.json().errors.tagList ?? tags.json().errors.tags, tags.body);
    const bio = await api('PUT', '/realworld/api/user', { user: { bio: 'b\u0001' } }, auth);
    assert.equal(bio.statusCode, 422, bio.body);
    assert.ok(bio.json().errors.bio, bio.body);
  });
});
