import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, setSite, type TestUser } from '../../../test/support/factories.ts';
import { linkIn, rawHeader, startSmtpCatcher, type SmtpCatcher } from '../../../test/support/smtp.ts';
import { apiRequest } from '../../../test/support/request.ts';

eachDatabase('email subscriptions', (dialect) => {
  let t: TestApp;
  let smtp: SmtpCatcher;
  let now = new Date('2026-11-29T12:00:00Z'); // a Sunday
  const clock = { now: () => now };
  let ann: TestUser, bea: TestUser, rex: TestUser, admin: TestUser;
  const tokens = new Map<number, string>();
  let ip = 0;

  before(async () => {
    smtp = await startSmtpCatcher();
    // 4 a minute: batches of 4, a minute apart.
    t = await buildTestApp(dialect, { clock, env: { SMTP_URL: smtp.url, SITE_URL: 'http://blog.test', SUBSCRIPTION_SEND_RATE: '4' } });
    [ann, bea, rex, admin] = await Promise.all([
      buildUser(t, { role: 'author' }),
      buildUser(t, { role: 'author' }),
      buildUser(t, { role: 'reader' }),
      buildUser(t, { role: 'admin' }),
    ]);
    for (const u of [ann, bea, rex, admin]) tokens.set(u.id, await buildToken(t, u));
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const api = (u: TestUser | null, method: string, url: string, body?: unknown) =>
    apiRequest(t.app, method, url, { token: u ? tokens.get(u.id) : undefined, body });
  /** An anonymous subscription through the API, each from its own IP address unless given. */
  const subscribe = (body: Record<string, unknown>, from = `10.0.0.${++ip}`) =>
    t.app.inject({ method: 'POST', url: '/api/v1/subscriptions', payload: body, remoteAddress: from });
  async function settle() {
    for (let i = 0; i < 20; i++) {
      const n = await t.queue.drain();
      if (n === 0) return;
    }
  }
  const inbox = (email: string) => smtp.messages.filter((m) => m.to.includes(email));
  async function confirmed(email: string): Promise<void> {
    assert.equal((await subscribe({ email })).statusCode, 202);
    await settle();
    const mail = await smtp.waitFor((m) => m.to.includes(email) && /Confirm your subscription/.test(m.subject));
    const res = await t.app.inject({ method: 'POST', url: new URL(linkIn(mail, '/subscriptions/confirm/')).pathname });
    assert.equal(res.statusCode, 200, res.body);
  }
  async function publish(author: TestUser, title: string): Promise<{ id: number; slug: string }> {
    now = new Date(now.getTime() + 60_000);
    const res = await api(author, 'POST', '/api/v1/posts', { title, body: `About ${title}.`, status: 'published' });
    assert.equal(res.statusCode, 201, res.body);
    await settle();
    return res.json();
  }
  const statusOf = async (email: string) =>
    (await t.db.kysely.selectFrom('subscribers').select('status').where('email', '=', email).where('author_id', 'is', null).executeTakeFirst())?.status;

  test('double opt-in from the footer form: GET shows a button, only POST confirms, the link works once', async () => {
    const home = await t.app.inject({ method: 'GET', url: '/' });
    assert.match(home.body, /<form class="subscribe inline" method="post" action="\/subscribe">/);
    const res = await t.app.inject({
      method: 'POST',
      url: '/subscribe',
      payload: 'email=Reader.One%40Example.test',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /Check your inbox/);
    await settle();
    const mail = await smtp.waitFor((m) => m.to.includes('reader.one@example.test'));
    const link = new URL(linkIn(mail, '/subscriptions/confirm/')).pathname;

    // A scanner fetching the link confirms nothing.
    const page = await t.app.inject({ method: 'GET', url: link });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post" action="\/subscriptions\/confirm\/[^"]+"><button type="submit">Confirm subscription/);
    assert.equal(await statusOf('reader.one@example.test'), 'pending');

    assert.equal((await t.app.inject({ method: 'POST', url: link })).statusCode, 200);
    assert.equal(await statusOf('reader.one@example.test'), 'confirmed');
    const again = await t.app.inject({ method: 'POST', url: link });
    assert.equal(again.statusCode, 400);
    assert.equal((await t.app.inject({ method: 'GET', url: link })).statusCode, 400);
  });

  test('the answer does not reveal whether an address is subscribed, and a confirmed one gets no new email', async () => {
    await confirmed('known@example.test');
    const sent = smtp.messages.length;
    const known = await subscribe({ email: 'known@example.test' });
    const unknown = await subscribe({ email: 'unknown@example.test' });
    assert.equal(known.statusCode, 202);
    assert.equal(unknown.statusCode, 202);
    assert.deepEqual(known.json(), unknown.json());
    await settle();
    await smtp.waitFor((m) => m.to.includes('unknown@example.test'));
    assert.equal(smtp.messages.length, sent + 1);
    assert.equal(await statusOf('known@example.test'), 'confirmed');
    // The same new address at once, three times: one subscription, no error.
    const same = await Promise.all([1, 2, 3].map(() => subscribe({ email: 'eager@example.test' })));
    assert.deepEqual(
      same.map((r) => r.statusCode),
      [202, 202, 202],
    );
    const rows = await t.db.kysely.selectFrom('subscribers').select('id').where('email', '=', 'eager@example.test').execute();
    assert.equal(rows.length, 1);
  });

  test('bad input is a 422 naming the field (API) or the form again with the input kept (HTML)', async () => {
    const res = await subscribe({ email: 'not an address' });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().errors[0].field, 'email');
    const freq = await subscribe({ email: 'ok@example.test', frequency: 'hourly' });
    assert.equal(freq.statusCode, 422);
    assert.match(freq.body, /frequency/);
    const form = await t.app.inject({
      method: 'POST',
      url: '/subscribe',
      payload: 'email=nope%3Cscript%3E',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      remoteAddress: '10.1.0.1',
    });
    assert.equal(form.statusCode, 422);
    assert.match(form.body, /value="nope&#60;script&#62;"/);
    assert.match(form.body, /must be an email address/);
    // The form and the API read one schema: the same words for a frequency that is neither.
    const often = await t.app.inject({
      method: 'POST',
      url: '/subscribe',
      payload: 'email=ok%40example.test&frequency=hourly',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      remoteAddress: '10.1.0.2',
    });
    assert.equal(often.statusCode, 422);
    assert.match(often.body, /value="ok@example.test"/);
    assert.match(often.body, /How often must be one of &#34;instant&#34;, &#34;weekly&#34;/);
    assert.equal(freq.json().errors[0].message, 'must be one of "instant", "weekly"');
  });

  test('rate-limited per address and per IP address', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await subscribe({ email: 'often@example.test' })).statusCode, 202);
    const fourth = await subscribe({ email: 'often@example.test' });
    assert.equal(fourth.statusCode, 429);
    assert.ok(fourth.headers['retry-after']);
    for (let i = 0; i < 10; i++) assert.equal((await subscribe({ email: `ip${i}@example.test` }, '10.9.9.9')).statusCode, 202);
    assert.equal((await subscribe({ email: 'ip-last@example.test' }, '10.9.9.9')).statusCode, 429);
    await settle();
  });

  test('a new post goes to confirmed instant subscribers with one-click unsubscribe and List-Id; unsubscribed ones get no more', async () => {
    await confirmed('fan@example.test');
    const post = await publish(ann, 'Hello subscribers');
    const mail = await smtp.waitFor((m) => m.to.includes('fan@example.test') && m.subject === 'Hello subscribers');
    assert.match(mail.text, new RegExp(`http://blog.test/posts/${post.slug}`));
    const unsub = rawHeader(mail, 'List-Unsubscribe')!;
    assert.match(unsub, /^<http:\/\/blog\.test\/subscriptions\/unsubscribe\/\d+\/[\w-]+>$/);
    assert.equal(rawHeader(mail, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    assert.match(rawHeader(mail, 'List-Id')!, /^Inkwell <posts\.subscribers\.blog\.test>$/);
    // Pending addresses got nothing.
    assert.equal(inbox('unknown@example.test').filter((m) => m.subject === 'Hello subscribers').length, 0);

    // GET (a scanner) changes nothing; the RFC 8058 POST, multipart as some clients send it, unsubscribes.
    const path = new URL(unsub.slice(1, -1)).pathname;
    assert.match((await t.app.inject({ method: 'GET', url: path })).body, /Stop sending/);
    assert.equal(await statusOf('fan@example.test'), 'confirmed');
    const boundary = 'xYz';
    const res = await t.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.body, 'Unsubscribed.\n');
    assert.equal(await statusOf('fan@example.test'), 'unsubscribed');
    const forged = await t.app.inject({ method: 'POST', url: path.replace(/\/[\w-]+$/, '/forged'), payload: { 'List-Unsubscribe': 'One-Click' } });
    assert.equal(forged.statusCode, 400);

    await publish(ann, 'After leaving');
    await smtp.waitFor((m) => m.to.includes('known@example.test') && m.subject === 'After leaving');
    assert.equal(inbox('fan@example.test').filter((m) => m.subject === 'After leaving').length, 0);
    // Publishing again (restored from the trash, republished) sends nothing twice.
    await t.events.record(t.db.kysely, 'post.published', { postId: post.id });
    await settle();
    assert.equal(inbox('known@example.test').filter((m) => m.subject === 'Hello subscribers').length, 1);
  });

  test('a signed-in reader subscribes to one author from the profile and manages it in settings', async () => {
    const rexClient = new Client(t.app);
    assert.equal((await rexClient.login(rex.username, rex.password)).status, 303);
    const profile = await rexClient.get(`/@${ann.username}`);
    assert.match(profile.body, new RegExp(`action="/@${ann.username}/subscribe"`));
    assert.equal((await rexClient.postForm(`/@${ann.username}/subscribe`, { frequency: 'instant' })).status, 303);
    assert.match((await rexClient.get(`/@${ann.username}`)).body, /You get .* posts by email/);
    // Without the CSRF token, nothing happens.
    assert.equal((await rexClient.request('POST', `/@${bea.username}/subscribe`, { form: { frequency: 'instant' } })).status, 403);
    // Anonymous visitors are asked to log in.
    assert.match((await t.app.inject({ method: 'GET', url: `/@${ann.username}` })).body, /Log in<\/a> to get/);

    await publish(bea, 'By Bea');
    await publish(ann, 'By Ann');
    const mail = await smtp.waitFor((m) => m.to.includes(rex.email) && m.subject === 'By Ann');
    assert.match(rawHeader(mail, 'List-Id')!, new RegExp(`<author-${ann.username.replace(/_/g, '-')}\\.subscribers\\.blog\\.test>`));
    assert.equal(inbox(rex.email).filter((m) => m.subject === 'By Bea').length, 0);
    // Subscribed to the whole blog too (a verified account's own address: no confirmation): one email a post.
    assert.equal((await api(rex, 'POST', '/api/v1/subscriptions', {})).statusCode, 202);
    await publish(ann, 'Ann again');
    await smtp.waitFor((m) => m.to.includes(rex.email) && m.subject === 'Ann again');
    await settle();
    assert.equal(inbox(rex.email).filter((m) => m.subject === 'Ann again').length, 1);
    const blogWide = await t.db.kysely
      .selectFrom('subscribers')
      .select('id')
      .where('email', '=', rex.email)
      .where('author_id', 'is', null)
      .executeTakeFirstOrThrow();
    await api(rex, 'DELETE', `/api/v1/subscriptions/${blogWide.id}`);

    const settings = await rexClient.get('/settings/subscriptions');
    assert.match(settings.body, new RegExp(`href="/@${ann.username}"`));
    const id = /action="\/settings\/subscriptions\/(\d+)"/.exec(settings.body)![1];
    assert.equal((await rexClient.postForm(`/settings/subscriptions/${id}`, { frequency: 'weekly' })).status, 303);
    const mine = (await api(rex, 'GET', '/api/v1/subscriptions')).json();
    assert.deepEqual(
      mine.map((s: { author: string; frequency: string }) => [s.author, s.frequency]),
      [[ann.username, 'weekly']],
    );
    assert.equal((await api(rex, 'PATCH', `/api/v1/subscriptions/${id}`, { frequency: 'hourly' })).statusCode, 422);
    assert.equal((await api(rex, 'PATCH', `/api/v1/subscriptions/${id}`, { frequency: 'instant' })).statusCode, 204);
    assert.equal((await api(rex, 'GET', '/api/v1/subscriptions')).json()[0].frequency, 'instant');
    // Someone else's subscription is not found.
    assert.equal((await api(ann, 'DELETE', `/api/v1/subscriptions/${id}`)).statusCode, 404);
    await rexClient.get('/settings/subscriptions');
    assert.equal((await rexClient.postForm(`/settings/subscriptions/${id}/cancel`, {})).status, 303);
    assert.deepEqual((await api(rex, 'GET', '/api/v1/subscriptions')).json(), []);
    // The API needs a signed-in caller for an author subscription.
    assert.equal((await subscribe({ email: 'x@example.test', author: ann.username })).statusCode, 401);
  });

  test('sending is batched at the configured rate, and one refused address does not block the others', async () => {
    const emails = Array.from({ length: 9 }, (_, i) => `batch${i}@example.test`);
    const at = now.toISOString();
    const rows = emails.map((email) => ({
      email,
      frequency: 'instant' as const,
      status: 'confirmed' as const,
      created_at: at,
      confirmed_at: at,
      digest_from: at,
    }));
    // An address the mailer refuses (kept from an old import, say), in the middle.
    rows.splice(4, 0, { ...rows[0], email: 'broken address@example.test' });
    await t.db.kysely.updateTable('subscribers').set({ status: 'unsubscribed' }).where('status', '=', 'confirmed').execute();
    await t.db.kysely.insertInto('subscribers').values(rows).execute();

    const post = await publish(bea, 'Batched');
    const got = () => emails.filter((e) => inbox(e).some((m) => m.subject === 'Batched'));
    // Rate 4 a minute: the first batch of 4 now, the next (one of them refused) a minute later.
    await smtp.waitFor((m) => m.to.includes('batch3@example.test') && m.subject === 'Batched');
    assert.deepEqual(got(), emails.slice(0, 4));
    now = new Date(now.getTime() + 61_000);
    await settle();
    await smtp.waitFor((m) => m.to.includes('batch6@example.test') && m.subject === 'Batched');
    assert.equal(got().length, 7);
    now = new Date(now.getTime() + 61_000);
    await settle();
    await smtp.waitFor((m) => m.to.includes('batch8@example.test') && m.subject === 'Batched');
    assert.deepEqual(got(), emails);
    const failed = await t.db.kysely
      .selectFrom('subscription_deliveries')
      .select(['status', 'error'])
      .where('post_id', '=', post.id)
      .where('status', '=', 'failed')
      .execute();
    assert.equal(failed.length, 1);
    assert.match(failed[0].error!, /email/);
  });

  test('weekly subscribers get one digest from Monday 08:00 in the site time zone', async () => {
    await setSite(t, { timeZone: 'America/New_York' });
    now = new Date('2026-11-29T16:00:00Z'); // Sunday, 11:00 in New York, after the other tests' posts
    assert.equal(await t.app.inject({ method: 'GET', url: '/' }).then((r) => r.statusCode), 200);
    await subscribe({ email: 'weekly@example.test', frequency: 'weekly' });
    await settle();
    const mail = await smtp.waitFor((m) => m.to.includes('weekly@example.test'));
    await t.app.inject({ method: 'POST', url: new URL(linkIn(mail, '/subscriptions/confirm/')).pathname });
    const weeks = async () => (await t.db.kysely.selectFrom('subscription_digest_runs').select('week').orderBy('week').execute()).map((r) => r.week);
    await t.scheduler.tick(); // the schedule's first tick only starts counting
    await t.scheduler.tick();
    await publish(ann, 'Weekly one');
    await publish(bea, 'Weekly two');
    assert.equal(inbox('weekly@example.test').length, 1);

    now = new Date('2026-11-30T12:55:00Z'); // Monday 07:55 in New York: last week's run is the latest due
    await t.scheduler.tick();
    await settle();
    assert.equal(inbox('weekly@example.test').length, 1);
    now = new Date('2026-11-30T13:05:00Z'); // 08:05
    await t.scheduler.tick();
    assert.deepEqual(await weeks(), ['2026-11-23', '2026-11-30']);
    now = new Date('2026-11-30T13:15:00Z');
    await t.scheduler.tick();
    assert.deepEqual(await weeks(), ['2026-11-23', '2026-11-30']);
    await settle();
    const digest = await smtp.waitFor((m) => m.to.includes('weekly@example.test') && /this week/.test(m.subject));
    assert.match(digest.subject, /^2 new posts/);
    assert.match(digest.text, /Weekly one/);
    assert.match(digest.text, /Weekly two/);
    assert.ok(rawHeader(digest, 'List-Unsubscribe'));
    assert.equal(inbox('weekly@example.test').length, 2);
  });

  test('/admin/subscribers shows counts and exports CSV safe against formula injection', async () => {
    await subscribe({ email: '=1+2@evil.test' });
    await subscribe({ email: '@sum@evil.test' }).then((r) => assert.equal(r.statusCode, 422));
    await subscribe({ email: '-cmd@evil.test' });
    const adminClient = new Client(t.app);
    await adminClient.login(admin.username, admin.password);
    const page = await adminClient.get('/admin/subscribers');
    assert.equal(page.status, 200);
    const counts = await t.db.kysely.selectFrom('subscribers').select(['status']).execute();
    const n = (s: string) => counts.filter((c) => c.status === s).length;
    assert.match(page.body, new RegExp(`<strong id="count-confirmed">${n('confirmed')}</strong>`));
    assert.match(page.body, new RegExp(`<strong id="count-pending">${n('pending')}</strong>`));
    assert.match(page.body, new RegExp(`<strong id="count-unsubscribed">${n('unsubscribed')}</strong>`));
    assert.match(page.body, /1\+2@evil\.test/);

    const csv = await adminClient.get('/admin/subscribers.csv');
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    assert.equal(lines[0], '"email","author","frequency","status","created_at","confirmed_at"');
    assert.equal(lines.length, counts.length + 1);
    assert.ok(lines.includes(lines.find((l) => l.startsWith(`"'=1+2@evil.test"`))!));
    assert.ok(lines.some((l) => l.startsWith(`"'-cmd@evil.test"`)));
    assert.ok(!lines.some((l) => /^"[=+\-@]/.test(l)));

    const reader = new Client(t.app);
    await reader.login(rex.username, rex.password);
    assert.equal((await reader.get('/admin/subscribers.csv')).status, 403);
  });
});
