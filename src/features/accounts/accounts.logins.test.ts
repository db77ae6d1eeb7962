// Issue 13, item 1: a login must not outlive a password reset, and a token
// must not be enough to take the account (RealWorld PUT /user included).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { linkIn, startSmtpCatcher, type Received, type SmtpCatcher } from '../../../test/support/smtp.ts';
import { RealWorldClient } from '../realworld/realworld.test-client.ts';

eachDatabase('logins end with a password change; a token cannot take the account', (dialect) => {
  let t: TestApp;
  let smtp: SmtpCatcher;
  let rw: RealWorldClient;
  let ip = 0;

  before(async () => {
    smtp = await startSmtpCatcher();
    t = await buildTestApp(dialect, { env: { SMTP_URL: smtp.url, SITE_URL: 'http://blog.test' } });
    // Reset requests are jobs, run as in a running Inkwell (two at once, so they can race).
    t.queue.start({ concurrency: 2 });
    rw = new RealWorldClient(t);
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const pathOf = (url: string) => new URL(url).pathname;
  const mailTo = (address: string, subject: RegExp, seen = new Set<Received>()) =>
    smtp.waitFor((m) => m.to.includes(address) && subject.test(m.subject) && !seen.has(m));
  // Each visitor from its own address, as an attacker elsewhere would be.
  const from = () => `192.0.2.${(ip = (ip % 250) + 1)}`;
  const api = (method: string, url: string, token?: string, payload?: unknown) =>
    t.app.inject({
      method: method as 'GET',
      url,
      remoteAddress: from(),
      payload: payload as object,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    });
  const rwMe = async (token: string) => (await rw.get('/user', token)).status;
  const apiMe = async (token: string) => (await api('GET', '/api/v1/me', token)).statusCode;
  const browserIn = async (c: Client) => (await c.get('/settings')).status === 200;

  /** Logs in every way there is: a browser session, an /api/v1/sessions token and a RealWorld token. */
  async function logInEveryWay(u: TestUser) {
    const browser = new Client(t.app);
    assert.equal((await browser.login(u.email, u.password)).status, 303);
    const apiToken = (await api('POST', '/api/v1/sessions', undefined, { login: u.username, password: u.password })).json().token as string;
    const rwLogin = await rw.login(u.email, u.password);
    assert.equal(rwLogin.status, 200, rwLogin.text);
    return { browser, apiToken, rwToken: rwLogin.body.user.token as string };
  }

  async function resetByEmail(u: TestUser, password: string) {
    const owner = new Client(t.app);
    await owner.get('/password/forgot');
    await owner.postForm('/password/forgot', { email: u.email });
    const path = pathOf(linkIn(await mailTo(u.email, /Reset your/), '/password/reset/'));
    await owner.get(path);
    assert.equal((await owner.postForm(path, { password })).status, 303);
    return owner;
  }

  test('a password reset ends every login-issued session and token; personal tokens are listed with a revoke link', async () => {
    const u = await buildUser(t, { role: 'author' });
    const personal = await buildToken(t, u);
    const attacker = await logInEveryWay(u);
    assert.equal(await rwMe(attacker.rwToken), 200);

    const owner = await resetByEmail(u, 'a brand new passphrase');
    assert.equal(await rwMe(attacker.rwToken), 401, 'the RealWorld login is ended');
    assert.equal(await apiMe(attacker.apiToken), 401, 'the /api/v1/sessions token is ended');
    assert.equal(await browserIn(attacker.browser), false, 'the browser session is ended');
    assert.equal(await browserIn(owner), true, 'the reset logged the owner in');
    assert.equal(await apiMe(personal), 200, 'a personal token made by hand survives');

    const notice = await mailTo(u.email, /password was changed/);
    assert.match(notice.text, /"test", made \d{4}-\d\d-\d\d/, 'the personal token is listed');
    const revoke = pathOf(linkIn(notice, '/settings/tokens/revoke/'));
    const anon = new Client(t.app);
    const page = await anon.get(revoke);
    assert.equal(page.status, 200);
    assert.match(page.body, /method="post"/);
    assert.equal((await t.app.inject({ url: revoke, headers: { 'user-agent': 'LinkScanner' } })).statusCode, 200);
    assert.equal(await apiMe(personal), 200, 'GET (a mail scanner) revokes nothing');
    assert.equal((await anon.request('POST', revoke, { form: {} })).status, 403, "the POST needs the page's CSRF token");
    await anon.get(revoke);
    assert.equal((await anon.postForm(revoke, {})).status, 303);
    assert.equal(await apiMe(personal), 401, 'the confirmation revoked the personal token');
    assert.equal((await anon.get(revoke)).status, 400, 'the link works once');
  });

  test('RealWorld PUT /user with a stolen token: the email waits for confirmation, the password change ends the other logins', async () => {
    const u = await buildUser(t, { role: 'author' });
    const owner = await logInEveryWay(u);
    const attacker = (await rw.login(u.email, u.password)).body.user.token as string;
    const seen = new Set(smtp.messages);

    const evil = `evil${Date.now()}@attacker.test`;
    const res = await rw.call('PUT', '/user', { token: attacker, body: { user: { email: evil, password: 'attacker password 1' } } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.user.email, u.email, 'the answer still shows the current address');
    assert.equal((await rw.get('/user', attacker)).body.user.email, u.email);
    assert.equal(await rwMe(attacker), 200, 'the RealWorld token that made the change keeps working');
    assert.equal(await rwMe(owner.rwToken), 401, 'the other RealWorld login is ended');
    assert.equal(await apiMe(owner.apiToken), 401);
    assert.equal(await browserIn(owner.browser), false);
    assert.equal((await rw.login(evil, 'attacker password 1')).status, 401, 'the new address does not log in yet');

    const told = await mailTo(u.email, /new email address was requested/, seen);
    assert.match(told.text, new RegExp(evil.replace('.', '\\.')));
    const confirm = await mailTo(evil, /Confirm your new email/, seen);
    const confirmPath = pathOf(linkIn(confirm, '/settings/email/'));

    // The owner notices and resets the password: the token is ended and the pending change cancelled.
    await resetByEmail(u, 'the owner is back');
    assert.equal(await rwMe(attacker), 401);
    assert.equal((await new Client(t.app).get(confirmPath)).status, 400, 'the pending email change died with the reset');
    const me = await buildToken(t, u);
    assert.equal((await api('GET', '/api/v1/me', me)).json().email, u.email);
  });

  test('RealWorld PUT /user: a new email takes effect once confirmed from the new address, and the old one is told', async () => {
    const r = await rw.register();
    const next = `moved${Date.now()}@example.test`;
    const seen = new Set(smtp.messages);
    const res = await rw.call('PUT', '/user', { token: r.token, body: { user: { email: next } } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.user.email, r.email);
    await mailTo(r.email, /new email address was requested/, seen);
    const confirm = pathOf(linkIn(await mailTo(next, /Confirm your new email/, seen), '/settings/email/'));
    assert.equal((await new Client(t.app).get(confirm)).status, 303);
    assert.equal((await rw.get('/user', r.token)).body.user.email, next);
    await mailTo(r.email, /email address was changed/, seen);
    assert.equal((await rw.login(next, r.password)).status, 200);
  });

  test('changing the password keeps the login that made it and ends the others', async () => {
    const u = await buildUser(t, { role: 'author' });
    const a = await logInEveryWay(u);
    const b = await logInEveryWay(u);
    await a.browser.get('/settings');
    assert.equal((await a.browser.postForm('/settings/password', { currentPassword: u.password, newPassword: 'second passphrase here' })).status, 303);
    assert.equal(await browserIn(a.browser), true, 'the session that changed it stays');
    assert.equal(await browserIn(b.browser), false);
    for (const tok of [a.apiToken, b.apiToken]) assert.equal(await apiMe(tok), 401);
    for (const tok of [a.rwToken, b.rwToken]) assert.equal(await rwMe(tok), 401);

    const c = await logInEveryWay({ ...u, password: 'second passphrase here' });
    const changed = await api('POST', '/api/v1/me/password', c.apiToken, { currentPassword: 'second passphrase here', newPassword: 'third passphrase here' });
    assert.equal(changed.statusCode, 204, changed.body);
    assert.equal(await apiMe(c.apiToken), 200, 'the API token that changed it stays');
    assert.equal(await rwMe(c.rwToken), 401);
    assert.equal(await browserIn(c.browser), false);
    assert.equal(await browserIn(a.browser), false);
  });

  test('suspension revokes sessions and tokens: reinstating does not bring them back', async () => {
    const admin = await buildUser(t, { role: 'admin' });
    const u = await buildUser(t, { role: 'author' });
    const personal = await buildToken(t, u);
    const logins = await logInEveryWay(u);
    const boss = new Client(t.app);
    await boss.login(admin.username, admin.password);
    await boss.get('/admin/users');
    assert.equal((await boss.postForm(`/admin/users/${u.id}/suspend`, { suspended: '1' })).status, 303);
    await boss.get('/admin/users');
    assert.equal((await boss.postForm(`/admin/users/${u.id}/suspend`, { suspended: '0' })).status, 303);
    assert.equal(await apiMe(personal), 401);
    assert.equal(await apiMe(logins.apiToken), 401);
    assert.equal(await rwMe(logins.rwToken), 401);
    assert.equal(await browserIn(logins.browser), false);
  });

  test('a newer reset link makes older ones invalid', async () => {
    const u = await buildUser(t, { role: 'reader' });
    const c = new Client(t.app);
    await c.get('/password/forgot');
    await c.postForm('/password/forgot', { email: u.email });
    const first = pathOf(linkIn(await mailTo(u.email, /Reset your/), '/password/reset/'));
    const seen = new Set(smtp.messages);
    await c.get('/password/forgot');
    await c.postForm('/password/forgot', { email: u.email });
    const second = pathOf(linkIn(await mailTo(u.email, /Reset your/, seen), '/password/reset/'));
    assert.notEqual(first, second);
    assert.equal((await c.get(first)).status, 400);
    assert.equal((await c.get(second)).status, 200);

    // Requests at once (a double click, a script): still only one link works.
    const v = await buildUser(t, { role: 'reader' });
    const before = new Set(smtp.messages);
    const statuses = await Promise.all([0, 1, 2].map(() => api('POST', '/api/v1/password/forgot', undefined, { email: v.email })));
    assert.deepEqual(
      statuses.map((r) => r.statusCode),
      [202, 202, 202],
    );
    await smtp.waitFor(() => smtp.messages.filter((m) => !before.has(m) && m.to.includes(v.email)).length === 3);
    const links = smtp.messages.filter((m) => !before.has(m) && m.to.includes(v.email)).map((m) => pathOf(linkIn(m, '/password/reset/')));
    const live = [];
    for (const l of links) if ((await c.get(l)).status === 200) live.push(l);
    assert.equal(live.length, 1, 'exactly one of the links works');
  });
});
