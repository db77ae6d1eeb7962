import type { Config } from '../config.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import type { Db } from './db/index.ts';
import { createEvents, type Events } from './events/index.ts';
import { createLiveBus, type LiveBus } from './events/live.ts';
import { createHttpClient, type HttpClient } from './http-client/index.ts';
import { createQueue, type Queue } from './jobs/queue.ts';
import { createScheduler, type Scheduler } from './jobs/scheduler.ts';
import { createMailer, type Mailer } from './mail/index.ts';

interface Log {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

/** Everything a feature may be given that is not another feature: the platform's services on one database. */
export interface Infrastructure {
  config: Config;
  db: Db;
  clock: Clock;
  /** Records outgoing mail in the outbox. */
  mailer: Mailer;
  /** Domain events recorded with each change and handled after commit. */
  events: Events;
  /** Live fan-out to open event streams (all instances on PostgreSQL). */
  live: LiveBus;
  /** The durable job queue, and cron schedules on the database. */
  queue: Queue;
  scheduler: Scheduler;
  /** The one client for outgoing HTTP (refuses private addresses unless allowed). */
  http: HttpClient;
  /** Runs the background loops in this process: mail, events, and (with workers) jobs and schedules. */
  start(opts: { workers: number }): void;
  /** Stops the background loops (finishing or releasing running jobs) and the live bus; the database stays open. */
  stop(opts?: { jobGraceMs?: number }): Promise<void>;
}

/**
 * Builds the platform's services once, the same way for the server, the worker,
 * the CLI and the tests; they differ only in the options given here.
 */
export async function createInfrastructure(opts: {
  config: Config;
  db: Db;
  clock?: Clock;
  log?: Log;
  /** Tests talk to receivers on loopback. */
  allowPrivateOutbound?: boolean;
  userAgent?: string;
}): Promise<Infrastructure> {
  const { config, db, log } = opts;
  const clock = opts.clock ?? systemClock;
  const queue = createQueue({ db: db.kysely, clock, dialect: db.dialect, log });
  const mailer = createMailer({ db: db.kysely, clock, smtpUrl: config.smtpUrl, from: config.mailFrom, log, queue });
  const events = createEvents({ db: db.kysely, clock, log, queue });
  const live = await createLiveBus(db, log);
  const scheduler = createScheduler({ db: db.kysely, clock, timezone: config.timezone, log });
  const http = createHttpClient({
    allowPrivate: opts.allowPrivateOutbound ?? config.allowPrivateOutbound,
    userAgent: opts.userAgent ?? `Inkwell/0.1 (+${config.siteUrl})`,
  });
  return {
    config,
    db,
    clock,
    mailer,
    events,
    live,
    queue,
    scheduler,
    http,
    start({ workers }) {
      mailer.start();
      events.start();
      if (workers > 0) {
        queue.start({ concurrency: workers });
        scheduler.start();
      }
    },
    async stop(stopOpts = {}) {
      await scheduler.stop();
      await queue.stop(stopOpts.jobGraceMs);
      await events.stop();
      await mailer.stop();
      await live.close();
    },
  };
}
