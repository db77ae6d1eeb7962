// Issue 19: rate limits hold across instances. On PostgreSQL the counters live in
// the database, so two app instances on one database (two servers behind a proxy)
// share every budget; SQLite is served by one process and keeps them in memory.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiRequest } from '../../../test/support/request.ts';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildUser } from '../../../test/support/factories.ts';
import { createDbCounterStore } from './rate-limit.ts';

eachDatabase('rate limits on one database', (dialect) => {
  let a: TestApp;
  let b: TestApp | undefined;
  let now = Date.now();
  const clock = { now: () => new Date(now) };
  let n = 0;
  const address = () => `203.0.113.${++n}`;
  const several = dialect === 'postgres' ? {} : { skip: 'SQLite is served by one process; its counters stay in memory' };

  before(async () => {
    a = await buildTestApp(dialect, { clock });
    if (dialect === 'postgres') b = await buildTestApp(dialect, { clock, sameDbAs: a });
  });
  after(async () => {
    await b?.close();
    await a.close();
  });

  const login = (t: TestApp, ip: string, login: string, password: string) => apiRequest(t.app, 'POST', '/api/v1/sessions', { ip, body: { login, password } });

  test('failed logins on two instances share one budget: the 11th is refused on either', several, async () => {
    const u = await buildUser(a, { role: 'reader' });
    const ip = address();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await login(i % 2 ? b! : a, ip, u.username, `wrong ${i}`)).statusCode);
    assert.deepEqual(statuses, Array(10).fill(401));
    const onA = await login(a, ip, u.username, 'wrong 11');
    const onB = await login(b!, ip, u.username, u.password);
    assert.equal(onA.statusCode, 429);
    assert.equal(onB.statusCode, 429, 'the other instance refuses too, even the right password');
    assert.ok(Number(onB.headers['retry-after']) > 0);
  });

  test('guesses sent at once to both instances are each counted once', several, async () => {
    const u = await buildUser(a, { role: 'reader' });
    const ip = address();
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => login(i % 2 ? b! : a, ip, u.username, `wrong ${i}`)));
    assert.equal(statuses.filter((r) => r.statusCode === 401).length, 10);
    assert.equal(statuses.filter((r) => r.statusCode === 429).length, 30);
  });

  test('sign-ups from one address share one budget across instances', several, async () => {
    const ip = address();
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const res = await apiRequest(i % 2 ? b!.app : a.app, 'POST', '/api/v1/users', {
        ip,
        body: { email: `rl${i}_${process.pid}@example.test`, username: `rl${i}_${process.pid}`, password: 'a long enough password' },
      });
      statuses.push(res.statusCode);
    }
    assert.deepEqual(statuses, [...Array(20).fill(201), 429]);
  });

  test('a window that has ended counts from one again', async () => {
    const u = await buildUser(a, { role: 'reader' });
    const ip = address();
    const other = b ?? a;
    for (let i = 0; i < 10; i++) await login(a, ip, u.username, `wrong ${i}`);
    assert.equal((await login(other, ip, u.username, 'wrong')).statusCode, 429);
    now += 15 * 60_000 + 1000;
    assert.equal((await login(other, ip, u.username, 'wrong again')).statusCode, 401);
    assert.equal((await login(a, ip, u.username, u.password)).statusCode, 201);
  });
});

eachDatabase('the database counter store', (dialect) => {
  let t: TestApp;
  let now = Date.now();
  const clock = { now: () => new Date(now) };
  before(async () => {
    t = await buildTestApp(dialect, { clock });
  });
  after(() => t.close());
  const rows = async () =>
    (await t.db.kysely.selectFrom('rate_limit_counters').select(['key', 'count']).orderBy('key').execute())
      .filter((r) => r.key.startsWith('store:'))
      .map((r) => ({ key: r.key, count: Number(r.count) }));

  test('counts, takes back, forgets, and clears ended windows away now and then', async () => {
    const store = createDbCounterStore(t.db.kysely, clock, { sweepEvery: 5 });
    assert.deepEqual(await store.hit('store:a', 60_000), { count: 1, retryAfterMs: 60_000 });
    now += 10_000;
    assert.deepEqual(await store.hit('store:a', 60_000), { count: 2, retryAfterMs: 50_000 });
    await store.undo('store:a');
    assert.equal((await store.hit('store:a', 60_000)).count, 2);
    await store.hit('store:b', 1000);
    await store.clear('store:a');
    assert.deepEqual(await rows(), [{ key: 'store:b', count: 1 }]);
    now += 2000;
    // The fifth hit sweeps: b's window has ended, so its row goes.
    assert.equal((await store.hit('store:c', 60_000)).count, 1);
    for (let i = 0; i < 50 && (await rows()).some((r) => r.key === 'store:b'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await rows(), [{ key: 'store:c', count: 1 }]);
    // A new window on an ended key counts from one.
    now += 61_000;
    assert.equal((await store.hit('store:c', 60_000)).count, 1);
  });
});
