// Issue 13, item 5: ?next= never leaves the site and never causes a 500.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildUser, type TestUser } from '../../../test/support/factories.ts';

const SITE = 'http://blog.test';

// Values as the server receives them (after the query string or form is decoded).
const HOSTILE = [
  '//evil.example/',
  '/\\evil.example/',
  '/\t/evil.example/',
  '/\n/evil.example/',
  '/\r/evil.example/',
  'https://evil.example/',
  'http:evil.example',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,x',
  '/x\r\nSet-Cookie: pwned=1',
  '/x\nLocation: //evil.example',
  '/..//evil.example/',
  '/./\\evil.example',
  '\\\\evil.example',
  ' //evil.example',
  '//evil.example@blog.test',
  '/\\/evil.example',
  '/\u0085/evil.example',
  'evil.example',
  '%2F%2Fevil.example',
  '\t//evil.example',
];
// Raw query strings, encoded the ways a crafted link would be.
const HOSTILE_QUERIES = [
  'next=/%09/evil.example/',
  'next=%2F%2Fevil.example',
  'next=/%5Cevil.example',
  'next=%0D%0A',
  'next=/x%0D%0ASet-Cookie:%20a=b',
  'next=%2F%09%2Fevil.example',
  'next=https:%2F%2Fevil.example',
  'next=/%2e%2e//evil.example',
];

/** Where a browser would go: it drops tabs and newlines and resolves against the page. */
function browserTarget(location: string): URL {
  return new URL(location.replace(/[\t\n\r]/g, ''), SITE);
}

eachDatabase('?next= only ever leads within the site', (dialect) => {
  let t: TestApp;
  let u: TestUser;
  let signedIn: Client;

  before(async () => {
    t = await buildTestApp(dialect, { env: { SITE_URL: SITE } });
    u = await buildUser(t, { role: 'author' });
    signedIn = new Client(t.app);
    await signedIn.login(u.username, u.password);
  });
  after(() => t.close());

  function assertHome(status: number, location: unknown, what: string) {
    assert.equal(status, 303, `${what}: status ${status}`);
    assert.equal(location, '/', `${what}: Location ${JSON.stringify(location)}`);
    assert.equal(browserTarget(String(location)).origin, SITE, what);
  }

  test('GET /login while signed in: hostile values go home', async () => {
    for (const next of HOSTILE) {
      const res = await signedIn.get(`/login?next=${encodeURIComponent(next)}`);
      assertHome(res.status, res.headers.location, JSON.stringify(next));
    }
    for (const q of HOSTILE_QUERIES) {
      const res = await signedIn.get(`/login?${q}`);
      assert.equal(res.status, 303, q);
      assert.equal(browserTarget(String(res.headers.location)).origin, SITE, `${q} → ${res.headers.location}`);
      assert.doesNotMatch(String(res.headers.location), /[\r\n\t]/, q);
    }
  });

  test('GET /login signed out carries only a safe next in the form', async () => {
    for (const next of HOSTILE) {
      const res = await new Client(t.app).get(`/login?next=${encodeURIComponent(next)}`);
      assert.equal(res.status, 200, JSON.stringify(next));
      assert.match(res.body, /name="next" value="\/"/, JSON.stringify(next));
    }
  });

  test('POST /login: hostile values go home, with the session cookie, and leave no stray session', async () => {
    for (const next of HOSTILE) {
      const c = new Client(t.app);
      await c.get('/login');
      const before = Number(
        (
          await t.db.kysely
            .selectFrom('sessions')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('user_id', '=', u.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
      const res = await c.postForm('/login', { login: u.username, password: u.password, next });
      assertHome(res.status, res.headers.location, JSON.stringify(next));
      assert.ok(c.cookies.get('inkwell_session'), `${JSON.stringify(next)}: the session cookie is sent`);
      const after = Number(
        (
          await t.db.kysely
            .selectFrom('sessions')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('user_id', '=', u.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
      assert.equal(after, before + 1, `${JSON.stringify(next)}: one session, the one whose cookie was sent`);
      assert.equal((await c.get('/settings')).status, 200);
    }

    // A NUL is refused (400) before any login happens.
    {
      const c = new Client(t.app);
      await c.get('/login');
      const before = await t.db.kysely.selectFrom('sessions').select('id_hash').where('user_id', '=', u.id).execute();
      const res = await c.postForm('/login', { login: u.username, password: u.password, next: '\u0000/' });
      assert.equal(res.status, 400);
      assert.equal(c.cookies.get('inkwell_session'), undefined);
      assert.equal((await t.db.kysely.selectFrom('sessions').select('id_hash').where('user_id', '=', u.id).execute()).length, before.length);
    }
  });

  test('same-site paths are kept, query and fragment included', async () => {
    for (const [next, expected] of [
      ['/posts/hello?x=1#c', '/posts/hello?x=1#c'],
      ['/@someone', '/@someone'],
      ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
      ['/caf\u00e9', '/caf%C3%A9'],
    ]) {
      const res = await signedIn.get(`/login?next=${encodeURIComponent(next)}`);
      assert.equal(res.headers.location, expected);
      const c = new Client(t.app);
      await c.get('/login');
      assert.equal((await c.postForm('/login', { login: u.username, password: u.password, next })).headers.location, expected);
    }
    const none = new Client(t.app);
    await none.get('/login');
    assert.equal((await none.postForm('/login', { login: u.username, password: u.password })).headers.location, '/admin/posts', 'no next: the dashboard');
  });
});
