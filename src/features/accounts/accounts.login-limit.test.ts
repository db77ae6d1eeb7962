// Issue 13, item 3: one login budget per address and one per account, shared by
// every login route, counted before the password check; the owner keeps a way in.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildUser, type TestUser } from '../../../test/support/factories.ts';

eachDatabase('login limits add up across routes, spellings and concurrency', (dialect) => {
  let t: TestApp;
  let now = Date.now();
  const clock = { now: () => new Date(now) };
  let n = 0;

  before(async () => {
    t = await buildTestApp(dialect, { clock });
  });
  after(() => t.close());

  // A fresh client address for each test, so tests do not share per-address budgets.
  const address = () => `198.51.100.${++n}`;

  // The three login routes, the way their clients call them (an HTML form post with its CSRF token).
  async function htmlLogin(ip: string, login: string, password: string): Promise<number> {
    const page = await t.app.inject({ url: '/login', remoteAddress: ip });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
    const cookie = page.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await t.app.inject({
      method: 'POST',
      url: '/login',
      remoteAddress: ip,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf, login, password }).toString(),
    });
    return res.statusCode;
  }
  const apiLogin = async (ip: string, login: string, password: string) =>
    (await t.app.inject({ method: 'POST', url: '/api/v1/sessions', remoteAddress: ip, payload: { login, password } })).statusCode;
  const rwLogin = async (ip: string, email: string, password: string) =>
    (await t.app.inject({ method: 'POST', url: '/realworld/api/users/login', remoteAddress: ip, payload: { user: { email, password } } })).statusCode;
  const ok = (status: number) => status === 303 || status === 201 || status === 200;

  test('failures on one account count once, whichever route and spelling they use', async () => {
    const u: TestUser = await buildUser(t, { role: 'reader' });
    const ip = address();
    const tries = [
      () => htmlLogin(ip, u.username, 'wrong 1'),
      () => htmlLogin(ip, u.email.toUpperCase(), 'wrong 2'),
      () => apiLogin(ip, u.username, 'wrong 3'),
      () => apiLogin(ip, u.email, 'wrong 4'),
      () => rwLogin(ip, u.email, 'wrong 5'),
    ];
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(await tries[i % tries.length]());
    assert.deepEqual(statuses, Array(10).fill(401));
    assert.equal(await rwLogin(ip, u.email, 'wrong 11'), 429);
    assert.equal(await apiLogin(ip, u.username, 'wrong 12'), 429);
    assert.equal(await htmlLogin(ip, u.email, u.password), 429, 'the guessing address waits, even with the right password');
  });

  test('guesses sent at once are counted before the password check', async () => {
    const u = await buildUser(t, { role: 'reader' });
    const ip = address();
    const statuses = await Promise.all(Array.from({ length: 250 }, (_, i) => apiLogin(ip, u.username, `wrong ${i}`)));
    const checked = statuses.filter((s) => s === 401).length;
    assert.equal(checked, 10, `passwords checked: ${checked}`);
    assert.equal(statuses.filter((s) => s === 429).length, 240);
  });

  test("the owner is not locked out by someone else's guesses", async () => {
    const u = await buildUser(t, { role: 'reader' });
    const attacker = address();
    for (let i = 0; i < 10; i++) assert.equal(await apiLogin(attacker, u.username, `guess ${i}`), 401);
    assert.equal(await apiLogin(attacker, u.username, 'guess 10'), 429);

    assert.ok(ok(await htmlLogin(address(), u.email, u.password)), 'the right password from an address that has not failed');
    assert.ok(ok(await rwLogin(address(), u.email, u.password)));
    // An address that never failed gets a try, and one failure makes it wait too.
    const other = address();
    assert.equal(await apiLogin(other, u.username, 'guess 11'), 401);
    assert.equal(await apiLogin(other, u.username, u.password), 429);

    // The window ends: the attacker's address may try again.
    now += 15 * 60_000 + 1000;
    assert.equal(await apiLogin(attacker, u.username, 'guess 12'), 401);
  });

  test('a password reset gives the account back its login budget', async () => {
    const u = await buildUser(t, { role: 'reader' });
    const ip = address();
    for (let i = 0; i < 10; i++) await apiLogin(ip, u.username, `guess ${i}`);
    assert.equal(await apiLogin(ip, u.username, u.password), 429);
    const { token } = await resetToken(u);
    const reset = await t.app.inject({ method: 'POST', url: '/api/v1/password/reset', remoteAddress: ip, payload: { token, password: 'back in control now' } });
    assert.equal(reset.statusCode, 204, reset.body);
    assert.equal(await apiLogin(ip, u.username, 'back in control now'), 201);
  });

  test('one budget of 60 login attempts a minute per address, across the three routes', async () => {
    const ip = address();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push(await htmlLogin(ip, `nobody${i}a`, 'x'), await apiLogin(ip, `nobody${i}b`, 'x'), await rwLogin(ip, `nobody${i}@c.test`, 'x'));
    }
    assert.deepEqual(statuses, Array(60).fill(401));
    assert.equal(await rwLogin(ip, 'nobody@d.test', 'x'), 429);
    now += 61_000;
    assert.equal(await rwLogin(ip, 'nobody@e.test', 'x'), 401, 'the next minute has a new budget');
  });

  test('sign-up: 20 an hour per address, RealWorld included', async () => {
    const ip = address();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `su${n}x${i}`;
      const res =
        i % 2
          ? await t.app.inject({
              method: 'POST',
              url: '/api/v1/users',
              remoteAddress: ip,
              payload: { email: `${name}@example.test`, username: name, password: 'a long passphrase' },
            })
          : await t.app.inject({
              method: 'POST',
              url: '/realworld/api/users',
              remoteAddress: ip,
              payload: { user: { email: `${name}@example.test`, username: name, password: 'a long passphrase' } },
            });
      statuses.push(res.statusCode);
    }
    assert.deepEqual(statuses, Array(20).fill(201));
    const more = await t.app.inject({
      method: 'POST',
      url: '/realworld/api/users',
      remoteAddress: ip,
      payload: { user: { email: `su${n}y@example.test`, username: `su${n}y`, password: 'a long passphrase' } },
    });
    assert.equal(more.statusCode, 429, more.body);
    assert.ok(Number(more.headers['retry-after']) > 0);
  });

  // Only hashes of reset tokens are stored, so the test asks for one through the API
  // and reads the mail kept in the outbox (no SMTP_URL here).
  async function resetToken(u: TestUser): Promise<{ token: string }> {
    await t.app.inject({ method: 'POST', url: '/api/v1/password/forgot', remoteAddress: address(), payload: { email: u.email } });
    await t.queue.drain();
    const row = await t.db.kysely.selectFrom('mail_outbox').select('text').where('to_address', '=', u.email).orderBy('id', 'desc').executeTakeFirstOrThrow();
    const token = /\/password\/reset\/([\w-]+)/.exec(row.text)![1];
    return { token };
  }
});
