import type { Kysely, Transaction } from 'kysely';
import { createRequire } from 'node:module';
import type { Transporter } from 'nodemailer';
import type Nodemailer from 'nodemailer';
import type { Database, MailStatus } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Queue } from '../jobs/queue.ts';

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
  /** Delivers each message as a job ('mail.deliver'), so any worker process sends it. */
  queue: Queue;
  /** smtp:// or smtps://; without it messages are kept in the outbox for /admin/mail. */
  smtpUrl?: string;
  from: string;
  log?: Log;
  /** Waits before each retry; after the last one fails the message is marked failed. */
  retryDelaysMs?: number[];
  /** How long one worker owns a delivery it claimed (the SMTP timeouts stay well inside it). */
  leaseMs?: number;
}

/** A message as /admin/mail shows it: the outbox row, and its delivery job's attempts and last error. */
export interface OutboxMessage {
  id: number;
  to: string;
  toName: string | null;
  subject: string;
  html: string;
  text: string;
  status: MailStatus;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

export interface Mailer {
  /** Records a message in the outbox, inside the caller's transaction: it exists, and is delivered, only if the change commits. */
  send(db: Kysely<Database> | Transaction<Database>, msg: MailMessage): Promise<void>;
  /** The outbox, newest first, `limit` messages before the id `before`. */
  list(opts: { before?: number; limit: number }): Promise<Omit<OutboxMessage, 'html' | 'text'>[]>;
  get(id: number): Promise<OutboxMessage | undefined>;
  /** Closes the SMTP connection. */
  stop(): Promise<void>;
}

/** The job kind that delivers one message. */
export const DELIVER_JOB = 'mail.deliver';
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

/**
 * The outbox: one row per message (what /admin/mail shows), delivered by a
 * 'mail.deliver' job that carries the attempts, the backoff and the failed
 * state (at-least-once: a crashed sender's lease runs out and another retries;
 * a message marked sent is never sent again).
 */
export function createMailer(deps: MailerDeps): Mailer {
  const { db, clock, log, queue } = deps;
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

  queue.define<Record<string, never>>(DELIVER_JOB, {
    retryDelaysMs: deps.retryDelaysMs ?? DEFAULT_DELAYS,
    leaseMs,
    handler: async (_payload, job) => {
      const msg = await db.selectFrom('mail_outbox').selectAll().where('job_id', '=', job.id).executeTakeFirst();
      // Sent (or kept) already: a second run of the job sends nothing. A failed one
      // runs again when an admin retries its job at /admin/jobs.
      if (!msg || msg.status === 'sent' || msg.status === 'kept') return;
      if (!deps.smtpUrl) {
        await db.updateTable('mail_outbox').set({ status: 'kept' }).where('id', '=', msg.id).execute();
        return;
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
      } catch (e) {
        // The job's last attempt: the message itself says so at /admin/mail.
        if (job.attempts >= job.max_attempts) await db.updateTable('mail_outbox').set({ status: 'failed' }).where('id', '=', msg.id).execute();
        throw e;
      }
      await db.updateTable('mail_outbox').set({ status: 'sent', sent_at: clock.now().toISOString() }).where('id', '=', msg.id).execute();
      log?.info({ mailId: msg.id }, 'mail sent');
    },
  });

  const withJob = () =>
    db
      .selectFrom('mail_outbox as m')
      .leftJoin('jobs as j', 'j.id', 'm.job_id')
      .select([
        'm.id',
        'm.to_address',
        'm.to_name',
        'm.subject',
        'm.status',
        'm.created_at',
        'm.sent_at',
        (eb) => eb.fn.coalesce('j.attempts', eb.val(0)).as('attempts'),
        'j.last_error',
      ]);
  const present = (r: Awaited<ReturnType<ReturnType<typeof withJob>['executeTakeFirstOrThrow']>>) => ({
    id: r.id,
    to: r.to_address,
    toName: r.to_name,
    subject: r.subject,
    status: r.status,
    attempts: Number(r.attempts),
    // The error of the last failed attempt, while the message is not sent.
    lastError: r.status === 'sent' ? null : (r.last_error?.split('\n')[0] ?? null),
    createdAt: r.created_at,
    sentAt: r.sent_at,
  });

  const send: Mailer['send'] = async (db, msg) => {
    assertSafe(msg);
    // The job and the row it finds commit together: a worker never claims a job whose message is not there yet.
    if (!db.isTransaction) return db.transaction().execute((trx) => send(trx, msg));
    const trx = db;
    const now = clock.now().toISOString();
    // Without SMTP the message is kept at once, for /admin/mail: nothing to deliver.
    const jobId = deps.smtpUrl ? await queue.enqueue(trx, DELIVER_JOB, {}) : null;
    await trx
      .insertInto('mail_outbox')
      .values({
        to_address: msg.to,
        to_name: msg.toName ?? null,
        subject: msg.subject,
        html: msg.html,
        text: msg.text,
        status: jobId === null ? 'kept' : 'pending',
        job_id: jobId,
        created_at: now,
        sent_at: null,
        headers: msg.headers ? JSON.stringify(msg.headers) : null,
      })
      .execute();
  };

  return {
    send,
    async list({ before, limit }) {
      let q = withJob().orderBy('m.id', 'desc').limit(limit);
      if (before !== undefined) q = q.where('m.id', '<', before);
      return (await q.execute()).map(present);
    },
    async get(id) {
      const r = await withJob().select(['m.html', 'm.text']).where('m.id', '=', id).executeTakeFirst();
      return r && { ...present(r), html: r.html, text: r.text };
    },
    async stop() {
      transport?.close();
      transport = undefined;
    },
  };
}
