import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { formFieldErrors, sameMessages } from '../../../test/support/form-errors.ts';
import { apiRequest } from '../../../test/support/request.ts';

// Comments, redirects and pages: one schema per command for the API and the form.
eachDatabase('comment, redirect and page commands: the form and the API share one schema', (dialect) => {
  let t: TestApp;
  let admin: TestUser, reader: TestUser;
  let adminToken: string, readerToken: string;
  let adminWeb: Client, readerWeb: Client;
  let slug: string;

  before(async () => {
    t = await buildTestApp(dialect);
    [admin, reader] = await Promise.all([buildUser(t, { role: 'admin' }), buildUser(t, { role: 'reader' })]);
    [adminToken, readerToken] = await Promise.all([buildToken(t, admin), buildToken(t, reader)]);
    adminWeb = new Client(t.app);
    readerWeb = new Client(t.app);
    assert.equal((await adminWeb.login(admin.username, admin.password)).status, 303);
    assert.equal((await readerWeb.login(reader.username, reader.password)).status, 303);
    const post = await apiRequest(t.app, 'POST', '/api/v1/posts', { token: adminToken, body: { title: 'Talk', body: 'About it', status: 'published' } });
    slug = post.json().slug;
  });
  after(() => t.close());

  const errorsOf = (res: { json(): { errors: { field: string; message: string }[] } }) => res.json().errors;

  test('a blank or too long comment: the same message in problem+json and beside the form’s field, the text kept', async () => {
    for (const body of ['  \n ', 'x'.repeat(10_001)]) {
      const api = await apiRequest(t.app, 'POST', `/api/v1/posts/${slug}/comments`, { token: readerToken, body: { body } });
      assert.equal(api.statusCode, 422);
      const errors = errorsOf(api);
      assert.deepEqual(
        errors.map((e) => e.field),
        ['body'],
      );
      await readerWeb.get(`/posts/${slug}`);
      const form = await readerWeb.postForm(`/posts/${slug}/comments`, { body, website: '' });
      assert.equal(form.status, 422);
      assert.equal(sameMessages(errors, form.body), null, sameMessages(errors, form.body) ?? '');
      if (body.length > 100) assert.ok(form.body.includes(body), 'the comment comes back as typed');
    }
    // A reply to a comment id that is no number: the field is named in both.
    const api = await apiRequest(t.app, 'POST', `/api/v1/posts/${slug}/comments`, { token: readerToken, body: { body: 'Hi', parentId: 'first' } });
    await readerWeb.get(`/posts/${slug}`);
    const form = await readerWeb.postForm(`/posts/${slug}/comments`, { body: 'Hi', parentId: 'first' });
    assert.equal(api.statusCode, 422);
    assert.equal(form.status, 422);
    assert.deepEqual(
      errorsOf(api).map((e) => e.field),
      ['parentId'],
    );
    assert.match(form.body, /Your comment/);
  });

  test('a redirect with a blank source and a kind that does not exist reads the same in both, the input kept', async () => {
    const api = await apiRequest(t.app, 'POST', '/api/v1/redirects', { token: adminToken, body: { from: ' ', to: '/posts/talk', status: 307 } });
    assert.equal(api.statusCode, 422);
    const errors = errorsOf(api);
    assert.deepEqual(errors.map((e) => e.field).sort(), ['from', 'status']);
    await adminWeb.get('/admin/redirects');
    const form = await adminWeb.postForm('/admin/redirects', { from: ' ', to: '/posts/talk', status: '307' });
    assert.equal(form.status, 422);
    // The form has no field for a kind it does not offer: the summary lists it.
    assert.equal(
      sameMessages(
        errors.filter((e) => e.field === 'from'),
        form.body,
      ),
      null,
    );
    assert.match(form.body, new RegExp(`Kind ${errors.find((e) => e.field === 'status')!.message.replace(/"/g, '&#34;')}`));
    assert.match(form.body, /name="to"[^>]*value="\/posts\/talk"/);
    // A kind the form does offer is read as a number.
    await adminWeb.get('/admin/redirects');
    const ok = await adminWeb.postForm('/admin/redirects', { from: '/old-talk', to: '/posts/talk', status: '302' });
    assert.equal(ok.status, 303);
    const list = (await apiRequest(t.app, 'GET', '/api/v1/redirects', { token: adminToken })).json() as { from: string; status: number }[];
    assert.equal(list.find((r) => r.from === '/old-talk')?.status, 302);
  });

  test('a page with a blank title and a bad slug: the same messages in both; an emptied description is cleared', async () => {
    const bad = { title: ' ', slug: 'Not A Slug', body: 'Text' };
    const api = await apiRequest(t.app, 'POST', '/api/v1/pages', { token: adminToken, body: bad });
    assert.equal(api.statusCode, 422);
    const errors = errorsOf(api);
    assert.deepEqual(errors.map((e) => e.field).sort(), ['slug', 'title']);
    await adminWeb.get('/admin/pages/new');
    const form = await adminWeb.postForm('/admin/pages', { ...bad, description: 'Kept', imageId: '', status: 'draft' });
    assert.equal(form.status, 422);
    assert.equal(sameMessages(errors, form.body), null, sameMessages(errors, form.body) ?? '');
    assert.match(form.body, /name="description"[^>]*value="Kept"/);

    const created = await apiRequest(t.app, 'POST', '/api/v1/pages', {
      token: adminToken,
      body: { title: 'Colophon', body: 'Text', description: 'Old words' },
    });
    const { id } = created.json().page;
    await adminWeb.get(`/admin/pages/${id}/edit`);
    const saved = await adminWeb.postForm(`/admin/pages/${id}`, {
      title: 'Colophon',
      slug: '',
      description: '',
      body: 'Text',
      imageId: '',
      status: 'published',
    });
    assert.equal(saved.status, 303);
    const page = (await apiRequest(t.app, 'GET', `/api/v1/pages/${id}`, { token: adminToken })).json().page;
    assert.equal(page.slug, 'colophon', 'an empty slug keeps the page’s address');
    assert.notEqual(page.description, 'Old words', 'an emptied description is cleared');
    assert.equal(formFieldErrors(saved.body).size, 0);
  });
});
