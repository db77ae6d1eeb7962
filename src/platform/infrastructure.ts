import type { Config } from '../config.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import type { Db } from './db/index.ts';
import { createEvents, type Events } from './events/index.ts';
import { createLiveBus, type LiveBus } from './events/live.ts';
import { createHttpClient, type HttpClient } from './http-client/index.ts';
import { createQueue, type Queue } from './jobs/queue.ts';
import { createScheduler, type Scheduler } from './jobs/scheduler.ts';
import { createMailer, type Mailer } from './mail/index.ts';
import { createCounterStore, type CounterStore } from './http/rate-limit.ts';
import { createReadiness, type Readiness } from './http/health.ts';

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
  /** Records outgoing mail in the outbox; a 'mail.deliver' job sends it. */
  mailer: Mailer;
  /** Domain events recorded with each change and dispatched after commit by an 'event.dispatch' job. */
  events: Events;
  /** Live fan-out to open event streams (all instances on PostgreSQL). */
  live: LiveBus;
  /** The durable job queue (jobs, event dispatch, mail delivery), and cron schedules on the database. */
  queue: Queue;
  scheduler: Scheduler;
  /** The one client for outgoing HTTP (refuses private addresses unless allowed). */
  http: HttpClient;
  /** Rate-limit counters: in the database on PostgreSQL (shared by every instance), in memory on SQLite. */
  counters: CounterStore;
  /** Whether this process takes new requests (/readyz); drained on SIGTERM. */
  readiness: Readiness;
  /** Runs the background work in this process (with workers): the queue (jobs, events, mail) and schedules. */
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
  const mailer = createMailer({ db: db.kysely, clock, queue, smtpUrl: config.smtpUrl, from: config.mailFrom, log });
  const events = createEvents({ db: db.kysely, clock, log, queue });
  const live = await createLiveBus(db, log);
  const scheduler = createScheduler({ db: db.kysely, clock, timezone: config.timezone, log });
  const http = createHttpClient({
    allowPrivate: opts.allowPrivateOutbound ?? config.allowPrivateOutbound,
    userAgent: opts.userAgent ?? `Inkwell/0.1 (+${config.siteUrl})`,
  });
  const counters = createCounterStore(db, clock);
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
    counters,
    readiness: createReadiness(),
    start({ workers }) {
      if (workers > 0) {
        queue.start({ concurrency: workers });
        scheduler.start();
      }
    },
    async stop(stopOpts = {}) {
      await scheduler.stop();
      await queue.stop(stopOpts.jobGraceMs);
      await mailer.stop();
      await live.close();
    },
  };
}
