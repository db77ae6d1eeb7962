import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, freshDb } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildUser } from '../../../test/support/factories.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../../test/support/smtp.ts';
import type { Db } from '../db/index.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createMailer, renderEmail, type MailMessage } from './index.ts';

const message = (to: string, subject = 'Hello'): MailMessage => ({
  to,
  subject,
  ...renderEmail({
    siteName: 'Test blog',
    siteUrl: 'http://blog.test',
    heading: 'Hi',
    paragraphs: ['Body text'],
    action: { label: 'Go', url: 'http://blog.test/x' },
  }),
});

eachDatabase('the mail outbox', (dialect) => {
  let db: Db;
  let drop: () => Promise<void>;
  let smtp: SmtpCatcher;
  let now = new Date('2026-11-23T10:00:00Z');
  const clock = { now: () => now };
  const statusOf = async (to: string) => db.kysely.selectFrom('mail_outbox').selectAll().where('to_address', '=', to).executeTakeFirstOrThrow();

  before(async () => {
    const fresh = await freshDb(dialect);
    db = fresh.db;
    drop = fresh.drop;
    await migrateToLatest(db.kysely);
    smtp = await startSmtpCatcher();
  });
  after(async () => {
    await smtp.stop();
    await drop();
  });

  test('a message exists only if the change that sent it commits; without SMTP it is kept', async () => {
    const mailer = createMailer({ db: db.kysely, clock, from: 'blog@blog.test' });
    await assert.rejects(
      db.kysely.transaction().execute(async (trx) => {
        await mailer.send(trx, message('rolled@back.test'));
        throw new Error('the change failed');
      }),
    );
    await db.kysely.transaction().execute((trx) => mailer.send(trx, message('kept@blog.test')));
    assert.equal(await mailer.deliverDue(), 1);
    const rows = (await db.kysely.selectFrom('mail_outbox').select(['to_address', 'status']).execute()).map((r) => ({ ...r }));
    assert.deepEqual(rows, [{ to_address: 'kept@blog.test', status: 'kept' }]);
    await mailer.stop();
  });

  test('with SMTP: delivered once, to exactly its recipient, as HTML and text', async () => {
    const mailer = createMailer({ db: db.kysely, clock, smtpUrl: smtp.url, from: 'Blog <blog@blog.test>' });
    await mailer.send(db.kysely, { ...message('reader@example.test'), toName: 'Ada Reader' });
    await mailer.deliverDue();
    const got = await smtp.waitFor((m) => m.to.includes('reader@example.test'));
    assert.deepEqual(got.to, ['reader@example.test']);
    assert.match(got.text, /http:\/\/blog\.test\/x/);
    assert.match(got.html, /Body text/);
    assert.match(got.raw, /^To: Ada Reader <reader@example\.test>/m);
    assert.equal((await statusOf('reader@example.test')).status, 'sent');
    await mailer.deliverDue();
    assert.equal(smtp.messages.filter((m) => m.to.includes('reader@example.test')).length, 1);
    await mailer.stop();
  });

  test('SMTP down, then up: retried after the backoff and delivered once', async () => {
    const mailer = createMailer({ db: db.kysely, clock, smtpUrl: smtp.url, from: 'blog@blog.test', retryDelaysMs: [60_000, 600_000] });
    await smtp.stop();
    try {
      await mailer.send(db.kysely, message('patient@example.test'));
      await mailer.deliverDue();
      const row = await statusOf('patient@example.test');
      assert.equal(row.status, 'pending');
      assert.equal(row.attempts, 1);
      assert.ok(row.last_error);
      assert.ok(Date.parse(row.next_attempt_at) > now.getTime() + 50_000, 'waits about a minute');
      assert.equal(await mailer.deliverDue(), 0, 'not due yet');
    } finally {
      await smtp.start();
    }
    now = new Date(now.getTime() + 70_000);
    await mailer.deliverDue();
    await smtp.waitFor((m) => m.to.includes('patient@example.test'));
    const row = await statusOf('patient@example.test');
    assert.equal(row.status, 'sent');
    assert.equal(row.attempts, 2);
    await mailer.deliverDue();
    assert.equal(smtp.messages.filter((m) => m.to.includes('patient@example.test')).length, 1);
    await mailer.stop();
  });

  test('after the last retry the message is failed, with its error', async () => {
    const mailer = createMailer({ db: db.kysely, clock, smtpUrl: 'smtp://127.0.0.1:1', from: 'blog@blog.test', retryDelaysMs: [1000] });
    await mailer.send(db.kysely, message('doomed@example.test'));
    await mailer.deliverDue();
    now = new Date(now.getTime() + 2000);
    await mailer.deliverDue();
    const row = await statusOf('doomed@example.test');
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 2);
    assert.match(row.last_error ?? '', /ECONNREFUSED|connect/i);
    await mailer.stop();
  });

  test('two instances delivering at once send a message once', async () => {
    const a = createMailer({ db: db.kysely, clock, smtpUrl: smtp.url, from: 'blog@blog.test' });
    const b = createMailer({ db: db.kysely, clock, smtpUrl: smtp.url, from: 'blog@blog.test' });
    for (let i = 0; i < 5; i++) await a.send(db.kysely, message(`race${i}@example.test`));
    await Promise.all([a.deliverDue(), b.deliverDue(), a.deliverDue(), b.deliverDue()]);
    for (let i = 0; i < 5; i++) await smtp.waitFor((m) => m.to.includes(`race${i}@example.test`));
    await new Promise((r) => setTimeout(r, 200));
    const counts = [0, 1, 2, 3, 4].map((i) => smtp.messages.filter((m) => m.to.includes(`race${i}@example.test`)).length);
    assert.deepEqual(counts, [1, 1, 1, 1, 1]);
    await a.stop();
    await b.stop();
  });

  test('header injection is refused: one message, one recipient', async () => {
    const mailer = createMailer({ db: db.kysely, clock, smtpUrl: smtp.url, from: 'blog@blog.test' });
    const attempts: MailMessage[] = [
      message('victim@example.test\r\nBcc: evil@example.test'),
      message('victim@example.test, evil@example.test'),
      message('Victim <victim@example.test>'),
      message('victim@example.test', 'Hi\r\nBcc: evil@example.test'),
      { ...message('victim@example.test'), toName: 'Victim\r\nBcc: evil@example.test' },
    ];
    for (const m of attempts) {
      await assert.rejects(mailer.send(db.kysely, m), (e: Error & { code?: string }) => e.code === 'validation_failed', JSON.stringify(m.to));
    }
    await mailer.deliverDue();
    assert.equal(smtp.messages.filter((m) => m.to.includes('evil@example.test')).length, 0);
    const stored = await db.kysely.selectFrom('mail_outbox').select('id').where('to_address', 'like', '%victim%').execute();
    assert.equal(stored.length, 0);
    await mailer.stop();
  });
});

eachDatabase('/admin/mail', (dialect) => {
  test('admins read the outbox; others may not', async () => {
    const t = await buildTestApp(dialect);
    try {
      const admin = await buildUser(t, { role: 'admin' });
      const author = await buildUser(t, { role: 'author' });
      await t.mailer.send(t.db.kysely, { ...message('someone@example.test', 'Outbox <test> subject'), html: '<p>Hi</p><script>alert(1)</script>' });
      await t.mailer.deliverDue();
      const c = new Client(t.app);
      await c.login(admin.username, admin.password);
      const list = await c.get('/admin/mail');
      assert.equal(list.status, 200);
      assert.match(list.body, /Outbox &#60;test&#62; subject/);
      assert.match(list.body, /kept/);
      const id = /href="\/admin\/mail\/(\d+)"/.exec(list.body)![1];
      const one = await c.get(`/admin/mail/${id}`);
      assert.equal(one.status, 200);
      assert.match(one.body, /<iframe sandbox /);
      assert.doesNotMatch(one.body, /<script>alert/, 'the message HTML is escaped into srcdoc');
      assert.equal((await c.get('/admin/mail/999999')).status, 404);

      const other = new Client(t.app);
      await other.login(author.username, author.password);
      assert.equal((await other.get('/admin/mail')).status, 403);
      assert.equal((await new Client(t.app).get('/admin/mail')).status, 303);
    } finally {
      await t.close();
    }
  });
});
