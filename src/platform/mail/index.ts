import type { Kysely, Transaction } from 'kysely';
import { createRequire } from 'node:module';
import type { Transporter } from 'nodemailer';
import type Nodemailer from 'nodemailer';
import type { Database } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Queue } from '../jobs/queue.ts';
import { createSweep } from '../loop.ts';
import { afterCommit } from '../db/after-commit.ts';

export { renderEmail, type EmailContent } from './render.ts';

export interface MailMessage {
  to: string;
  toName?: string;
  subject: string;
  html: string;
  text: string;
  /** Extra headers, e.g. List-Unsubscribe (RFC 8058). */
  headers?: Record<string, string>;
}

interface Log {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

export interface MailerDeps {
  db: Kysely<Database>;
  clock: Clock;
  /** smtp:// or smtps://; without it messages are kept in the outbox for /admin/mail. */
  smtpUrl?: string;
  from: string;
  log?: Log;
  /** Waits before each retry; after the last one fails the message is marked failed. */
  retryDelaysMs?: number[];
  /** How long one delivery loop owns a message it claimed. */
  leaseMs?: number;
  /** With a queue, each message is also a job ('mail.deliver'), so any worker process sends it. */
  queue?: Queue;
}

export interface Mailer {
  /** Records a message in the outbox, inside the caller's transaction: it exists only if the change commits. */
  send(db: Kysely<Database> | Transaction<Database>, msg: MailMessage): Promise<void>;
  /** Delivers the messages that are due; returns how many it attempted. Never throws for SMTP trouble. */
  deliverDue(): Promise<number>;
  /** Starts the background delivery loop. */
  start(intervalMs?: number): void;
  /** Stops the loop, waits for a delivery in progress, closes the SMTP connection. */
  stop(): Promise<void>;
}

const DEFAULT_DELAYS = [10_000, 60_000, 300_000, 1_800_000, 7_200_000];
// One plain address: no display name, no list, no header-breaking characters.
const ADDRESS = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/;

/**
 * Refuses anything that could smuggle headers or extra recipients: CR/LF
 * anywhere in a header value, and a `to` that is not exactly one address.
 */
function assertSafe(msg: MailMessage): void {
  const problems = [];
  if (!ADDRESS.test(msg.to) || msg.to.length > 254) problems.push({ field: 'to', message: 'must be exactly one plain email address' });
  if (/[\r\n]/.test(msg.subject)) problems.push({ field: 'subject', message: 'must not contain line breaks' });
  if (msg.toName !== undefined && /[\r\n]/.test(msg.toName)) problems.push({ field: 'toName', message: 'must not contain line breaks' });
  for (const [name, value] of Object.entries(msg.headers ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(name) || /[\r\n]/.test(value))
      problems.push({ field: 'headers', message: `header ${JSON.stringify(name)} is not safe` });
  }
  if (problems.length) throw new AppError('validation_failed', 'Refused to send an unsafe email', problems);
}

/** The outbox and its delivery loop (at-least-once: a crashed sender's lease runs out and another retries). */
export function createMailer(deps: MailerDeps): Mailer {
  const { db, clock, log } = deps;
  const delays = deps.retryDelaysMs ?? DEFAULT_DELAYS;
  const leaseMs = deps.leaseMs ?? 60_000;
  let transport: Transporter | undefined;

  // Timeouts well inside the lease: a send that outlives its lease could be sent again by another instance.
  const smtp = () => {
    if (!transport) {
      const url = new URL(deps.smtpUrl!);
      url.searchParams.set('connectionTimeout', String(Math.min(10_000, leaseMs / 4)));
      url.searchParams.set('greetingTimeout', String(Math.min(10_000, leaseMs / 4)));
      url.searchParams.set('socketTimeout', String(Math.min(30_000, leaseMs / 2)));
      // Loaded only when SMTP is used: nodemailer is ~40 modules a server without SMTP never needs.
      const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof Nodemailer;
      transport = nodemailer.createTransport(url.toString());
    }
    return transport;
  };

  /** Tries one message; returns false when the attempt failed and a retry is scheduled. */
  async function deliverOne(id: number): Promise<boolean> {
    const now = clock.now();
    // Claim: only the loop whose update changes the row sends it, so two
    // instances never both deliver one message.
    const lease = new Date(now.getTime() + leaseMs).toISOString();
    const claimed = await db
      .updateTable('mail_outbox')
      .set({ lease_until: lease })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now.toISOString())]))
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return true;
    const msg = await db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    if (!deps.smtpUrl) {
      await db.updateTable('mail_outbox').set({ status: 'kept', lease_until: null }).where('id', '=', id).execute();
      return true;
    }
    try {
      await smtp().sendMail({
        from: deps.from,
        to: msg.to_name ? { name: msg.to_name, address: msg.to_address } : msg.to_address,
        subject: msg.subject,
        text: msg.text,
        html: msg.html,
        headers: msg.headers ? (JSON.parse(msg.headers) as Record<string, string>) : undefined,
      });
      await db
        .updateTable('mail_outbox')
        .set({ status: 'sent', attempts: msg.attempts + 1, sent_at: clock.now().toISOString(), lease_until: null, last_error: null })
        .where('id', '=', id)
        .where('lease_until', '=', lease)
        .execute();
      log?.info({ mailId: id }, 'mail sent');
      return true;
    } catch (e) {
      const attempts = msg.attempts + 1;
      const error = (e as Error).message.slice(0, 500);
      const last = attempts > delays.length;
      // ±10% jitter, so messages that failed together don't all retry at once.
      const wait = last ? 0 : delays[attempts - 1] * (0.9 + Math.random() * 0.2);
      await db
        .updateTable('mail_outbox')
        .set({
          status: last ? 'failed' : 'pending',
          attempts,
          last_error: error,
          lease_until: null,
          next_attempt_at: new Date(clock.now().getTime() + wait).toISOString(),
        })
        .where('id', '=', id)
        .where('lease_until', '=', lease)
        .execute();
      log?.warn({ mailId: id, attempts, err: error }, last ? 'mail failed for good' : 'mail delivery failed; will retry');
      return last;
    }
  }

  // The outbox keeps its own attempts and backoff (shown at /admin/mail); the
  // job only makes sure some worker comes back when the next attempt is due.
  deps.queue?.define<{ mailId: number }>('mail.deliver', {
    retryDelaysMs: delays,
    handler: async ({ mailId }) => {
      if (!(await deliverOne(mailId))) throw new Error(`delivery of message ${mailId} failed; see /admin/mail`);
    },
  });

  async function deliverDue(): Promise<number> {
    const now = clock.now().toISOString();
    const due = await db
      .selectFrom('mail_outbox')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('id')
      .limit(50)
      .execute();
    for (const { id } of due) {
      try {
        await deliverOne(id);
      } catch (e) {
        log?.error({ mailId: id, err: (e as Error).message }, 'mail outbox error');
      }
    }
    return due.length;
  }

  // One delivery at a time per process; a kick during a run schedules one more.
  const sweep = createSweep(deliverDue, (e) => log?.error({ err: e.message }, 'mail delivery loop error'));

  return {
    async send(trx, msg) {
      assertSafe(msg);
      const now = clock.now().toISOString();
      await trx
        .insertInto('mail_outbox')
        .values({
          to_address: msg.to,
          to_name: msg.toName ?? null,
          subject: msg.subject,
          html: msg.html,
          text: msg.text,
          status: 'pending',
          next_attempt_at: now,
          lease_until: null,
          last_error: null,
          created_at: now,
          sent_at: null,
          headers: msg.headers ? JSON.stringify(msg.headers) : null,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
        .then(async (row) => {
          await deps.queue?.enqueue(trx, 'mail.deliver', { mailId: row.id }, { idempotencyKey: `mail:${row.id}` });
        });
      // Delivered once the message's transaction has committed (at once outside one).
      await afterCommit(trx, sweep.kick);
    },
    deliverDue: sweep.run,
    start: (intervalMs = 2000) => sweep.start(intervalMs),
    async stop() {
      await sweep.stop();
      transport?.close();
      transport = undefined;
    },
  };
}
