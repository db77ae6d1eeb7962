import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';

eachDatabase('posts through HTML forms', (dialect) => {
  let t: TestApp;
  let author: TestUser, other: TestUser, editor: TestUser, reader: TestUser;

  before(async () => {
    t = await buildTestApp(dialect);
    [author, other, editor, reader] = await Promise.all([
      buildUser(t, { role: 'author' }),
      buildUser(t, { role: 'author' }),
      buildUser(t, { role: 'editor' }),
      buildUser(t, { role: 'reader' }),
    ]);
  });
  after(() => t.close());

  // One session per user for the whole suite: logins are rate limited per IP.
  const sessions = new Map<number, Client>();
  async function loggedIn(user: TestUser): Promise<Client> {
    let c = sessions.get(user.id);
    if (!c) {
      c = new Client(t.app);
      const res = await c.login(user.username, user.password);
      assert.equal(res.status, 303, 'login redirects');
      sessions.set(user.id, c);
    }
    return c;
  }

  test('the front page lists the seeded welcome post', async () => {
    for (const url of ['/', '/posts']) {
      const res = await new Client(t.app).get(url);
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, /<a href="\/posts\/welcome-to-inkwell">Welcome to Inkwell<\/a>/);
    }
  });

  test('write, publish, see the flash, edit and delete through forms', async () => {
    const c = await loggedIn(author);
    assert.equal((await c.get('/posts/new')).status, 200);
    const created = await c.postForm('/posts', {
      title: 'My first form post',
      slug: '',
      body: 'Hello **world**',
      excerpt: '',
      tags: 'Life, Code',
      status: 'published',
    });
    assert.equal(created.status, 303);
    assert.equal(created.headers.location, '/posts/my-first-form-post');

    const page = await c.get('/posts/my-first-form-post');
    assert.equal(page.status, 200);
    assert.match(page.body, /class="flash flash-success"[^>]*>Post published</);
    assert.match(page.body, /<strong>world<\/strong>/);
    assert.match(page.body, /href="\/tags\/code">Code</);
    const again = await c.get('/posts/my-first-form-post');
    assert.doesNotMatch(again.body, /Post published/, 'a flash shows once');

    const list = await c.get('/posts');
    assert.match(list.body, /href="\/posts\/my-first-form-post">My first form post</);
    const tag = await c.get('/tags/life');
    assert.equal(tag.status, 200);
    assert.match(tag.body, /My first form post/);

    await c.get('/posts/my-first-form-post/edit');
    const edited = await c.postForm('/posts/my-first-form-post', {
      _method: 'PUT',
      title: 'Renamed post',
      slug: 'renamed',
      body: 'Changed',
      excerpt: '',
      tags: '',
      status: 'published',
    });
    assert.equal(edited.status, 303);
    assert.equal(edited.headers.location, '/posts/renamed');
    const renamed = await c.get('/posts/renamed');
    assert.match(renamed.body, /Post updated/);
    assert.match(renamed.body, /<h1>Renamed post/);
    // The old address leads to the new one (redirects, once post.slug_changed is handled).
    await t.queue.drain();
    const old = await c.get('/posts/my-first-form-post');
    assert.equal(old.status, 301);
    assert.equal(old.headers.location, '/posts/renamed');

    await c.get('/admin/posts');
    assert.match(c.lastBody, /Renamed post/);
    const deleted = await c.postForm('/posts/renamed', { _method: 'DELETE' });
    assert.equal(deleted.status, 303);
    assert.equal(deleted.headers.location, '/admin/posts');
    const dash = await c.get('/admin/posts');
    assert.match(dash.body, /Post “Renamed post” moved to the trash/);
    assert.equal((await c.get('/posts/renamed')).status, 404);
  });

  test("headings in a body start at <h2>: the post title stays the page's only <h1>", async () => {
    const c = await loggedIn(author);
    const body = '# Part one\n\ntext\n\n## Detail\n\n##### Five\n\n###### Six\n\nSetext\n======\n';
    await c.get('/posts/new');
    const created = await c.postForm('/posts', { title: 'Outline post', slug: '', body, excerpt: '', tags: '', status: 'published' });
    assert.equal(created.status, 303);
    const page = await new Client(t.app).get('/posts/outline-post');
    assert.equal(page.status, 200);
    assert.equal(page.body.match(/<h1[\s>]/g)?.length, 1, 'one <h1> on the page');
    assert.match(page.body, /<h1>Outline post/);
    assert.match(page.body, /<h2>Part one<\/h2>/);
    assert.match(page.body, /<h3>Detail<\/h3>/);
    assert.match(page.body, /<h6>Five<\/h6>/);
    assert.match(page.body, /<h6>Six<\/h6>/, 'h6 stays h6');
    assert.match(page.body, /<h2>Setext<\/h2>/);
  });

  test('posts stored before headings moved down get them moved down once', async () => {
    const { up } = await import('../../../migrations/2026-11-30-0009-body-headings-from-h2.ts');
    const c = await loggedIn(author);
    await c.get('/posts/new');
    await c.postForm('/posts', { title: 'Old outline', slug: '', body: 'x', excerpt: '', tags: '', status: 'published' });
    const old = '<h1>One</h1><h2>Two</h2><h5>Five</h5><h6>Six</h6><p>&lt;h1&gt; as text</p>';
    await t.db.kysely.updateTable('posts').set({ body_html: old }).where('slug', '=', 'old-outline').execute();
    await up(t.db.kysely);
    const row = await t.db.kysely.selectFrom('posts').select('body_html').where('slug', '=', 'old-outline').executeTakeFirstOrThrow();
    assert.equal(row.body_html, '<h2>One</h2><h3>Two</h3><h6>Five</h6><h6>Six</h6><p>&lt;h1&gt; as text</p>');
  });

  test('saving a draft says so, and the draft is hidden from others', async () => {
    const c = await loggedIn(author);
    await c.get('/posts/new');
    const res = await c.postForm('/posts', { title: 'Work in progress', body: 'wip', tags: '', status: 'draft' });
    assert.equal(res.status, 303);
    assert.match((await c.get(res.headers.location as string)).body, /Draft saved/);
    assert.equal((await new Client(t.app).get('/posts/work-in-progress')).status, 404);
    assert.equal((await (await loggedIn(other)).get('/posts/work-in-progress')).status, 404);
    assert.equal((await (await loggedIn(editor)).get('/posts/work-in-progress')).status, 200);
    assert.doesNotMatch((await new Client(t.app).get('/posts')).body, /Work in progress/);
  });

  test('invalid input: 422, the form again with input kept and each error beside its field', async () => {
    const c = await loggedIn(author);
    await c.get('/posts/new');
    const res = await c.postForm('/posts', { title: '  ', slug: 'Not A Slug', body: 'kept <body> text', tags: 'ok', status: 'published' });
    assert.equal(res.status, 422);
    assert.match(res.body, /id="title-error">Title cannot be blank/);
    assert.match(res.body, /id="slug-error">Slug may contain only lowercase/);
    assert.match(res.body, /value="Not A Slug"/);
    assert.match(res.body, />kept &#60;body&#62; text<\/textarea>/);
    assert.match(res.body, /aria-invalid="true"/);
    assert.match(res.body, /role="alert"/);

    await c.get('/posts/new');
    await c.postForm('/posts', { title: 'Taken', body: 'x', status: 'published' });
    await c.get('/posts/new');
    const clash = await c.postForm('/posts', { title: 'Another', slug: 'taken', body: 'y', status: 'published' });
    assert.equal(clash.status, 409);
    assert.match(clash.body, /id="slug-error">Slug is already used by another post/);
    assert.match(clash.body, /value="Another"/);
  });

  test('a forged form (no or wrong CSRF token) gets 403 and changes nothing', async () => {
    const c = await loggedIn(author);
    const noToken = await c.request('POST', '/posts', { form: { title: 'Forged', body: 'x', status: 'published' } });
    assert.equal(noToken.status, 403);
    const wrong = await c.request('POST', '/posts', { form: { _csrf: 'abc', title: 'Forged', body: 'x', status: 'published' } });
    assert.equal(wrong.status, 403);
    const json = await c.request('POST', '/api/v1/posts', { json: { title: 'Forged', body: 'x', status: 'published' } });
    assert.equal(json.status, 403, 'a cookie-authenticated API call needs X-CSRF-Token too');
    assert.equal((await c.get('/posts/forged')).status, 404);

    await c.get('/posts');
    const token = /name="csrf-token" content="([^"]+)"/.exec(c.lastBody)![1];
    const withHeader = await c.request('POST', '/api/v1/posts', {
      json: { title: 'Via fetch', body: 'x', status: 'published' },
      headers: { 'x-csrf-token': token },
    });
    assert.equal(withHeader.status, 201);
  });

  test('an anonymous API call is a 401, even from a browser that has seen a form', async () => {
    const c = new Client(t.app);
    await c.get('/login');
    assert.ok(c.cookies.has('inkwell_csrf'));
    const res = await c.request('POST', '/api/v1/posts', { json: { title: 'x', body: 'y' } });
    assert.equal(res.status, 401);
  });

  test('fetch() can send real PUT and DELETE to the HTML URLs', async () => {
    const c = await loggedIn(author);
    await c.get('/posts/new');
    await c.postForm('/posts', { title: 'Fetch target', body: 'x', status: 'published' });
    await c.get('/posts');
    const token = c.csrf();
    const put = await c.request('PUT', '/posts/fetch-target', { form: { _csrf: token, title: 'Fetch target v2', body: 'y', status: 'published' } });
    assert.equal(put.status, 303);
    assert.match((await c.get('/posts/fetch-target')).body, /Fetch target v2/);
    await c.get('/posts');
    const del = await c.request('DELETE', '/posts/fetch-target', { headers: { 'x-csrf-token': c.csrf() } });
    assert.equal(del.status, 303);
    assert.equal((await c.get('/posts/fetch-target')).status, 404);
  });

  test("authors cannot edit or delete others' posts; readers cannot write", async () => {
    const owner = await loggedIn(author);
    await owner.get('/posts/new');
    await owner.postForm('/posts', { title: 'Owned post', body: 'x', status: 'published' });

    const intruder = await loggedIn(other);
    assert.equal((await intruder.get('/posts/owned-post/edit')).status, 403);
    await intruder.get('/posts');
    const put = await intruder.postForm('/posts/owned-post', { _method: 'PUT', title: 'Hijacked', body: 'x', status: 'published' });
    assert.equal(put.status, 403);
    await intruder.get('/posts');
    assert.equal((await intruder.postForm('/posts/owned-post', { _method: 'DELETE' })).status, 403);
    assert.match((await intruder.get('/posts/owned-post')).body, /<h1>Owned post/);
    assert.doesNotMatch(intruder.lastBody, /href="\/posts\/owned-post\/edit"/, 'no edit link for others');

    const r = await loggedIn(reader);
    assert.equal((await r.get('/posts/new')).status, 403);
    await r.get('/posts');
    assert.equal((await r.postForm('/posts', { title: 'Reader post', body: 'x', status: 'published' })).status, 403);

    const anon = new Client(t.app);
    const login = await anon.get('/posts/new');
    assert.equal(login.status, 303);
    assert.match(String(login.headers.location), /^\/login\?next=%2Fposts%2Fnew/);
  });

  test("editors see everyone's posts in the dashboard; authors only their own", async () => {
    const a = await loggedIn(other);
    await a.get('/posts/new');
    await a.postForm('/posts', { title: 'Other author post', body: 'x', status: 'draft' });
    const ed = await loggedIn(editor);
    assert.match((await ed.get('/admin/posts')).body, /Other author post/);
    assert.match(ed.lastBody, /All posts/);
    const au = await loggedIn(author);
    assert.doesNotMatch((await au.get('/admin/posts')).body, /Other author post/);
  });

  test('titles are escaped on every page', async () => {
    const c = await loggedIn(author);
    await c.get('/posts/new');
    await c.postForm('/posts', { title: '<script>alert("t")</script>', body: 'b', tags: '<i>tag</i>', status: 'published' });
    for (const url of ['/posts', '/admin/posts', '/tags/i-tag-i']) {
      const res = await c.get(url);
      assert.equal(res.status, 200);
      assert.doesNotMatch(res.body, /<script>alert|<i>tag/, `${url} escapes titles and tags`);
    }
    // In feeds the title is character data (CDATA or escaped), never markup.
    for (const url of ['/feed.xml', '/atom.xml']) {
      const xml = (await c.get(url)).body;
      assert.ok(xml.includes('<![CDATA[<script>alert("t")</script>]]>') || xml.includes('&lt;script&gt;'), url);
      assert.doesNotMatch(xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ''), /<script/);
    }
  });

  test('a bad page cursor is a 400 page, not a 500', async () => {
    const res = await new Client(t.app).get('/posts?before=%%%');
    assert.equal(res.status, 400);
    assert.match(res.body, /page marker is not valid/);
  });
  test('tags used only by drafts, scheduled or trashed posts stay secret: not in the tag list, and their page is a 404', async () => {
    const token = await buildToken(t, author);
    const create = (body: object) => t.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${token}` }, payload: body });
    const later = new Date(Date.now() + 7 * 86_400_000).toISOString();
    assert.equal((await create({ title: 'Secret plans', body: 'x', status: 'draft', tags: ['Secret Launch'] })).statusCode, 201);
    assert.equal((await create({ title: 'Coming soon', body: 'x', status: 'scheduled', publishedAt: later, tags: ['Next Week'] })).statusCode, 201);
    assert.equal((await create({ title: 'Out now', body: 'x', status: 'published', tags: ['Public Tag', 'Secret Launch Two'] })).statusCode, 201);
    assert.equal((await create({ title: 'Still drafting', body: 'x', status: 'draft', tags: ['Secret Launch Two'] })).statusCode, 201);
    const gone = (await create({ title: 'Taken down', body: 'x', status: 'published', tags: ['Withdrawn'] })).json();
    const trashed = await t.app.inject({ method: 'DELETE', url: `/api/v1/posts/${gone.slug}`, headers: { authorization: `Bearer ${token}` } });
    assert.ok(trashed.statusCode < 300, `trashing answered ${trashed.statusCode}`);

    const tags = (await t.app.inject({ method: 'GET', url: '/realworld/api/tags' })).json().tags as string[];
    assert.ok(tags.includes('Public Tag'));
    assert.ok(tags.includes('Secret Launch Two'), 'a tag on a published post is public, even if drafts carry it too');
    assert.ok(!tags.includes('Secret Launch'), 'a draft-only tag is not listed');
    assert.ok(!tags.includes('Next Week'), 'a scheduled-only tag is not listed');
    assert.ok(!tags.includes('Withdrawn'), 'a tag only on a trashed post is not listed');

    const anon = new Client(t.app);
    assert.equal((await anon.get('/tags/public-tag')).status, 200);
    const unknown = await anon.get('/tags/no-such-tag-at-all');
    assert.equal(unknown.status, 404);
    for (const slug of ['secret-launch', 'next-week', 'withdrawn']) {
      const res = await anon.get(`/tags/${slug}`);
      assert.equal(res.status, 404, `/tags/${slug} answers like an unknown tag`);
      assert.doesNotMatch(res.body, /Secret Launch|Next Week/);
    }
  });
});
