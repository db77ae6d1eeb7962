import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { prepareDatabase } from '../../src/bootstrap.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { openDb, type Db, type Dialect } from '../../src/platform/db/index.ts';
import type { Clock } from '../../src/lib/clock.ts';
import type { Mailer } from '../../src/platform/mail/index.ts';
import type { Events } from '../../src/platform/events/index.ts';
import type { LiveBus } from '../../src/platform/events/live.ts';
import { createInfrastructure } from '../../src/platform/infrastructure.ts';
import type { Queue } from '../../src/platform/jobs/queue.ts';
import type { Scheduler } from '../../src/platform/jobs/scheduler.ts';
import type { CrawlLimits } from '../../src/features/crawl/index.ts';

const PG_URL = process.env.INKWELL_TEST_DATABASE_URL;

/** The engines every HTTP suite runs on: SQLite always, PostgreSQL when configured. */
export const DIALECTS: Dialect[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/**
 * Defines a suite once per engine. Without INKWELL_TEST_DATABASE_URL the
 * PostgreSQL copy is reported as skipped, with the reason, never as passed.
 */
export function eachDatabase(title: string, fn: (dialect: Dialect) => void): void {
  describe(`${title} [sqlite]`, () => fn('sqlite'));
  if (PG_URL) describe(`${title} [postgres]`, () => fn('postgres'));
  else describe(`${title} [postgres]`, { skip: 'INKWELL_TEST_DATABASE_URL is not set' }, () => {});
}

/** A fresh, empty database: a temp SQLite file, or a new schema in the test PostgreSQL. */
export async function freshDb(dialect: Dialect): Promise<{ db: Db; url: string; schema?: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'inkwell-test-'));
    const url = `sqlite:${join(dir, 'test.db')}`;
    const db = openDb({ url });
    return {
      db,
      url,
      drop: async () => {
        await db.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  // Named after the run (test/run.ts), which drops it when the run ends.
  const schema = `inkwell_t_${process.env.INKWELL_TEST_RUN ?? 'norun'}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = openDb({ url: PG_URL!, poolSize: 1 });
  await sql`create schema ${sql.id(schema)}`.execute(admin.kysely);
  await admin.close();
  const db = openDb({ url: PG_URL!, schema, poolSize: 5 });
  return {
    db,
    url: PG_URL!,
    schema,
    // Schemas are dropped by test/run.ts once every file has finished: dropping one
    // while another file's migrator scans the catalog makes that scan fail (3F000).
    drop: async () => {
      await db.close().catch(() => {});
    },
  };
}

const owners = new WeakMap<Db, { url: string; schema?: string }>();

async function secondConnection(db: Db): Promise<{ db: Db; drop(): Promise<void> }> {
  const where = owners.get(db);
  if (!where) throw new Error('sameDbAs needs an app made by buildTestApp');
  const second = openDb({ url: where.url, schema: where.schema, poolSize: 5 });
  return { db: second, drop: () => second.close() };
}

export interface TestApp {
  app: FastifyInstance;
  db: Db;
  mailer: Mailer;
  events: Events;
  live: LiveBus;
  queue: Queue;
  scheduler: Scheduler;
  config: Config;
  setupToken: string | null;
  close(): Promise<void>;
}

/** Builds the real app on a fresh database of the given engine (logging off). */
export async function buildTestApp(
  dialect: Dialect,
  opts: {
    env?: Record<string, string>;
    clock?: Clock;
    sameDbAs?: TestApp;
    crawlLimits?: Partial<CrawlLimits>;
    /** Runs the queue in the background as a server does (this many jobs at once): for tests of live pushes through a real stream or browser. */
    workers?: number;
  } = {},
): Promise<TestApp> {
  // sameDbAs: a second instance on the first one's database (its own connection pool), like a second server.
  const fresh: { db: Db; drop(): Promise<void>; url?: string; schema?: string } = opts.sameDbAs
    ? await secondConnection(opts.sameDbAs.db)
    : await freshDb(dialect);
  if (fresh.url) owners.set(fresh.db, { url: fresh.url, schema: fresh.schema });
  // The cheapest password hash cost: a suite hashes hundreds of passwords.
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: 'sqlite::memory:', PASSWORD_HASH_COST: '10', ...opts.env });
  const { setupToken } = await prepareDatabase(fresh.db, opts.clock);
  // Nothing runs in the background (unless `workers` is given): jobs, event dispatch and
  // mail delivery (all jobs) run when a test calls `t.queue.drain()`, schedules when it ticks.
  // Tests talk to receivers they start on loopback.
  const infra = await createInfrastructure({ config, db: fresh.db, clock: opts.clock, allowPrivateOutbound: true, userAgent: 'Inkwell-test' });
  const { mailer, events, live, queue, scheduler } = infra;
  const app = await buildApp({ ...infra, outboundTimeoutMs: 1000, crawlLimits: opts.crawlLimits });
  await app.ready();
  if (opts.workers) queue.start({ concurrency: opts.workers, pollMs: 200 });
  return {
    app,
    db: fresh.db,
    mailer,
    events,
    live,
    queue,
    scheduler,
    config,
    setupToken,
    close: async () => {
      await app.close();
      await infra.stop({ jobGraceMs: 1000 });
      await fresh.drop();
    },
  };
}
