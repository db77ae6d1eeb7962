import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

eachDatabase('comments', (dialect) => {
  let t: TestApp;
  let now = new Date('2026-11-23T12:00:00Z');
  const clock = { now: () => now };
  let writer: TestUser, ann: TestUser, bob: TestUser, cat: TestUser, editor: TestUser;
  const clients = new Map<number, Client>();
  const tokens = new Map<number, string>();

  before(async () => {
    t = await buildTestApp(dialect, { clock });
    [writer, ann, bob, cat, editor] = await Promise.all([
      buildUser(t, { role: 'author' }),
      buildUser(t, { role: 'reader' }),
      buildUser(t, { role: 'reader' }),
      buildUser(t, { role: 'reader' }),
      buildUser(t, { role: 'editor' }),
    ]);
    for (const u of [writer, ann, bob, cat, editor]) tokens.set(u.id, await buildToken(t, u));
  });
  after(() => t.close());

  async function as(u: TestUser): Promise<Client> {
    let c = clients.get(u.id);
    if (!c) {
      c = new Client(t.app);
      assert.equal((await c.login(u.username, u.password)).status, 303);
      clients.set(u.id, c);
    }
    return c;
  }
  const api = (u: TestUser | null, method: string, url: string, body?: unknown) =>
    apiRequest(t.app, method, url, { token: u ? tokens.get(u.id) : undefined, body });
  let n = 0;
  async function newPost(status = 'published') {
    n += 1;
    const res = await api(writer, 'POST', '/api/v1/posts', { title: `Commented post ${n}`, body: 'Talk about it', status });
    return res.json() as { id: number; slug: string };
  }
  async function comment(u: TestUser, postId: number, body: string, parentId?: number) {
    now = new Date(now.getTime() + 61_000); // stay under the per-minute limit
    const res = await api(u, 'POST', `/api/v1/posts/${postId}/comments`, { body, ...(parentId ? { parentId } : {}) });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: number; status: string; depth: number };
  }

  test('comment and reply through the forms; 303 back to the anchor with a flash', async () => {
    const post = await newPost();
    const c = await as(ann);
    await c.get(`/posts/${post.slug}`);
    const res = await c.postForm(`/posts/${post.slug}/comments`, { body: 'First! *Nice* post.', website: '' });
    assert.equal(res.status, 303);
    const id = /#comment-(\d+)$/.exec(String(res.headers.location))![1];
    const page = await c.get(`/posts/${post.slug}`);
    assert.match(page.body, /Comment posted/);
    assert.match(page.body, new RegExp(`id="comment-${id}"`));
    assert.match(page.body, /<em>Nice<\/em>/);

    const b = await as(bob);
    assert.equal((await b.get(`/posts/${post.slug}/comments/new?parent=${id}`)).status, 200);
    assert.match(b.lastBody, /First!/, 'the reply page quotes the comment answered');
    const reply = await b.postForm(`/posts/${post.slug}/comments`, { body: 'Agreed.', parentId: id });
    assert.equal(reply.status, 303);
    const thread = (await api(null, 'GET', `/api/v1/posts/${post.slug}/comments`)).json();
    assert.deepEqual(
      thread.comments.map((x: { body: string; depth: number }) => [x.body, x.depth]),
      [
        ['First! *Nice* post.', 0],
        ['Agreed.', 1],
      ],
    );
    assert.equal(thread.count, 2);
  });

  test('deep replies are drawn three levels deep, then flattened with "in reply to"', async () => {
    const post = await newPost();
    const a = await comment(ann, post.id, 'level 0');
    const b = await comment(bob, post.id, 'level 1', a.id);
    const c = await comment(cat, post.id, 'level 2', b.id);
    const d = await comment(ann, post.id, 'level 3', c.id);
    const e = await comment(bob, post.id, 'level 4', d.id);
    assert.deepEqual(
      [a, b, c, d, e].map((x) => x.depth),
      [0, 1, 2, 2, 2],
    );
    const thread = (await api(null, 'GET', `/api/v1/posts/${post.id}/comments`)).json().comments;
    assert.equal(thread[3].inReplyTo.id, c.id);
    assert.equal(thread[4].inReplyTo.id, d.id);
    const html = (await (await as(ann)).get(`/posts/${post.slug}`)).body;
    assert.match(html, new RegExp(`In reply to <a href="#comment-${d.id}">`));
  });

  test('who may comment: verified, logged in, not banned, on a published post', async () => {
    const post = await newPost();
    assert.equal((await api(null, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'hi' })).statusCode, 401);
    const anon = await new Client(t.app).get(`/posts/${post.slug}/comments/new`);
    assert.equal(anon.status, 303);
    const draft = await newPost('draft');
    assert.equal((await api(ann, 'POST', `/api/v1/posts/${draft.id}/comments`, { body: 'hi' })).statusCode, 404);
    const unverified = await buildUser(t, { role: 'reader' });
    await t.db.kysely.updateTable('users').set({ email_verified_at: null }).where('id', '=', unverified.id).execute();
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/comments`,
      headers: { authorization: `Bearer ${await buildToken(t, unverified)}` },
      payload: { body: 'hi' },
    });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'email_unverified');
  });

  test('bad input: 422 with the field named, the form again with input kept', async () => {
    const post = await newPost();
    const blank = await api(ann, 'POST', `/api/v1/posts/${post.id}/comments`, { body: '   ' });
    assert.equal(blank.statusCode, 422);
    assert.equal(blank.json().errors[0].field, 'body');
    const links = await api(ann, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'http://a.example http://b.example http://c.example http://d.example' });
    assert.equal(links.statusCode, 422);
    assert.match(links.json().errors[0].message, /at most 3 links/);
    assert.equal((await api(ann, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'x'.repeat(5001) })).statusCode, 422);
    assert.equal((await api(ann, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'x', parentId: 999999 })).statusCode, 422);
    assert.equal((await api(ann, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'x', extra: 1 })).statusCode, 422);

    const c = await as(ann);
    await c.get(`/posts/${post.slug}`);
    const form = await c.postForm(`/posts/${post.slug}/comments`, { body: 'http://a.example http://b.example http://c.example http://d.example <b>kept</b>' });
    assert.equal(form.status, 422);
    assert.match(form.body, /id="body-error">Your comment may contain at most 3 links/);
    assert.match(form.body, /&#60;b&#62;kept&#60;\/b&#62;<\/textarea>/);
  });

  test('XSS payloads in comments never become markup', async () => {
    const post = await newPost();
    const payloads = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(2)>',
      '[x](javascript:alert(3))',
      '<a href="javascript:alert(4)">y</a>',
      '"><svg onload=alert(5)>',
    ];
    for (const p of payloads) await comment(ann, post.id, p);
    const page = (await new Client(t.app).get(`/posts/${post.slug}`)).body;
    assert.doesNotMatch(page, /<script(?! src="\/assets\/live\.js" defer><\/script>)/i);
    assert.doesNotMatch(page, /<(img|svg|a)\b[^>]*\son\w+\s*=/i);
    assert.doesNotMatch(page, /href\s*=\s*["']?\s*javascript:/i);
    const thread = (await api(null, 'GET', `/api/v1/posts/${post.id}/comments`)).json().comments;
    for (const c of thread) {
      assert.doesNotMatch(c.bodyHtml, /<script|<(img|svg)\b|<a\b[^>]*\son\w+=|href\s*=\s*["']?\s*javascript:/i);
    }
  });

  test('edit within 15 minutes; delete leaves a placeholder only where replies exist', async () => {
    const post = await newPost();
    const a = await comment(ann, post.id, 'orignal typo');
    assert.equal((await api(bob, 'PATCH', `/api/v1/comments/${a.id}`, { body: 'hijack' })).statusCode, 403);
    const edited = await api(ann, 'PATCH', `/api/v1/comments/${a.id}`, { body: 'original, fixed' });
    assert.equal(edited.statusCode, 200);
    assert.ok(edited.json().editedAt);
    now = new Date(now.getTime() + 16 * 60_000);
    assert.equal((await api(ann, 'PATCH', `/api/v1/comments/${a.id}`, { body: 'too late' })).statusCode, 403);

    const reply = await comment(bob, post.id, 'a reply', a.id);
    const lonely = await comment(cat, post.id, 'nobody answers me');
    assert.equal((await api(bob, 'DELETE', `/api/v1/comments/${a.id}`)).statusCode, 403);
    assert.equal((await api(ann, 'DELETE', `/api/v1/comments/${a.id}`)).statusCode, 204);
    assert.equal((await api(cat, 'DELETE', `/api/v1/comments/${lonely.id}`)).statusCode, 204);
    const thread = (await api(null, 'GET', `/api/v1/posts/${post.id}/comments`)).json().comments;
    assert.deepEqual(
      thread.map((c: { id: number; status: string; body: string }) => [c.id, c.status, c.body]),
      [
        [a.id, 'deleted', ''],
        [reply.id, 'published', 'a reply'],
      ],
    );
    assert.match((await new Client(t.app).get(`/posts/${post.slug}`)).body, /Comment deleted/);
  });

  test("the post's author hides a comment; others see a placeholder or nothing", async () => {
    const post = await newPost();
    const rude = await comment(ann, post.id, 'rude words');
    const w = await as(writer);
    await w.get(`/posts/${post.slug}`);
    assert.equal((await w.postForm(`/comments/${rude.id}/hide`, { hidden: '1' })).status, 303);
    const anon = (await new Client(t.app).get(`/posts/${post.slug}`)).body;
    assert.doesNotMatch(anon, /rude words/);
    const b = await as(bob);
    await b.get(`/posts/${post.slug}`);
    assert.equal((await b.postForm(`/comments/${rude.id}/hide`, { hidden: '0' })).status, 403, "only the post's author or a moderator");
    assert.match((await w.get(`/posts/${post.slug}`)).body, /rude words/, 'the author still sees it, marked hidden');
  });

  test('moderation: first comments held, a queue to approve, spam, ban', async () => {
    const ed = await as(editor);
    await ed.get('/admin/comments');
    assert.equal((await ed.postForm('/admin/comments/mode', { mode: 'first-time-held' })).status, 303);
    const post = await newPost();
    const newcomer = await buildUser(t, { role: 'reader' });
    tokens.set(newcomer.id, await buildToken(t, newcomer));
    const held = await comment(newcomer, post.id, 'my very first comment');
    assert.equal(held.status, 'held');
    assert.doesNotMatch((await new Client(t.app).get(`/posts/${post.slug}`)).body, /my very first comment/);
    const mine = (await api(newcomer, 'GET', `/api/v1/posts/${post.id}/comments`)).json().comments;
    assert.equal(mine[0].status, 'held', 'its author sees it awaiting moderation');

    const queue = await ed.get('/admin/comments');
    assert.match(queue.body, /my very first comment/);
    assert.equal((await ed.postForm(`/admin/comments/${held.id}/approve`, {})).status, 303);
    assert.match((await new Client(t.app).get(`/posts/${post.slug}`)).body, /my very first comment/);
    assert.equal((await comment(newcomer, post.id, 'second one')).status, 'published', 'only the first is held');

    await ed.get('/admin/comments');
    await ed.postForm('/admin/comments/mode', { mode: 'all-held' });
    const spammer = await buildUser(t, { role: 'reader' });
    tokens.set(spammer.id, await buildToken(t, spammer));
    const s1 = await comment(spammer, post.id, 'buy things');
    assert.equal(s1.status, 'held');
    await ed.get('/admin/comments');
    assert.equal((await ed.postForm(`/admin/comments/${s1.id}/ban`, {})).status, 303);
    const banned = await api(spammer, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'again' });
    assert.equal(banned.statusCode, 403);
    const r = await as(ann);
    assert.equal((await r.get('/admin/comments')).status, 403, 'readers do not moderate');
    await ed.get('/admin/comments');
    await ed.postForm('/admin/comments/mode', { mode: 'open' });
  });

  test('an edit is moderated like a new comment: an approved comment cannot be rewritten past the moderators', async () => {
    const ed = await as(editor);
    await ed.get('/admin/comments');
    assert.equal((await ed.postForm('/admin/comments/mode', { mode: 'all-held' })).status, 303);
    const post = await newPost();
    const c = await comment(bob, post.id, 'a kind and approved remark');
    assert.equal(c.status, 'held');
    await ed.get('/admin/comments');
    assert.equal((await ed.postForm(`/admin/comments/${c.id}/approve`, {})).status, 303);
    assert.match((await new Client(t.app).get(`/posts/${post.slug}`)).body, /a kind and approved remark/);

    const edited = await api(bob, 'PATCH', `/api/v1/comments/${c.id}`, { body: 'now an advert for pills' });
    assert.equal(edited.statusCode, 200, edited.body);
    assert.equal(edited.json().status, 'held', 'the new text waits for a moderator');
    const anon = (await new Client(t.app).get(`/posts/${post.slug}`)).body;
    assert.doesNotMatch(anon, /advert for pills/);
    assert.match((await ed.get('/admin/comments')).body, /now an advert for pills/, 'it is in the moderation queue');

    // The same under "first comments held": a newcomer's only approved comment vouches for no new text.
    await ed.postForm('/admin/comments/mode', { mode: 'first-time-held' });
    const newcomer = await buildUser(t, { role: 'reader' });
    tokens.set(newcomer.id, await buildToken(t, newcomer));
    const first = await comment(newcomer, post.id, 'hello, first time here');
    await ed.get('/admin/comments');
    await ed.postForm(`/admin/comments/${first.id}/approve`, {});
    assert.equal((await api(newcomer, 'PATCH', `/api/v1/comments/${first.id}`, { body: 'visit my shop' })).json().status, 'held');

    await ed.get('/admin/comments');
    await ed.postForm('/admin/comments/mode', { mode: 'open' });
    assert.equal(
      (await api(ann, 'PATCH', `/api/v1/comments/${(await comment(ann, post.id, 'open mode')).id}`, { body: 'open mode, edited' })).json().status,
      'published',
      'open mode publishes edits at once',
    );
  });

  test('the reply form quotes only a published comment of the post it is on', async () => {
    const open = await newPost();
    const secret = await newPost();
    const hidden = await comment(ann, secret.id, 'words under a post that goes back to draft');
    assert.equal((await api(writer, 'PATCH', `/api/v1/posts/${secret.id}`, { status: 'draft' })).statusCode, 200);
    const b = await as(bob);
    const res = await b.get(`/posts/${open.slug}/comments/new?parent=${hidden.id}`);
    assert.equal(res.status, 200);
    assert.doesNotMatch(res.body, /goes back to draft/, 'no quote from a post that is not public');
    assert.doesNotMatch(res.body, /<h1>Reply to /, 'nor the name of its author');
    const own = await comment(cat, open.id, 'a fair question');
    assert.match((await b.get(`/posts/${open.slug}/comments/new?parent=${own.id}`)).body, /a fair question/, 'a comment of this post is quoted');
  });

  test('the honeypot quietly files bot comments as spam', async () => {
    const post = await newPost();
    const c = await as(cat);
    await c.get(`/posts/${post.slug}`);
    now = new Date(now.getTime() + 61_000);
    const res = await c.postForm(`/posts/${post.slug}/comments`, { body: 'cheap pills', website: 'http://spam.example' });
    assert.equal(res.status, 303);
    assert.match((await c.get(`/posts/${post.slug}`)).body, /will appear once a moderator approves it/);
    assert.doesNotMatch((await new Client(t.app).get(`/posts/${post.slug}`)).body, /cheap pills/);
    const row = await t.db.kysely.selectFrom('comments').select('status').where('body', '=', 'cheap pills').executeTakeFirstOrThrow();
    assert.equal(row.status, 'spam');
  });

  test('a per-user rate limit stops floods', async () => {
    const post = await newPost();
    now = new Date(now.getTime() + 120_000);
    const codes = [];
    for (let i = 0; i < 7; i++) codes.push((await api(bob, 'POST', `/api/v1/posts/${post.id}/comments`, { body: `flood ${i}` })).statusCode);
    assert.deepEqual(codes, [201, 201, 201, 201, 201, 429, 429]);
  });
});
