import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildUser, type TestUser } from '../../../test/support/factories.ts';
import { systemClock } from '../../lib/clock.ts';
import { createQueue } from '../../platform/jobs/queue.ts';
import { createMailer, renderEmail } from '../../platform/mail/index.ts';

// The outbox page is where a blog without SMTP reads its mail, so it must page
// through many messages, show why delivery failed, and never let a message's
// HTML run in our origin.
eachDatabase('/admin/mail pages', (dialect) => {
  let t: TestApp;
  let admin: TestUser;
  const ids = new Map<string, number>();

  before(async () => {
    t = await buildTestApp(dialect);
    admin = await buildUser(t, { role: 'admin' });
    const body = renderEmail({ siteName: 'Test blog', siteUrl: 'http://blog.test', heading: 'Hi', paragraphs: ['Paged'] });
    for (let i = 1; i <= 55; i++) {
      await t.mailer.send(t.db.kysely, { to: `paged${i}@example.test`, subject: `Paged message ${String(i).padStart(2, '0')}`, ...body });
    }
    // An attribute breakout attempt and a script: both must stay inert text in srcdoc.
    await t.mailer.send(t.db.kysely, {
      to: 'hostile@example.test',
      toName: 'Hostile <Sender>',
      subject: 'Hostile "quoted" subject',
      html: '<p>Hi</p>"><script>alert(1)</script><img src=x onerror=alert(2)>',
      text: 'Plain <b>text</b> body\nsecond line',
    });
    // No SMTP_URL: everything so far is kept at once, with nothing to deliver.
    assert.equal(await t.queue.drain(), 0);
    // A message whose delivery fails (nothing listens on port 1) shows its error.
    const queue = createQueue({ db: t.db.kysely, clock: systemClock, dialect });
    const broken = createMailer({ db: t.db.kysely, clock: systemClock, queue, smtpUrl: 'smtp://127.0.0.1:1', from: 'blog@blog.test' });
    await broken.send(t.db.kysely, { to: 'bounced@example.test', subject: 'Bounced message', ...body });
    await queue.drain();
    await broken.stop();
    for (const r of await t.db.kysely.selectFrom('mail_outbox').select(['id', 'to_address']).execute()) ids.set(r.to_address, r.id);
  });
  after(() => t.close());

  const adminClient = async () => {
    const c = new Client(t.app);
    await c.login(admin.username, admin.password);
    return c;
  };

  test('anonymous visitors are sent to log in and come back', async () => {
    for (const url of ['/admin/mail', `/admin/mail/${ids.get('hostile@example.test')}`]) {
      const res = await new Client(t.app).get(url);
      assert.equal(res.status, 303, url);
      assert.equal(res.headers.location, `/login?next=${encodeURIComponent(url)}`);
    }
  });

  test('authors and editors are forbidden, on the list and on a message', async () => {
    for (const role of ['author', 'editor'] as const) {
      const u = await buildUser(t, { role });
      const c = new Client(t.app);
      await c.login(u.username, u.password);
      assert.equal((await c.get('/admin/mail')).status, 403, role);
      assert.equal((await c.get(`/admin/mail/${ids.get('hostile@example.test')}`)).status, 403, role);
      assert.doesNotMatch((await c.get('/')).body, /href="\/admin\/mail"/, 'no Mail link for non-admins');
    }
  });

  test('newest first, 50 a page, "Older" pages by id', async () => {
    const c = await adminClient();
    const first = await c.get('/admin/mail');
    assert.equal(first.status, 200);
    const subjects = (body: string) => [...body.matchAll(/href="\/admin\/mail\/\d+">([^<]+)</g)].map((m) => m[1]);
    const page1 = subjects(first.body);
    assert.equal(page1.length, 50);
    assert.deepEqual(page1.slice(0, 3), ['Bounced message', 'Hostile &#34;quoted&#34; subject', 'Paged message 55']);
    assert.equal(page1.at(-1), 'Paged message 08');
    const older = /href="(\/admin\/mail\?before=(\d+))"/.exec(first.body);
    assert.ok(older, 'an Older link');
    assert.equal(Number(older[2]), ids.get('paged8@example.test'));

    const second = await c.get(older[1]);
    assert.equal(second.status, 200);
    assert.deepEqual(
      subjects(second.body),
      ['07', '06', '05', '04', '03', '02', '01'].map((n) => `Paged message ${n}`),
    );
    assert.doesNotMatch(second.body, /before=/, 'no Older link on the last page');

    // A malformed cursor is ignored rather than an error.
    assert.equal(subjects((await c.get('/admin/mail?before=abc')).body).length, 50);
  });

  test('a failed delivery shows its status, attempts and error', async () => {
    const c = await adminClient();
    const list = await c.get('/admin/mail');
    const row = /<tr><td>bounced@example\.test<\/td>[\s\S]*?<\/tr>/.exec(list.body);
    assert.ok(row, 'the bounced message is listed');
    assert.match(row[0], /pending/);
    assert.match(row[0], /ECONNREFUSED|connect/i);
    const one = await c.get(`/admin/mail/${ids.get('bounced@example.test')}`);
    assert.match(one.body, /Last error/);
    assert.match(one.body, /1 attempt/);
  });

  test("a message's page: recipient, text body escaped, HTML body inert in a sandboxed srcdoc", async () => {
    const c = await adminClient();
    const one = await c.get(`/admin/mail/${ids.get('hostile@example.test')}`);
    assert.equal(one.status, 200);
    assert.match(one.body, /<h1>Hostile &#34;quoted&#34; subject<\/h1>/);
    assert.match(one.body, /Hostile &#60;Sender&#62; &#60;hostile@example\.test&#62;/);
    assert.match(one.body, /<pre[^>]*>Plain &#60;b&#62;text&#60;\/b&#62; body\nsecond line<\/pre>/);
    const frame = /<iframe ([^>]*)>/.exec(one.body);
    assert.ok(frame, 'an iframe');
    assert.match(frame[1], /^sandbox /, 'sandbox with no allowances');
    assert.doesNotMatch(frame[1], /allow-/);
    const srcdoc = /srcdoc="([^"]*)"/.exec(frame[1]);
    assert.ok(srcdoc, 'srcdoc stays one attribute');
    assert.match(srcdoc[1], /&#60;script&#62;alert\(1\)/);
    assert.doesNotMatch(one.body, /<script>alert|<img src=x/);
    assert.match(String(one.headers['content-security-policy']), /script-src 'self'/);
  });

  test('unknown, non-numeric and out-of-range ids are 404', async () => {
    const c = await adminClient();
    for (const id of ['999999', 'abc', '1.5', '-1', '0x1', '99999999999999999999']) {
      assert.equal((await c.get(`/admin/mail/${id}`)).status, 404, id);
    }
  });
});
