import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, freshDb } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildUser } from '../../../test/support/factories.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../../test/support/smtp.ts';
import type { Db } from '../db/index.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createQueue } from '../jobs/queue.ts';
import { createMailer, renderEmail, type MailerDeps, type MailMessage } from './index.ts';

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
  const jobOf = async (to: string) =>
    db.kysely
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', (await statusOf(to)).job_id!)
      .executeTakeFirstOrThrow();
  /** A mailer on a queue of its own, as each instance has. */
  const make = (opts: Partial<Omit<MailerDeps, 'db' | 'clock' | 'queue'>> = {}) => {
    const queue = createQueue({ db: db.kysely, clock, dialect });
    const mailer = createMailer({ db: db.kysely, clock, queue, from: 'blog@blog.test', ...opts });
    return { queue, mailer };
  };

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

  test('a message exists only if the change that sent it commits; without SMTP it is kept, with no job', async () => {
    const { mailer } = make();
    await assert.rejects(
      db.kysely.transaction().execute(async (trx) => {
        await mailer.send(trx, message('rolled@back.test'));
        throw new Error('the change failed');
      }),
    );
    await db.kysely.transaction().execute((trx) => mailer.send(trx, message('kept@blog.test')));
    const rows = (await db.kysely.selectFrom('mail_outbox').select(['to_address', 'status', 'job_id']).execute()).map((r) => ({ ...r }));
    assert.deepEqual(rows, [{ to_address: 'kept@blog.test', status: 'kept', job_id: null }]);
    await mailer.stop();
  });

  test('with SMTP: one row and one job per message, delivered once, to exactly its recipient, as HTML and text', async () => {
    const { queue, mailer } = make({ smtpUrl: smtp.url, from: 'Blog <blog@blog.test>' });
    await db.kysely.transaction().execute((trx) => mailer.send(trx, { ...message('reader@example.test'), toName: 'Ada Reader' }));
    assert.equal((await statusOf('reader@example.test')).status, 'pending');
    assert.equal((await jobOf('reader@example.test')).type, 'mail.deliver');
    assert.equal(await queue.drain(), 1);
    const got = await smtp.waitFor((m) => m.to.includes('reader@example.test'));
    assert.deepEqual(got.to, ['reader@example.test']);
    assert.match(got.text, /http:\/\/blog\.test\/x/);
    assert.match(got.html, /Body text/);
    assert.match(got.raw, /^To: Ada Reader <reader@example\.test>/m);
    assert.equal((await statusOf('reader@example.test')).status, 'sent');
    assert.equal((await jobOf('reader@example.test')).status, 'succeeded');
    assert.equal(await queue.drain(), 0);
    assert.equal(smtp.messages.filter((m) => m.to.includes('reader@example.test')).length, 1);
    await mailer.stop();
  });

  test('started by the commit: a worker delivers it with no call from the sender', async () => {
    const { queue, mailer } = make({ smtpUrl: smtp.url });
    queue.start({ concurrency: 2, pollMs: 60_000 });
    try {
      await db.kysely.transaction().execute((trx) => mailer.send(trx, message('prompt@example.test')));
      await smtp.waitFor((m) => m.to.includes('prompt@example.test'));
    } finally {
      await queue.stop();
      await mailer.stop();
    }
  });

  test('SMTP down, then up: retried after the backoff and delivered once', async () => {
    const { queue, mailer } = make({ smtpUrl: smtp.url, retryDelaysMs: [60_000, 600_000] });
    await smtp.stop();
    try {
      await mailer.send(db.kysely, message('patient@example.test'));
      await queue.drain();
      assert.equal((await statusOf('patient@example.test')).status, 'pending');
      const job = await jobOf('patient@example.test');
      assert.equal(job.status, 'queued');
      assert.equal(job.attempts, 1);
      assert.ok(job.last_error);
      assert.ok(Date.parse(job.run_at) > now.getTime() + 45_000, 'waits about a minute');
      assert.equal(await queue.drain(), 0, 'not due yet');
    } finally {
      await smtp.start();
    }
    now = new Date(now.getTime() + 75_000);
    await queue.drain();
    await smtp.waitFor((m) => m.to.includes('patient@example.test'));
    assert.equal((await statusOf('patient@example.test')).status, 'sent');
    assert.equal((await jobOf('patient@example.test')).attempts, 2);
    const shown = (await mailer.list({ limit: 10 })).find((m) => m.to === 'patient@example.test')!;
    assert.deepEqual([shown.status, shown.attempts, shown.lastError], ['sent', 2, null]);
    await queue.drain();
    assert.equal(smtp.messages.filter((m) => m.to.includes('patient@example.test')).length, 1);
    await mailer.stop();
  });

  test('after the last retry the message is failed, with its error', async () => {
    const { queue, mailer } = make({ smtpUrl: 'smtp://127.0.0.1:1', retryDelaysMs: [1000] });
    await mailer.send(db.kysely, message('doomed@example.test'));
    await queue.drain();
    now = new Date(now.getTime() + 2000);
    await queue.drain();
    assert.equal((await statusOf('doomed@example.test')).status, 'failed');
    const job = await jobOf('doomed@example.test');
    assert.equal(job.status, 'failed');
    assert.equal(job.attempts, 2);
    const shown = (await mailer.get((await statusOf('doomed@example.test')).id))!;
    assert.equal(shown.attempts, 2);
    assert.match(shown.lastError ?? '', /ECONNREFUSED|connect/i);
    await mailer.stop();
  });

  test('two instances delivering at once send a message once', async () => {
    const a = make({ smtpUrl: smtp.url });
    const b = make({ smtpUrl: smtp.url });
    for (let i = 0; i < 5; i++) await a.mailer.send(db.kysely, message(`race${i}@example.test`));
    await Promise.all([a.queue.drain(), b.queue.drain(), a.queue.drain(), b.queue.drain()]);
    for (let i = 0; i < 5; i++) await smtp.waitFor((m) => m.to.includes(`race${i}@example.test`));
    await new Promise((r) => setTimeout(r, 200));
    const counts = [0, 1, 2, 3, 4].map((i) => smtp.messages.filter((m) => m.to.includes(`race${i}@example.test`)).length);
    assert.deepEqual(counts, [1, 1, 1, 1, 1]);
    await a.mailer.stop();
    await b.mailer.stop();
  });

  test('a sender that died mid-delivery: the message is sent after its lease runs out, once', async () => {
    const { mailer } = make({ smtpUrl: smtp.url, leaseMs: 30_000 });
    await mailer.send(db.kysely, message('crashed@example.test'));
    // A worker claimed the job, then died before it sent anything.
    const jobId = (await statusOf('crashed@example.test')).job_id!;
    const lease = new Date(now.getTime() + 30_000).toISOString();
    await db.kysely.updateTable('jobs').set({ status: 'running', attempts: 1, locked_by: 'dead', lease_until: lease }).where('id', '=', jobId).execute();
    const other = make({ smtpUrl: smtp.url, leaseMs: 30_000 });
    assert.equal(await other.queue.drain(), 0, 'not while the lease lasts');
    now = new Date(now.getTime() + 31_000);
    assert.equal(await other.queue.drain(), 1);
    await smtp.waitFor((m) => m.to.includes('crashed@example.test'));
    assert.equal((await statusOf('crashed@example.test')).status, 'sent');
    assert.equal(smtp.messages.filter((m) => m.to.includes('crashed@example.test')).length, 1);
    await mailer.stop();
    await other.mailer.stop();
  });

  test('header injection is refused: one message, one recipient', async () => {
    const { queue, mailer } = make({ smtpUrl: smtp.url });
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
    await queue.drain();
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
      await t.queue.drain();
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
