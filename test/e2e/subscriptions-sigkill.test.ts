import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eachDatabase, freshDb } from '../support/app.ts';
import { startInkwell, waitFor, withSchema, type InkwellProcess } from '../support/inkwell-process.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../support/smtp.ts';
import { prepareDatabase } from '../../src/bootstrap.ts';
import { createAccountsService } from '../../src/features/accounts/index.ts';
import type { Db } from '../../src/platform/db/index.ts';
import { createSettings } from '../../src/platform/settings.ts';
import { systemClock } from '../../src/lib/clock.ts';

const SUBSCRIBERS = 300;
const TITLE = 'Sent to three hundred';

eachDatabase('sending a post to subscribers survives a SIGKILL mid-send', (dialect) => {
  let db: Db;
  let drop: () => Promise<void>;
  let smtp: SmtpCatcher;
  let env: Record<string, string>;
  let token: string;
  const running: InkwellProcess[] = [];

  before(async () => {
    smtp = await startSmtpCatcher();
    const fresh = await freshDb(dialect);
    db = fresh.db;
    drop = fresh.drop;
    await prepareDatabase(db);
    const accounts = createAccountsService({ db: db.kysely, clock: systemClock, settings: createSettings(db.kysely), passwordHashCost: 10 });
    const admin = await accounts.createUser({
      username: 'writer',
      email: 'writer@example.test',
      password: 'correct horse battery',
      displayName: 'Writer',
      role: 'admin',
    });
    token = (await accounts.createApiToken(admin.id, 'test', ['read', 'write'])).token;
    const at = new Date().toISOString();
    await db.kysely
      .insertInto('subscribers')
      .values(
        Array.from({ length: SUBSCRIBERS }, (_, i) => ({
          email: `sub${i}@example.test`,
          frequency: 'instant' as const,
          status: 'confirmed' as const,
          created_at: at,
          confirmed_at: at,
          digest_from: at,
        })),
      )
      .execute();
    // 600 a minute: batches of 50, five seconds apart, so the kill lands while
    // some batches are still to come and some emails are still in the outbox.
    env = { DATABASE_URL: withSchema(fresh.url, fresh.schema), SMTP_URL: smtp.url, SUBSCRIPTION_SEND_RATE: '600', SITE_URL: 'http://blog.test' };
  });
  after(async () => {
    for (const p of running) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    await smtp.stop();
    await db.close().catch(() => {});
    await drop();
  });

  const received = () => smtp.messages.filter((m) => m.subject === TITLE);
  const deliveries = async () =>
    Number(
      (
        await db.kysely
          .selectFrom('subscription_deliveries')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  test('every subscriber gets the post exactly once', { timeout: 240_000 }, async () => {
    const first = await startInkwell(env);
    running.push(first);
    const res = await fetch(`${first.url}/api/v1/posts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: TITLE, body: 'Hello, everyone.', status: 'published' }),
    });
    assert.equal(res.status, 201, await res.text());

    // Mid-send: some delivered; then the next message waits for the server's answer when the process dies.
    await waitFor('60 emails delivered', () => received().length >= 60, 60_000);
    smtp.hold();
    await waitFor('an email in flight', () => smtp.held() > 0, 30_000, 5);
    first.proc.kill('SIGKILL');
    await first.exited;
    // The dead sender's connection closes: what it was sending was never acknowledged.
    await waitFor('the dead connection to close', () => smtp.held() === 0, 30_000, 5);
    smtp.release();
    const before = { delivered: received().length, recorded: await deliveries() };
    assert.ok(before.delivered < SUBSCRIBERS, `the kill came too late: ${before.delivered} delivered`);
    assert.ok(before.recorded < SUBSCRIBERS, `the kill came too late: all ${before.recorded} handed to the outbox`);

    // A new process takes over: the rest of the batches, the queued emails, and
    // (once its lease has run out) the email that was in flight.
    const second = await startInkwell(env);
    running.push(second);
    await waitFor('every subscriber got the post', () => new Set(received().flatMap((m) => m.to)).size === SUBSCRIBERS, 180_000, 250);
    await waitFor(
      'the outbox to be empty',
      async () => !(await db.kysely.selectFrom('mail_outbox').select('id').where('status', '=', 'pending').executeTakeFirst()),
      60_000,
    );
    const perAddress = new Map<string, number>();
    for (const m of received()) for (const to of m.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    const twice = [...perAddress].filter(([, n]) => n !== 1);
    assert.deepEqual(twice, [], 'someone got the post more than once');
    assert.equal(perAddress.size, SUBSCRIBERS);
    assert.equal(await deliveries(), SUBSCRIBERS);
    console.log(`killed with ${before.delivered} delivered and ${before.recorded} handed to the outbox; ${SUBSCRIBERS} in all after the restart`);

    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());
  });
});
