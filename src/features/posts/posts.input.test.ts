import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { sameMessages } from '../../../test/support/form-errors.ts';
import { apiRequest } from '../../../test/support/request.ts';

// One schema per command: the API and the form refuse the same input with the same words.
eachDatabase('post commands: the form and the API share one schema', (dialect) => {
  let t: TestApp;
  let author: TestUser;
  let token: string;
  let web: Client;

  before(async () => {
    t = await buildTestApp(dialect);
    author = await buildUser(t, { role: 'author' });
    token = await buildToken(t, author);
    web = new Client(t.app);
    assert.equal((await web.login(author.username, author.password)).status, 303);
  });
  after(() => t.close());

  test('the same bad new post: the same field messages in problem+json and beside the form’s fields, with the input kept', async () => {
    const bad = { title: '   ', body: 'x'.repeat(100_001), excerpt: 'e'.repeat(501), status: 'someday' };
    const api = await apiRequest(t.app, 'POST', '/api/v1/posts', { token, body: { ...bad, tags: ['ok', 't'.repeat(41)] } });
    assert.equal(api.statusCode, 422);
    const errors = api.json().errors as { field: string; message: string }[];
    assert.deepEqual(errors.map((e) => e.field).sort(), ['body', 'excerpt', 'status', 'tags', 'title']);

    await web.get('/posts/new');
    const form = await web.postForm('/posts', { ...bad, tags: `ok, ${'t'.repeat(41)}` });
    assert.equal(form.status, 422);
    assert.equal(sameMessages(errors, form.body), null, sameMessages(errors, form.body) ?? '');
    assert.match(form.body, /<textarea[^>]*name="tags"|name="tags"[^>]*value="ok, t{41}"/, 'the tags come back as typed');
    assert.match(form.body, /name="excerpt"[^>]*value="e{501}"/);
  });

  test('editing: a blank title and a past schedule read the same in both, and a form without a button keeps the status', async () => {
    const created = await apiRequest(t.app, 'POST', '/api/v1/posts', { token, body: { title: 'Kept online', body: 'Text', status: 'published' } });
    assert.equal(created.statusCode, 201);
    const { id, slug } = created.json();
    const bad = { title: '', body: 'Text', status: 'scheduled', publishedAt: '2001-01-01T09:00:00Z' };
    const api = await apiRequest(t.app, 'PUT', `/api/v1/posts/${id}`, { token, body: bad });
    assert.equal(api.statusCode, 422);
    const errors = api.json().errors as { field: string; message: string }[];
    assert.deepEqual(errors.map((e) => e.field).sort(), ['title']);

    await web.get(`/posts/${slug}/edit`);
    const form = await web.postForm(`/posts/${slug}`, { _method: 'PUT', ...bad, publishedAt: '2001-01-01T09:00' });
    assert.equal(form.status, 422);
    assert.equal(sameMessages(errors, form.body), null, sameMessages(errors, form.body) ?? '');
    assert.match(form.body, /name="publishedAt"[^>]*value="2001-01-01T09:00"/, 'the date comes back as the field shows it');

    // The schedule's own rule (the service's) names the same field in both.
    const past = await apiRequest(t.app, 'PUT', `/api/v1/posts/${id}`, { token, body: { ...bad, title: 'Kept online' } });
    const pastErrors = past.json().errors as { field: string; message: string }[];
    assert.deepEqual(
      pastErrors.map((e) => e.field),
      ['publishedAt'],
    );
    await web.get(`/posts/${slug}/edit`);
    const pastForm = await web.postForm(`/posts/${slug}`, { _method: 'PUT', ...bad, title: 'Kept online', publishedAt: '2001-01-01T09:00' });
    assert.equal(pastForm.status, 422);
    assert.equal(sameMessages(pastErrors, pastForm.body), null);

    await web.get(`/posts/${slug}/edit`);
    const saved = await web.postForm(`/posts/${slug}`, { _method: 'PUT', title: 'Kept online', body: 'Edited', tags: 'one, two', featureImageAlt: '' });
    assert.equal(saved.status, 303);
    const after = (await apiRequest(t.app, 'GET', `/api/v1/posts/${id}`, { token })).json();
    assert.equal(after.status, 'published');
    assert.deepEqual(
      after.tags.map((x: { name: string }) => x.name),
      ['one', 'two'],
    );
  });
});
