import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

eachDatabase('safer publishing', (dialect) => {
  let t: TestApp;
  let author: TestUser, other: TestUser, admin: TestUser, reader: TestUser;
  let authorToken: string, otherToken: string, adminToken: string, readerToken: string;
  let authorWeb: Client;
  let n = 0;

  before(async () => {
    t = await buildTestApp(dialect);
    [author, other, admin, reader] = await Promise.all([
      buildUser(t, { role: 'author' }),
      buildUser(t, { role: 'author' }),
      buildUser(t, { role: 'admin' }),
      buildUser(t, { role: 'reader' }),
    ]);
    [authorToken, otherToken, adminToken, readerToken] = await Promise.all([author, other, admin, reader].map((u) => buildToken(t, u)));
    authorWeb = new Client(t.app);
    assert.equal((await authorWeb.login(author.username, author.password)).status, 303);
  });
  after(() => t.close());

  const call = (method: string, url: string, token?: string, body?: unknown) => apiRequest(t.app, method, url, { token, body });
  async function newPost(fields: Record<string, unknown> = {}) {
    n += 1;
    const res = await call('POST', '/api/v1/posts', authorToken, {
      title: `Safe post ${n}`,
      body: `Body of safe post ${n} about zanzibarite${n}`,
      tags: [`safetag${n}`],
      status: 'published',
      ...fields,
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: number; slug: string; title: string; status: string };
  }

  test('a scheduled post shows "Scheduled for <date and time>" on the dashboard and its page, to its writer only', async () => {
    const post = await newPost({ status: 'scheduled', publishedAt: '2030-01-02T09:30:00Z' });
    const dash = await authorWeb.get('/admin/posts');
    assert.match(dash.body, /Scheduled for <time datetime="2030-01-02T09:30:00.000Z">2 January 2030, 09:30 UTC<\/time>/);
    const page = await authorWeb.get(`/posts/${post.slug}`);
    assert.match(page.body, /Scheduled for <time datetime="2030-01-02T09:30:00.000Z">2 January 2030, 09:30 UTC<\/time>/);
    assert.equal((await new Client(t.app).get(`/posts/${post.slug}`)).status, 404);
  });

  test('editing a published post says Update; Unpublish is its own button, and saving never unpublishes', async () => {
    const post = await newPost();
    const edit = await authorWeb.get(`/posts/${post.slug}/edit`);
    assert.match(edit.body, /<button type="submit" name="status" value="published">Update<\/button>/);
    assert.doesNotMatch(edit.body, /Save as draft/);
    assert.match(edit.body, new RegExp(`action="/posts/${post.slug}/unpublish"`));
    // A form sent without a button (Enter in a field) keeps the post online.
    const saved = await authorWeb.postForm(`/posts/${post.slug}`, {
      _method: 'PUT',
      title: 'Still online',
      slug: post.slug,
      body: 'Edited',
      excerpt: '',
      tags: '',
    });
    assert.equal(saved.status, 303);
    assert.equal((await new Client(t.app).get(`/posts/${post.slug}`)).status, 200);
    // The API keeps the status unless it is named.
    const patched = await call('PATCH', `/api/v1/posts/${post.id}`, authorToken, { body: 'Edited again' });
    assert.equal(patched.json().status, 'published');

    await authorWeb.get(`/posts/${post.slug}/edit`);
    const off = await authorWeb.postForm(`/posts/${post.slug}/unpublish`, {});
    assert.equal(off.status, 303);
    assert.equal((await new Client(t.app).get(`/posts/${post.slug}`)).status, 404);
    assert.match((await authorWeb.get(`/posts/${post.slug}`)).body, /Post unpublished/);
    const draftEdit = await authorWeb.get(`/posts/${post.slug}/edit`);
    assert.match(draftEdit.body, /Save as draft/);
    assert.match(draftEdit.body, />Publish<\/button>/);
  });

  test('a secret preview link shows a draft without an account, marked and noindex, until revoked', async () => {
    const post = await newPost({ status: 'draft', body: 'Secret draft words' });
    await authorWeb.get(`/posts/${post.slug}/edit`);
    const made = await authorWeb.postForm(`/posts/${post.slug}/preview`, {});
    assert.equal(made.status, 200);
    const url = /value="(http[^"]+\/preview\/[^"]+)"/.exec(made.body)?.[1];
    assert.ok(url, 'the page shows the link');
    const path = new URL(url).pathname;
    const token = path.split('/').pop()!;
    // Only the hash is stored.
    const stored = await t.db.kysely.selectFrom('post_previews').selectAll().where('post_id', '=', post.id).executeTakeFirstOrThrow();
    assert.notEqual(stored.token_hash, token);
    assert.ok(!JSON.stringify(stored).includes(token));

    const anon = await new Client(t.app).get(path);
    assert.equal(anon.status, 200);
    assert.match(anon.body, /Secret draft words/);
    assert.match(anon.body, /<meta name="robots" content="noindex">/);
    assert.match(anon.body, /class="notice preview"[^>]*>Preview/);
    assert.equal(anon.headers['cache-control'], 'no-store');
    assert.equal((await new Client(t.app).get('/preview/not-a-real-token')).status, 404);

    const edit = await authorWeb.get(`/posts/${post.slug}/edit`);
    assert.match(edit.body, /is live/);
    const revoked = await authorWeb.postForm(`/posts/${post.slug}/preview/revoke`, {});
    assert.equal(revoked.status, 303);
    assert.equal((await new Client(t.app).get(path)).status, 404);

    // The API: make, use, revoke; other writers may not; a published post has no preview.
    const apiMade = await call('POST', `/api/v1/posts/${post.id}/preview`, authorToken);
    assert.equal(apiMade.statusCode, 201, apiMade.body);
    const apiPath = new URL(apiMade.json().url).pathname;
    assert.equal((await new Client(t.app).get(apiPath)).status, 200);
    assert.equal((await call('POST', `/api/v1/posts/${post.id}/preview`, otherToken)).statusCode, 404);
    assert.equal((await call('DELETE', `/api/v1/posts/${post.id}/preview`, authorToken)).statusCode, 204);
    assert.equal((await new Client(t.app).get(apiPath)).status, 404);
    const published = await newPost();
    const refused = await call('POST', `/api/v1/posts/${published.id}/preview`, authorToken);
    assert.equal(refused.statusCode, 409);
  });

  async function hiddenEverywhere(post: { id: number; slug: string; title: string }, hidden: boolean) {
    const anon = new Client(t.app);
    const check = (cond: boolean, what: string) => assert.equal(cond, !hidden, `${what} ${hidden ? 'hides' : 'shows'} the post`);
    check((await anon.get(`/posts/${post.slug}`)).status === 200, 'its address');
    check((await anon.get('/')).body.includes(`/posts/${post.slug}"`), 'the front page');
    check((await anon.get(`/tags/safetag${post.title.split(' ').pop()}`)).body.includes(`/posts/${post.slug}"`), 'the tag page');
    check((await anon.get(`/search?q=zanzibarite${post.title.split(' ').pop()}`)).body.includes(`/posts/${post.slug}"`), 'search');
    check((await anon.get('/feed.xml')).body.includes(`/posts/${post.slug}<`), 'the RSS feed');
    check((await anon.get('/sitemap.xml')).body.includes(`/posts/${post.slug}<`), 'the sitemap');
    check((await call('GET', `/api/v1/posts/${post.id}`)).statusCode === 200, 'the API');
    check(
      (await call('GET', '/api/v1/posts?limit=100')).json().posts.some((p: { id: number }) => p.id === post.id),
      'the API list',
    );
    check((await call('GET', `/realworld/api/articles/${post.slug}`)).statusCode === 200, 'RealWorld');
  }

  test('delete asks first, moves the post to the trash (hidden everywhere), and restore brings it all back', async () => {
    const post = await newPost();
    await hiddenEverywhere(post, false);
    const confirm = await authorWeb.get(`/posts/${post.slug}/delete`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.body, /Move to the trash/);
    assert.equal((await new Client(t.app).get(`/posts/${post.slug}/delete`)).status, 303, 'to the login page');
    const trashed = await authorWeb.postForm(`/posts/${post.slug}`, { _method: 'DELETE' });
    assert.equal(trashed.status, 303);
    await hiddenEverywhere(post, true);

    const trash = await authorWeb.get('/admin/posts/trash');
    assert.match(trash.body, new RegExp(post.title));
    assert.doesNotMatch(trash.body, /Delete for good/, 'only admins delete for good');
    assert.doesNotMatch((await authorWeb.get('/admin/posts')).body, new RegExp(`>${post.title}<`));
    const restored = await authorWeb.postForm(`/admin/posts/trash/${post.id}/restore`, {});
    assert.equal(restored.status, 303);
    assert.equal(restored.headers.location, `/posts/${post.slug}`);
    await hiddenEverywhere(post, false);

    // Webhooks hear post.deleted when it left the blog and post.published when it came back.
    const events = await t.db.kysely.selectFrom('events').select(['type', 'payload']).orderBy('id').execute();
    const mine = events.filter((e) => JSON.parse(e.payload).postId === post.id).map((e) => e.type);
    assert.deepEqual(mine, ['post.published', 'post.deleted', 'post.published']);
  });

  test('the API: DELETE trashes, ?status=trashed lists, restore, and ?permanent=true for admins only', async () => {
    const post = await newPost();
    assert.equal((await call('DELETE', `/api/v1/posts/${post.id}`, authorToken)).statusCode, 204);
    assert.equal((await call('GET', `/api/v1/posts/${post.id}`, authorToken)).statusCode, 404);
    const mine = await call('GET', '/api/v1/posts?status=trashed', authorToken);
    assert.equal(mine.statusCode, 200);
    const listed = mine.json().posts.find((p: { id: number }) => p.id === post.id);
    assert.ok(listed?.deletedAt, 'in the trash, with its deletion time');
    assert.ok(!(await call('GET', '/api/v1/posts?status=trashed', otherToken)).json().posts.some((p: { id: number }) => p.id === post.id));
    assert.equal((await call('GET', '/api/v1/posts?status=trashed', readerToken)).statusCode, 403);
    assert.equal((await call('GET', '/api/v1/posts?status=trashed')).statusCode, 401);
    assert.equal((await call('POST', `/api/v1/posts/${post.id}/restore`, otherToken)).statusCode, 404);
    const back = await call('POST', `/api/v1/posts/${post.id}/restore`, authorToken);
    assert.equal(back.statusCode, 200, back.body);
    assert.equal(back.json().status, 'published');
    assert.equal(back.json().deletedAt, null);
    assert.equal((await call('POST', `/api/v1/posts/${post.id}/restore`, authorToken)).statusCode, 409);

    assert.equal((await call('DELETE', `/api/v1/posts/${post.id}?permanent=true`, authorToken)).statusCode, 403);
    assert.equal((await call('DELETE', `/api/v1/posts/${post.id}?permanent=maybe`, adminToken)).statusCode, 422);
    assert.equal((await call('DELETE', `/api/v1/posts/${post.id}`, authorToken)).statusCode, 204);
    assert.equal((await call('DELETE', `/api/v1/posts/${post.id}?permanent=true`, adminToken)).statusCode, 204);
    assert.equal(await t.db.kysely.selectFrom('posts').select('id').where('id', '=', post.id).executeTakeFirst(), undefined);
    assert.equal((await call('POST', `/api/v1/posts/${post.id}/restore`, adminToken)).statusCode, 404);
  });

  test('RealWorld DELETE /articles/:slug: the article is gone for clients, and in the trash for its author', async () => {
    const rwToken = (await call('POST', '/realworld/api/users/login', undefined, { user: { email: author.email, password: author.password } })).json().user
      .token;
    const post = await newPost();
    const del = await apiRequest(t.app, 'DELETE', `/realworld/api/articles/${post.slug}`, { token: rwToken, scheme: 'Token' });
    assert.ok([200, 204].includes(del.statusCode), del.body);
    assert.equal((await call('GET', `/realworld/api/articles/${post.slug}`)).statusCode, 404);
    assert.ok(!(await call('GET', '/realworld/api/articles?limit=100')).json().articles.some((a: { slug: string }) => a.slug === post.slug));
    assert.ok((await call('GET', '/api/v1/posts?status=trashed', authorToken)).json().posts.some((p: { id: number }) => p.id === post.id));
    assert.equal((await call('POST', `/api/v1/posts/${post.id}/restore`, authorToken)).statusCode, 200);
    assert.equal((await call('GET', `/realworld/api/articles/${post.slug}`)).statusCode, 200);
  });

  test('each save of a published post keeps the previous version; the author views and restores one', async () => {
    const post = await newPost({ title: 'Revised post', body: 'First words' });
    await call('PATCH', `/api/v1/posts/${post.id}`, authorToken, { body: 'Second words' });
    await call('PATCH', `/api/v1/posts/${post.id}`, authorToken, { title: 'Revised post, again', body: 'Third words' });
    const list = await call('GET', `/api/v1/posts/${post.id}/revisions`, authorToken);
    assert.equal(list.statusCode, 200);
    const revisions = list.json().revisions as { id: number; title: string }[];
    assert.deepEqual(
      revisions.map((r) => r.title),
      ['Revised post', 'Revised post'],
    );
    const first = await call('GET', `/api/v1/posts/${post.id}/revisions/${revisions[1].id}`, authorToken);
    assert.equal(first.json().body, 'First words');
    assert.equal((await call('GET', `/api/v1/posts/${post.id}/revisions`, otherToken)).statusCode, 403);
    assert.equal((await call('GET', `/api/v1/posts/${post.id}/revisions/999999`, authorToken)).statusCode, 404);

    // In the HTML pages: the list, one version, and its restore button.
    const page = await authorWeb.get(`/posts/${post.slug}/revisions`);
    assert.match(page.body, new RegExp(`href="/posts/${post.slug}/revisions/${revisions[1].id}"`));
    const one = await authorWeb.get(`/posts/${post.slug}/revisions/${revisions[1].id}`);
    assert.match(one.body, /First words/);
    const restored = await authorWeb.postForm(`/posts/${post.slug}/revisions/${revisions[1].id}/restore`, {});
    assert.equal(restored.status, 303);
    const now = await call('GET', `/api/v1/posts/${post.id}`);
    assert.equal(now.json().body, 'First words');
    assert.equal(now.json().title, 'Revised post');
    assert.equal(now.json().status, 'published');
    const after = (await call('GET', `/api/v1/posts/${post.id}/revisions`, authorToken)).json().revisions as { title: string }[];
    assert.equal(after[0].title, 'Revised post, again', 'the replaced version is kept too');
    // Drafts are not versioned.
    const draft = await newPost({ status: 'draft' });
    await call('PATCH', `/api/v1/posts/${draft.id}`, authorToken, { body: 'changed' });
    assert.deepEqual((await call('GET', `/api/v1/posts/${draft.id}/revisions`, authorToken)).json().revisions, []);
  });
});

eachDatabase('the trash purge', (dialect) => {
  let t: TestApp;
  let now = new Date('2026-12-01T12:00:00Z');
  const clock = { now: () => now };
  before(async () => {
    t = await buildTestApp(dialect, { clock });
  });
  after(() => t.close());

  test('a trashed post is removed for good, with its comments, 30 days later by the schedule; restorable until then', async () => {
    const author = await buildUser(t, { role: 'author' });
    const token = await buildToken(t, author);
    const call = (method: string, url: string, body?: unknown) => apiRequest(t.app, method, url, { token, body });
    const mk = async (title: string) => {
      const res = await call('POST', '/api/v1/posts', { title, body: 'x', status: 'published' });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as number;
    };
    const [old, kept] = [await mk('Purged soon'), await mk('Restored in time')];
    const c = await call('POST', `/api/v1/posts/${old}/comments`, { body: 'A comment to go with it' });
    assert.equal(c.statusCode, 201, c.body);
    await t.scheduler.tick(); // the first tick starts the count
    assert.equal((await call('DELETE', `/api/v1/posts/${old}`)).statusCode, 204);
    assert.equal((await call('DELETE', `/api/v1/posts/${kept}`)).statusCode, 204);

    now = new Date(now.getTime() + 29 * 86_400_000);
    await t.scheduler.tick();
    assert.ok(await t.db.kysely.selectFrom('posts').select('id').where('id', '=', old).executeTakeFirst(), 'still in the trash after 29 days');
    assert.equal((await call('POST', `/api/v1/posts/${kept}/restore`)).statusCode, 200);

    now = new Date(now.getTime() + 2 * 86_400_000);
    assert.equal((await call('POST', `/api/v1/posts/${old}/restore`)).statusCode, 404, 'past 30 days it cannot come back');
    await t.scheduler.tick();
    assert.equal(await t.db.kysely.selectFrom('posts').select('id').where('id', '=', old).executeTakeFirst(), undefined);
    assert.equal((await t.db.kysely.selectFrom('comments').select('id').where('post_id', '=', old).execute()).length, 0);
    assert.ok(await t.db.kysely.selectFrom('posts').select('id').where('id', '=', kept).executeTakeFirst(), 'the restored post stays');
  });
});

eachDatabase('scheduled times in the site time zone', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp(dialect, { env: { TIMEZONE: 'Europe/Berlin' } });
  });
  after(() => t.close());

  test('"Scheduled for" reads in TIMEZONE, with the exact instant alongside', async () => {
    const author = await buildUser(t, { role: 'author' });
    const token = await buildToken(t, author);
    const res = await apiRequest(t.app, 'POST', '/api/v1/posts', {
      token,
      body: { title: 'Berlin time', body: 'x', status: 'scheduled', publishedAt: '2030-07-02T09:30:00Z' },
    });
    assert.equal(res.statusCode, 201, res.body);
    const c = new Client(t.app);
    await c.login(author.username, author.password);
    const expected = /Scheduled for <time datetime="2030-07-02T09:30:00.000Z">2 July 2030, 11:30 CEST<\/time>/;
    assert.match((await c.get('/admin/posts')).body, expected);
    assert.match((await c.get('/posts/berlin-time')).body, expected);
  });
});
