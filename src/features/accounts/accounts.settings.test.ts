import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildUser, type TestUser } from '../../../test/support/factories.ts';
import { linkIn, startSmtpCatcher, type SmtpCatcher } from '../../../test/support/smtp.ts';

eachDatabase("account settings and the admin's user controls", (dialect) => {
  let t: TestApp;
  let smtp: SmtpCatcher;
  let admin: TestUser;
  let adminClient: Client;

  before(async () => {
    smtp = await startSmtpCatcher();
    t = await buildTestApp(dialect, { env: { SMTP_URL: smtp.url, SITE_URL: 'http://blog.test' } });
    admin = await buildUser(t, { role: 'admin' });
    adminClient = new Client(t.app);
    assert.equal((await adminClient.login(admin.username, admin.password)).status, 303);
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const pathOf = (url: string) => new URL(url).pathname + new URL(url).search;
  async function session(u: TestUser) {
    const c = new Client(t.app);
    assert.equal((await c.login(u.username, u.password)).status, 303);
    return c;
  }

  test('profile, shown on the public page; bad values come back with errors', async () => {
    const u = await buildUser(t, { role: 'author' });
    const c = await session(u);
    await c.get('/settings');
    const bad = await c.postForm('/settings/profile', { displayName: '', bio: 'x', avatarUrl: 'ftp://nope' });
    assert.equal(bad.status, 422);
    assert.match(bad.body, /id="displayName-error"/);
    assert.match(bad.body, /id="avatarUrl-error"/);
    assert.match(bad.body, /value="ftp:\/\/nope"/);
    await c.get('/settings');
    assert.equal((await c.postForm('/settings/profile', { displayName: 'Ann <Writer>', bio: 'Writes things', avatarUrl: '' })).status, 303);
    const profile = await new Client(t.app).get(`/@${u.username}`);
    assert.equal(profile.status, 200);
    assert.match(profile.body, /<h1>Ann &#60;Writer&#62;<\/h1>/);
    assert.match(profile.body, /Writes things/);
    assert.doesNotMatch(profile.body, new RegExp(u.email), 'no email on the public page');
    assert.equal((await new Client(t.app).get('/@nobody_here')).status, 404);
  });

  test('password change needs the current password and ends other sessions', async () => {
    const u = await buildUser(t, { role: 'author' });
    const here = await session(u);
    const elsewhere = await session(u);
    await here.get('/settings');
    const wrong = await here.postForm('/settings/password', { currentPassword: 'wrong one', newPassword: 'brand new secret' });
    assert.equal(wrong.status, 422);
    assert.match(wrong.body, /id="currentPassword-error"/);
    await here.get('/settings');
    assert.equal((await here.postForm('/settings/password', { currentPassword: u.password, newPassword: 'brand new secret' })).status, 303);
    assert.equal((await here.get('/settings')).status, 200, 'this session stays');
    assert.equal((await elsewhere.get('/settings')).status, 303, 'the other session ended');
    await t.queue.drain();
    await smtp.waitFor((m) => m.to.includes(u.email) && /password was changed/.test(m.subject));
  });

  test('email change takes effect through the link sent to the new address', async () => {
    const u = await buildUser(t, { role: 'author' });
    const c = await session(u);
    await c.get('/settings');
    const taken = await c.postForm('/settings/email', { email: admin.email, password: u.password });
    assert.equal(taken.status, 422);
    await c.get('/settings');
    assert.equal((await c.postForm('/settings/email', { email: 'moved@example.test', password: u.password })).status, 303);
    await t.queue.drain();
    const confirm = await smtp.waitFor((m) => m.to.includes('moved@example.test'));
    assert.match((await c.get('/settings')).body, new RegExp(u.email), 'unchanged until confirmed');
    assert.equal((await c.get(pathOf(linkIn(confirm, '/settings/email/')))).status, 303);
    assert.match((await c.get('/settings')).body, /moved@example\.test/);
    await t.queue.drain();
    await smtp.waitFor((m) => m.to.includes(u.email) && /email address was changed/.test(m.subject));
  });

  test('API tokens: shown once, listed with last use, scoped, revocable', async () => {
    const u = await buildUser(t, { role: 'author' });
    const c = await session(u);
    await c.get('/settings');
    const none = await c.request('POST', '/settings/tokens', { form: { _csrf: c.csrf(), name: 'ci' } });
    assert.equal(none.status, 422, 'at least one scope');
    const res = await c.request('POST', '/settings/tokens', { form: { _csrf: c.csrf(), name: 'reader bot', scopes: 'read' } });
    assert.equal(res.status, 201);
    const token = /id="new-token">([^<]+)</.exec(res.body)![1];
    assert.match(token, /^iwk_/);
    assert.doesNotMatch((await c.get('/settings')).body, new RegExp(token), 'shown only once');

    const use = (method: string) =>
      t.app.inject({
        method: method as 'GET',
        url: '/api/v1/posts',
        headers: { authorization: `Bearer ${token}` },
        payload: method === 'POST' ? { title: 'x', body: 'y' } : undefined,
      });
    assert.equal((await use('GET')).statusCode, 200);
    assert.equal((await use('POST')).statusCode, 403, 'a read token cannot write');
    const listed = await c.get('/settings');
    assert.match(listed.body, /reader bot/);
    assert.doesNotMatch(listed.body, /<td>never<\/td>/, 'last use is recorded');

    const id = /action="\/settings\/tokens\/(\d+)"/.exec(listed.body)![1];
    assert.equal((await c.postForm(`/settings/tokens/${id}`, { _method: 'DELETE' })).status, 303);
    assert.equal((await use('GET')).statusCode, 401, 'revoked');
  });

  test('deleting an account: drafts go, published posts and comments stay without an author', async () => {
    const u = await buildUser(t, { role: 'author' });
    const c = await session(u);
    for (const [title, status] of [
      ['Kept post', 'published'],
      ['Gone draft', 'draft'],
    ]) {
      await c.get('/posts/new');
      await c.postForm('/posts', { title, body: 'b', status });
    }
    await c.get('/posts/kept-post');
    assert.equal((await c.postForm('/posts/kept-post/comments', { body: 'my own comment' })).status, 303);
    await c.get('/settings');
    assert.equal((await c.postForm('/settings/delete', { password: 'wrong' })).status, 422);
    await c.get('/settings');
    assert.equal((await c.postForm('/settings/delete', { password: u.password })).status, 303);
    const kept = await t.app.inject({ url: '/api/v1/posts/kept-post' });
    assert.equal(kept.statusCode, 200);
    assert.equal(kept.json().author, null);
    const draft = await t.db.kysely.selectFrom('posts').select('id').where('slug', '=', 'gone-draft').executeTakeFirst();
    assert.equal(draft, undefined);
    const thread = (await t.app.inject({ url: '/api/v1/posts/kept-post/comments' })).json();
    assert.deepEqual(
      thread.comments.map((x: { body: string; author: unknown }) => [x.body, x.author]),
      [['my own comment', null]],
    );
    assert.match((await new Client(t.app).get('/posts/kept-post')).body, /A former member/);
    assert.equal((await new Client(t.app).login(u.username, u.password)).status, 401);
  });

  test('admins change roles and suspend; suspended users are logged out and cannot log in', async () => {
    const u = await buildUser(t, { role: 'reader' });
    const c = await session(u);
    const page = await adminClient.get('/admin/users');
    assert.equal(page.status, 200);
    assert.match(page.body, new RegExp(u.username));
    assert.equal((await adminClient.postForm(`/admin/users/${u.id}/role`, { role: 'editor' })).status, 303);
    assert.equal((await t.app.inject({ url: `/api/v1/users/${u.username}` })).json().role, 'editor');

    await adminClient.get('/admin/users');
    assert.equal((await adminClient.postForm(`/admin/users/${u.id}/suspend`, { suspended: '1' })).status, 303);
    assert.equal((await c.get('/settings')).status, 303, 'their session ended');
    const login = await new Client(t.app).login(u.username, u.password);
    assert.equal(login.status, 403);
    assert.match(login.body, /suspended/);
    await adminClient.get('/admin/users');
    await adminClient.postForm(`/admin/users/${u.id}/suspend`, { suspended: '0' });
    assert.equal((await new Client(t.app).login(u.username, u.password)).status, 303);

    assert.equal((await c.get('/admin/users')).status, 303, 'logged-out user sent to login');
    const nonAdmin = await session(u);
    assert.equal((await nonAdmin.get('/admin/users')).status, 403);
  });

  test('invite-only sign-up: invitations by email; closed refuses', async () => {
    await adminClient.get('/admin/users');
    await adminClient.postForm('/admin/users/signup-mode', { mode: 'invite' });
    assert.equal((await new Client(t.app).get('/signup')).status, 403);
    const apiSignup = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'z@example.test', username: 'zed', password: 'long enough pass' },
    });
    assert.equal(apiSignup.statusCode, 403);
    assert.equal(apiSignup.json().code, 'signup_closed');

    await adminClient.get('/admin/users');
    assert.equal((await adminClient.postForm('/admin/users/invite', { email: 'guest@example.test', role: 'editor' })).status, 303);
    await t.queue.drain();
    const invite = await smtp.waitFor((m) => m.to.includes('guest@example.test'));
    const c = new Client(t.app);
    const form = await c.get(pathOf(linkIn(invite, '/signup')));
    assert.equal(form.status, 200);
    const inviteToken = /name="invite" value="([^"]+)"/.exec(form.body)![1];
    const other = await c.postForm('/signup', { invite: inviteToken, email: 'someone-else@example.test', username: 'guest', password: 'long enough pass' });
    assert.equal(other.status, 422, 'the invitation is for its address only');
    await c.get(pathOf(linkIn(invite, '/signup')));
    assert.equal(
      (await c.postForm('/signup', { invite: inviteToken, email: 'guest@example.test', username: 'guest', password: 'long enough pass' })).status,
      303,
    );
    const me = (await t.app.inject({ url: '/api/v1/users/guest' })).json();
    assert.equal(me.role, 'editor');

    await adminClient.get('/admin/users');
    await adminClient.postForm('/admin/users/signup-mode', { mode: 'closed' });
    assert.equal((await new Client(t.app).get('/signup')).status, 403);
    await adminClient.get('/admin/users');
    await adminClient.postForm('/admin/users/signup-mode', { mode: 'open' });
    assert.equal((await new Client(t.app).get('/signup')).status, 200);
  });

  test('rate limits: per account on password reset, with Retry-After', async () => {
    const c = new Client(t.app);
    let last = 0;
    let retry: unknown;
    for (let i = 0; i < 5; i++) {
      await c.get('/password/forgot');
      const res = await c.postForm('/password/forgot', { email: 'target@example.test' });
      last = res.status;
      retry = res.headers['retry-after'];
    }
    assert.equal(last, 429);
    assert.ok(Number(retry) > 0);
  });
});
