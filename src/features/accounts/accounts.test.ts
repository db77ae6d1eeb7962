import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildUser, type TestUser } from '../../../test/support/factories.ts';

eachDatabase('login, logout and first-run setup', (dialect) => {
  let t: TestApp;
  let author: TestUser;

  before(async () => {
    t = await buildTestApp(dialect);
    author = await buildUser(t, { role: 'author' });
  });
  after(() => t.close());

  test('the one-time setup link creates the first admin, who adopts the welcome post', async () => {
    assert.ok(t.setupToken, 'a fresh blog issues a setup token');
    const c = new Client(t.app);
    assert.equal((await c.get('/setup?token=wrong')).status, 404);
    const form = await c.get(`/setup?token=${t.setupToken}`);
    assert.equal(form.status, 200);

    const bad = await c.postForm('/setup', { token: t.setupToken!, email: 'not-an-email', username: 'Admin!', password: 'short' });
    assert.equal(bad.status, 422);
    assert.match(bad.body, /id="email-error"/);
    assert.match(bad.body, /id="username-error"/);
    assert.match(bad.body, /id="password-error">Password must be at least 8 characters/);
    assert.match(bad.body, /value="not-an-email"/, 'input kept');

    const ok = await c.postForm('/setup', {
      token: t.setupToken!,
      email: 'Boss@Example.test',
      username: 'boss',
      displayName: 'The Boss',
      password: 'a long passphrase',
    });
    assert.equal(ok.status, 303);
    const dash = await c.get('/admin/posts');
    assert.equal(dash.status, 200);
    assert.match(dash.body, /All posts/, "the admin sees everyone's posts");

    const welcome = await t.app.inject({ url: '/api/v1/posts/welcome-to-inkwell' });
    assert.equal(welcome.json().author.username, 'boss');

    assert.equal((await new Client(t.app).get(`/setup?token=${t.setupToken}`)).status, 404, 'the link works once');
    const login = await new Client(t.app).login('boss@example.test', 'a long passphrase');
    assert.equal(login.status, 303, 'emails are case-insensitive');
  });

  test('a wrong password and an unknown account get the same answer', async () => {
    const wrong = await new Client(t.app).login(author.username, 'not the password');
    const unknown = await new Client(t.app).login('nobody@example.test', 'not the password');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    const msg = (b: string) => /role="alert">([^<]+)</.exec(b)?.[1];
    assert.equal(msg(wrong.body), 'Email or password is incorrect');
    assert.equal(msg(wrong.body), msg(unknown.body));
    assert.match(wrong.body, new RegExp(`value="${author.username}"`), 'the login field is kept');
  });

  test('login rotates the session id; logout ends the session', async () => {
    const c = new Client(t.app);
    await c.get('/login');
    c.cookies.set('inkwell_session', 'attacker-fixed-value');
    await c.get('/login');
    await c.postForm('/login', { login: author.email, password: author.password });
    const sid = c.cookies.get('inkwell_session');
    assert.ok(sid && sid !== 'attacker-fixed-value');
    assert.equal((await c.get('/admin/posts')).status, 200, 'the new session works');

    const second = new Client(t.app);
    await second.login(author.email, author.password);
    assert.notEqual(second.cookies.get('inkwell_session'), sid, 'each login gets a new id');

    await c.get('/posts');
    const out = await c.postForm('/logout', {});
    assert.equal(out.status, 303);
    const replay = new Client(t.app);
    replay.cookies.set('inkwell_session', sid);
    const res = await replay.get('/admin/posts');
    assert.equal(res.status, 303, 'the old session no longer works');
    assert.match(String(res.headers.location), /^\/login/);
  });

  test('session cookies are HttpOnly and SameSite=Lax; tokens are stored hashed', async () => {
    const c = new Client(t.app);
    await c.get('/login');
    const res = await c.postForm('/login', { login: author.username, password: author.password });
    const setCookie = ([] as string[]).concat(res.headers['set-cookie'] as string[]).find((s) => s.startsWith('inkwell_session='))!;
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Lax/i);
    const token = c.cookies.get('inkwell_session')!;
    const rows = await t.db.kysely.selectFrom('sessions').select('id_hash').execute();
    assert.ok(rows.length > 0);
    assert.ok(
      rows.every((r) => r.id_hash !== token),
      'the raw token is not in the database',
    );
    const users = await t.db.kysely.selectFrom('users').select('password_hash').execute();
    assert.ok(users.every((u) => u.password_hash?.startsWith('scrypt$')));
  });

  test('a forged login or logout (no CSRF token) is refused', async () => {
    const c = new Client(t.app);
    const res = await c.request('POST', '/login', { form: { login: author.username, password: author.password } });
    assert.equal(res.status, 403);
    assert.equal(c.cookies.get('inkwell_session'), undefined);
  });

  test('?next= only redirects within the site', async () => {
    const c = new Client(t.app);
    await c.get('/login?next=//evil.example/x');
    const res = await c.postForm('/login', { login: author.username, password: author.password, next: '//evil.example/x' });
    assert.equal(res.headers.location, '/', 'a next that leaves the site goes home');
  });

  test('wrong passwords for one account are limited; successful logins are not', async () => {
    const u = await buildUser(t, { role: 'reader' });
    for (let i = 0; i < 15; i++) {
      const ok = await new Client(t.app).login(u.username, u.password);
      assert.equal(ok.status, 303, `login ${i + 1} succeeds`);
    }
    const c = new Client(t.app);
    await c.get('/login');
    const token = c.csrf();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await c.request('POST', '/login', { form: { _csrf: token, login: u.username, password: 'wrong password' } })).status);
    }
    assert.deepEqual(statuses, [...Array(10).fill(401), 429]);
    const locked = await c.request('POST', '/login', { form: { _csrf: token, login: u.username, password: u.password } });
    assert.equal(locked.status, 429, 'even the right password waits out the window');
    assert.ok(Number(locked.headers['retry-after']) > 0);
  });

  test('too many login attempts from one address get 429 with Retry-After', async () => {
    const c = new Client(t.app);
    await c.get('/login');
    const token = c.csrf();
    let last = 0;
    let retryAfter: unknown;
    for (let i = 0; i < 80 && last !== 429; i++) {
      const res = await c.request('POST', '/login', { form: { _csrf: token, login: 'x', password: 'y' }, headers: { 'x-forwarded-for': '' } });
      last = res.status;
      retryAfter = res.headers['retry-after'];
    }
    assert.equal(last, 429);
    assert.ok(Number(retryAfter) > 0);
  });
});
