import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildUser } from '../../../test/support/factories.ts';
import { linkIn, startSmtpCatcher, type SmtpCatcher } from '../../../test/support/smtp.ts';

eachDatabase('sign-up, verification and password reset by email', (dialect) => {
  let t: TestApp;
  let smtp: SmtpCatcher;
  let now = new Date('2026-11-23T12:00:00Z');
  const clock = { now: () => now };

  before(async () => {
    smtp = await startSmtpCatcher();
    t = await buildTestApp(dialect, { env: { SMTP_URL: smtp.url, SITE_URL: 'http://blog.test' }, clock });
    // Reset requests are jobs, as in a running Inkwell.
    t.queue.start({ concurrency: 1 });
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const pathOf = (url: string) => new URL(url).pathname;
  const mailTo = (address: string, subject: RegExp) => smtp.waitFor((m) => m.to.includes(address) && subject.test(m.subject));

  test('sign up → verify → log in → forgot → reset, all through the HTML forms', async () => {
    const c = new Client(t.app);
    await c.get('/signup');
    const bad = await c.postForm('/signup', { email: 'nope', username: 'X', password: 'password', displayName: '' });
    assert.equal(bad.status, 422);
    assert.match(bad.body, /id="email-error"/);
    assert.match(bad.body, /id="username-error"/);
    assert.match(bad.body, /id="password-error">Password is too easy to guess/);

    await c.get('/signup');
    const res = await c.postForm('/signup', { email: 'Ada@Example.test', username: 'ada', password: 'analytical engine', displayName: 'Ada' });
    assert.equal(res.status, 303);
    const settings = await c.get('/settings');
    assert.match(settings.body, /Confirm your email address/);

    // Unverified: may write a draft, may not publish.
    await c.get('/posts/new');
    const publish = await c.postForm('/posts', { title: 'Too soon', body: 'x', status: 'published' });
    assert.equal(publish.status, 403);
    assert.match(publish.body, /verify your email address/);
    await c.get('/posts/new');
    assert.equal((await c.postForm('/posts', { title: 'A draft', body: 'x', status: 'draft' })).status, 303);

    const verify = await mailTo('ada@example.test', /Confirm your email/);
    assert.deepEqual(verify.to, ['ada@example.test']);
    assert.match(verify.html, /Confirm my address/);
    const link = linkIn(verify, '/verify/');
    assert.equal((await c.get(pathOf(link))).status, 303);
    assert.match((await c.get('/settings')).body, /confirmed/);
    assert.equal((await c.get(pathOf(link))).status, 400, 'a verification link works once');

    await c.get('/posts/new');
    assert.equal((await c.postForm('/posts', { title: 'Now published', body: 'x', status: 'published' })).status, 303);

    // Forgot → reset.
    const anon = new Client(t.app);
    await anon.get('/password/forgot');
    const known = await anon.postForm('/password/forgot', { email: 'ada@example.test' });
    await anon.get('/password/forgot');
    const unknown = await anon.postForm('/password/forgot', { email: 'nobody@example.test' });
    assert.equal(known.status, 200);
    assert.equal(unknown.status, known.status);
    const strip = (b: string) => b.replace(/name="_csrf" value="[^"]+"/g, '').replace(/content="[^"]+"/g, '');
    assert.equal(strip(unknown.body), strip(known.body), 'identical answers whether or not the account exists');

    const reset = await mailTo('ada@example.test', /Reset your/);
    const resetPath = pathOf(linkIn(reset, '/password/reset/'));
    assert.equal((await anon.get(resetPath)).status, 200);
    const weak = await anon.postForm(resetPath, { password: '12345678' });
    assert.equal(weak.status, 422);
    await anon.get(resetPath);
    assert.equal((await anon.postForm(resetPath, { password: 'difference engine' })).status, 303);
    await mailTo('ada@example.test', /password was changed/);

    assert.equal((await c.get('/settings')).status, 303, 'the reset ended the other session');
    assert.equal((await new Client(t.app).login('ada', 'analytical engine')).status, 401);
    assert.equal((await new Client(t.app).login('ada', 'difference engine')).status, 303);
    assert.equal((await anon.get(resetPath)).status, 400, 'a reset link works once');
  });

  test('reset links expire after an hour', async () => {
    const u = await buildUser(t, { role: 'author' });
    const c = new Client(t.app);
    await c.get('/password/forgot');
    await c.postForm('/password/forgot', { email: u.email });
    const path = pathOf(linkIn(await mailTo(u.email, /Reset your/), '/password/reset/'));
    now = new Date(now.getTime() + 61 * 60_000);
    try {
      assert.equal((await c.get(path)).status, 400);
      await c.get('/password/forgot');
      const csrf = c.csrf();
      const res = await c.request('POST', path, { form: { _csrf: csrf, password: 'a fine new password' } });
      assert.equal(res.status, 400);
    } finally {
      now = new Date(now.getTime() - 61 * 60_000);
    }
  });

  test('the same flow through the JSON API', async () => {
    const api = (method: string, url: string, body?: unknown, token?: string) =>
      t.app.inject({
        method: method as 'POST',
        url,
        payload: body as object,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    const taken = await api('POST', '/api/v1/users', { email: 'ada@example.test', username: 'ada2', password: 'some long words' });
    assert.equal(taken.statusCode, 422);
    assert.deepEqual(taken.json().errors, [{ field: 'email', message: 'is already registered' }]);

    const created = await api('POST', '/api/v1/users', { email: 'grace@example.test', username: 'grace', password: 'compilers rule ok' });
    assert.equal(created.statusCode, 201);
    assert.equal(created.json().verified, false);
    assert.equal(created.headers.location, '/api/v1/users/grace');

    const wrong = await api('POST', '/api/v1/sessions', { login: 'grace', password: 'nope nope nope' });
    const ghost = await api('POST', '/api/v1/sessions', { login: 'ghost', password: 'nope nope nope' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(ghost.statusCode, 401);
    assert.equal(wrong.json().detail, ghost.json().detail);

    const login = await api('POST', '/api/v1/sessions', { login: 'grace@example.test', password: 'compilers rule ok' });
    assert.equal(login.statusCode, 201);
    const { token } = login.json();
    assert.equal((await api('GET', '/api/v1/me', undefined, token)).json().username, 'grace');
    const pub = await api('POST', '/api/v1/posts', { title: 'x', body: 'y', status: 'published' }, token);
    assert.equal(pub.statusCode, 403);
    assert.equal(pub.json().code, 'email_unverified');

    const mail = await mailTo('grace@example.test', /Confirm your email/);
    const verifyToken = pathOf(linkIn(mail, '/verify/')).split('/').pop();
    assert.equal((await api('POST', '/api/v1/verification', { token: verifyToken })).statusCode, 204);
    assert.equal((await api('GET', '/api/v1/me', undefined, token)).json().verified, true);

    const patched = await api('PATCH', '/api/v1/me', { displayName: 'Grace H.', bio: 'Admiral', avatarUrl: 'https://img.example/g.png' }, token);
    assert.equal(patched.statusCode, 200);
    assert.equal(patched.json().displayName, 'Grace H.');
    assert.equal((await api('PATCH', '/api/v1/me', { avatarUrl: 'javascript:alert(1)' }, token)).statusCode, 422);
    const profile = await api('GET', '/api/v1/users/grace');
    assert.equal(profile.json().bio, 'Admiral');
    assert.equal(profile.json().email, undefined, 'profiles never show the email');

    assert.equal((await api('POST', '/api/v1/password/forgot', { email: 'grace@example.test' })).statusCode, 202);
    assert.equal((await api('POST', '/api/v1/password/forgot', { email: 'nobody@example.test' })).statusCode, 202);
    const resetToken = pathOf(linkIn(await mailTo('grace@example.test', /Reset your/), '/password/reset/'))
      .split('/')
      .pop();
    assert.equal((await api('POST', '/api/v1/password/reset', { token: resetToken, password: 'cobol forever and ever' })).statusCode, 204);
    assert.equal((await api('POST', '/api/v1/password/reset', { token: resetToken, password: 'cobol forever and ever' })).statusCode, 400);

    const again = (await api('POST', '/api/v1/sessions', { login: 'grace', password: 'cobol forever and ever' })).json().token;
    assert.equal((await api('DELETE', '/api/v1/sessions/current', undefined, again)).statusCode, 204);
    assert.equal((await api('GET', '/api/v1/me', undefined, again)).statusCode, 401, 'the token is revoked');
  });

  test('SPA login tokens expire after 30 days', async () => {
    const u = await buildUser(t, { role: 'reader' });
    const { token } = (await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { login: u.username, password: u.password } })).json();
    now = new Date(now.getTime() + 31 * 24 * 3600_000);
    try {
      assert.equal((await t.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 401);
    } finally {
      now = new Date(now.getTime() - 31 * 24 * 3600_000);
    }
  });
});
