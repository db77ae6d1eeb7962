import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { sql, type ExpressionBuilder, type Kysely, type Insertable, type Selectable, type Transaction } from 'kysely';
import type { Database, JobsTable } from '../db/schema.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { afterCommit } from '../db/after-commit.ts';
import { preparedQuery } from '../db/prepared.ts';
import type { Clock } from '../../lib/clock.ts';

export type Job = Selectable<JobsTable>;

interface JobOptions {
  /** Waits between attempts; the job fails for good after the last one. */
  retryDelaysMs?: number[];
  /** How long a claim lasts without a heartbeat (default 60 s): a killed worker's job runs again after it. */
  leaseMs?: number;
}

/**
 * One kind of job: either `handler`, which runs on its own (calls out, waits), or
 * `transactional`, which runs inside the transaction that marks the job succeeded,
 * so its writes and that mark commit together (a failure rolls both back).
 */
export type JobType<P = unknown> = JobOptions &
  (
    | {
        /** Short and idempotent where a duplicate run would show: load ids, call a service. */ handler: (payload: P, job: Job) => Promise<void>;
        transactional?: never;
      }
    | { transactional: (payload: P, trx: Transaction<Database>, job: Job) => Promise<void>; handler?: never }
  );

export interface EnqueueOptions {
  runAt?: Date;
  /** A second enqueue with the same key is a no-op (one delivery, one job). */
  idempotencyKey?: string;
}

interface Log {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

/** About 5 s, 30 s, 2 min, 10 min, 1 h, 6 h, 24 h. */
export const DEFAULT_RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000, 86_400_000];
export const DEFAULT_LEASE_MS = 60_000;
/** The most jobs one claim takes. */
const CLAIM_MAX = 32;

type Db = Kysely<Database> | Transaction<Database>;

// Every event's dispatch is a job: its insert and its end are on every write's path,
// so they are built and compiled once.
type NewJob = Omit<Insertable<JobsTable>, 'id' | 'attempts'>;
const insertJob = preparedQuery((db: Db, s: Required<NewJob>) =>
  db
    .insertInto('jobs')
    .values({
      type: s.type,
      payload: s.payload,
      status: s.status,
      run_at: s.run_at,
      max_attempts: s.max_attempts,
      lease_until: s.lease_until,
      locked_by: s.locked_by,
      last_error: s.last_error,
      idempotency_key: s.idempotency_key,
      created_at: s.created_at,
      updated_at: s.updated_at,
      finished_at: s.finished_at,
    })
    .returning('id'),
);
const finishQuery = preparedQuery((db: Db, s: { at: string; id: number; workerId: string }) =>
  db
    .updateTable('jobs')
    .set({ status: 'succeeded', finished_at: s.at, lease_until: null, updated_at: s.at, last_error: null })
    .where('id', '=', s.id)
    .where('locked_by', '=', s.workerId)
    .where('status', '=', 'running'),
);

/**
 * The one durable background mechanism (after Solid Queue and graphile-worker):
 * jobs, domain-event dispatch and mail delivery are all rows here. Jobs are
 * enqueued in the caller's transaction and started after it commits; a worker
 * claims several due jobs with one statement and a lease each (FOR UPDATE SKIP
 * LOCKED on PostgreSQL, so many processes share the queue), retries a failed
 * one with backoff, and keeps it as failed after its last attempt. A job whose
 * worker died is claimed again when its lease runs out: at-least-once.
 */
export function createQueue(deps: { db: Kysely<Database>; clock: Clock; dialect: 'sqlite' | 'postgres'; log?: Log }) {
  const { db, clock, log } = deps;
  const workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const types = new Map<string, JobType>();
  const running = new Map<number, Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let concurrency = 0;
  let polling: Promise<void> | undefined;
  // A kick while a poll runs: the poll looks once more before it ends, so no job waits for the timer.
  let kicked = false;

  const iso = (d: Date) => d.toISOString();
  const leaseOf = (type: string) => types.get(type)?.leaseMs ?? DEFAULT_LEASE_MS;

  // A claim's SQL depends only on which due jobs it looks at (queued, expired leases
  // or both), the kinds and which of them have a lease of their own: each such shape
  // is built and compiled once; the time, the leases' ends and the limit are values.
  type ClaimShape = { due: 'queued' | 'expired' | 'both'; kinds: string[]; custom: string[] };
  const claimQuery = preparedQuery((d: Kysely<Database>, s: Record<string, string | number>, shape: string) => {
    const { due: which, kinds, custom } = JSON.parse(shape) as ClaimShape;
    // PostgreSQL types a CASE of parameters as text: each value is cast.
    const at = (v: unknown) => (deps.dialect === 'postgres' ? sql`cast(${v} as timestamptz)` : sql`${v}`);
    const queued = (eb: ExpressionBuilder<Database, 'jobs'>) => eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', s.now as string)]);
    const expired = (eb: ExpressionBuilder<Database, 'jobs'>) => eb.and([eb('status', '=', 'running'), eb('lease_until', '<', s.now as string)]);
    const next = d
      .selectFrom('jobs')
      .select('id')
      .where((eb) => (which === 'queued' ? queued(eb) : which === 'expired' ? expired(eb) : eb.or([queued(eb), expired(eb)])))
      .where('type', 'in', kinds)
      .orderBy('run_at')
      .orderBy('id')
      .limit(s.limit as number);
    return d
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running',
        // Each kind's own lease; one CASE in the claim keeps it one statement.
        lease_until: custom.length
          ? sql<string>`case ${sql.join(
              custom.map((k, i) => sql`when type = ${k} then ${at(s[`lease${i}`])}`),
              sql` `,
            )} else ${at(s.lease)} end`
          : (s.lease as string),
        locked_by: workerId,
        attempts: eb('attempts', '+', 1),
        updated_at: s.now as string,
      }))
      .where('id', 'in', deps.dialect === 'postgres' ? next.forUpdate().skipLocked() : next)
      .returningAll();
  });

  /**
   * Claims up to `limit` due jobs of the kinds this process handles (queued and
   * due, or running with an expired lease) in one statement. `expiredToo: false`
   * looks only at queued jobs (see poll()).
   */
  async function claim(limit: number, expiredToo = true, only?: string[]): Promise<Job[]> {
    const kinds = only ?? [...types.keys()];
    if (kinds.length === 0 || limit <= 0) return [];
    const now = clock.now();
    const leaseUntil = (ms: number) => iso(new Date(now.getTime() + ms));
    const custom = kinds.filter((k) => leaseOf(k) !== DEFAULT_LEASE_MS);
    const values: Record<string, string | number> = { now: iso(now), lease: leaseUntil(DEFAULT_LEASE_MS) };
    custom.forEach((k, i) => {
      values[`lease${i}`] = leaseUntil(leaseOf(k));
    });
    const take = async (due: ClaimShape['due'], n: number) =>
      (await claimQuery(db, { ...values, limit: n }, JSON.stringify({ due, kinds, custom } satisfies ClaimShape))).rows as Job[];
    let jobs: Job[];
    if (deps.dialect === 'postgres') jobs = await take('both', limit);
    else {
      // SQLite answers the OR by sorting every queued job (measured: 0.5 ms a claim
      // with a backlog of 1,500); each half alone is one search of jobs_due.
      jobs = expiredToo ? await take('expired', limit) : [];
      if (jobs.length < limit) jobs = jobs.concat(await take('queued', limit - jobs.length));
    }
    // RETURNING does not promise the subquery's order.
    return jobs.sort((a, b) => (a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : a.id - b.id));
  }

  /** The job's end, written only while this worker still holds it; how many rows it changed (0 or 1). */
  const finish = async (trx: Db, job: Job) => {
    const at = iso(clock.now());
    return Number((await finishQuery(trx, { at, id: job.id, workerId })).numAffectedRows);
  };

  async function run(job: Job): Promise<void> {
    const type = types.get(job.type);
    const leaseMs = leaseOf(job.type);
    // A long job keeps its lease fresh; losing it lets another worker take over.
    const heartbeat = setInterval(
      () => {
        void db
          .updateTable('jobs')
          .set({ lease_until: iso(new Date(clock.now().getTime() + leaseMs)) })
          .where('id', '=', job.id)
          .where('locked_by', '=', workerId)
          .where('status', '=', 'running')
          .execute()
          .catch(() => {});
      },
      Math.max(1000, leaseMs / 3),
    );
    heartbeat.unref();
    try {
      if (!type) throw new Error(`no handler for job type "${job.type}"`);
      const payload = JSON.parse(job.payload);
      if (type.transactional) {
        await db.transaction().execute(async (trx) => {
          await type.transactional(payload, trx, job);
          // Another worker took the job over (this one's lease ran out): its run counts, this one rolls back.
          if ((await finish(trx, job)) !== 1) throw new LostLease();
        });
      } else {
        await type.handler(payload, job);
        await finish(db, job);
      }
    } catch (e) {
      if (e instanceof LostLease) return;
      const error = ((e as Error).stack ?? String(e)).slice(0, 2000);
      const delays = type?.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
      const final = job.attempts >= job.max_attempts;
      // ±20% jitter, so jobs that failed together don't retry in lockstep.
      const wait = final ? 0 : delays[Math.min(job.attempts - 1, delays.length - 1)] * (0.8 + Math.random() * 0.4);
      await db
        .updateTable('jobs')
        .set({
          status: final ? 'failed' : 'queued',
          last_error: error,
          lease_until: null,
          updated_at: iso(clock.now()),
          run_at: iso(new Date(clock.now().getTime() + wait)),
          finished_at: final ? iso(clock.now()) : null,
        })
        .where('id', '=', job.id)
        .where('locked_by', '=', workerId)
        .execute();
      log?.warn(
        { jobId: job.id, type: job.type, attempt: job.attempts, final, err: (e as Error).message },
        final ? 'job failed for good' : 'job failed; will retry',
      );
    } finally {
      clearInterval(heartbeat);
    }
  }

  // A lease runs out a while after a worker died, so looking for expired ones once a
  // second (the poll interval) is soon enough; a busy queue then claims with one
  // statement instead of two on SQLite (measured: the empty search for expired
  // leases was ~90 us of every job, a third of an event's background cost).
  let expiredCheckedAt = 0;

  async function poll(): Promise<void> {
    do {
      kicked = false;
      for (;;) {
        const free = concurrency - running.size;
        // Refilled in groups while jobs run: one claim (and its commit) for half the
        // slots, not one for every job that ends.
        if (free <= 0 || (running.size > 0 && free < Math.ceil(concurrency / 2))) break;
        const now = Date.now();
        const expiredToo = deps.dialect === 'postgres' || now - expiredCheckedAt >= 1000;
        if (expiredToo) expiredCheckedAt = now;
        // Every free slot at once: one claim (and one commit) for a burst of jobs.
        const jobs = await claim(Math.min(CLAIM_MAX, free), expiredToo).catch((e) => {
          log?.error({ err: (e as Error).message }, 'job claim failed');
          return [];
        });
        if (jobs.length === 0) break;
        for (const job of jobs) {
          // Recording the outcome can fail too (the database went away): the job
          // stays leased, and its lease running out hands it to a worker again.
          const p = run(job)
            .catch((e) => {
              log?.error({ jobId: job.id, err: (e as Error).message }, "could not record the job's outcome; it runs again when its lease ends");
            })
            .finally(() => {
              running.delete(job.id);
              kick();
            });
          running.set(job.id, p);
        }
      }
    } while (kicked && running.size < concurrency);
  }

  function kick(): void {
    if (concurrency === 0) return;
    if (polling) {
      kicked = true;
      return;
    }
    polling = poll().finally(() => {
      polling = undefined;
    });
  }

  const queue = {
    workerId,

    define<P>(type: string, def: JobType<P>): void {
      types.set(type, def as JobType);
    },

    /** Adds a job in the caller's transaction; returns its id, or null when the idempotency key exists. */
    async enqueue(trx: Db, type: string, payload: unknown, opts: EnqueueOptions = {}): Promise<number | null> {
      // The job starts once its transaction has committed: a kick only then, and only
      // for transactions that enqueued (a needless kick is a claim that finds nothing).
      await afterCommit(trx, kick);
      const now = clock.now();
      const delays = types.get(type)?.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
      const values = {
        type,
        payload: JSON.stringify(payload ?? {}),
        status: 'queued' as const,
        run_at: iso(opts.runAt ?? now),
        max_attempts: delays.length + 1,
        lease_until: null,
        locked_by: null,
        last_error: null,
        idempotency_key: opts.idempotencyKey ?? null,
        created_at: iso(now),
        updated_at: iso(now),
        finished_at: null,
      };
      if (opts.idempotencyKey) {
        const row = await trx
          .insertInto('jobs')
          .values(values)
          .onConflict((oc) => oc.column('idempotency_key').doNothing())
          .returning('id')
          .executeTakeFirst();
        return row?.id ?? null;
      }
      try {
        return (await insertJob(trx, values)).rows[0].id;
      } catch (e) {
        if (isUniqueViolation(e)) return null;
        throw e;
      }
    },

    /**
     * Runs every due job of the kinds this process defines (or only `types`), a
     * batch at a time, until none is due, and waits for the jobs this process is
     * running already; returns how many it ran. The one way tests and the CLI run
     * background work: jobs, event dispatch and mail delivery alike.
     */
    async drain(opts: { max?: number; types?: string[] } = {}): Promise<number> {
      const max = opts.max ?? 1000;
      let n = 0;
      while (n < max) {
        const jobs = await claim(Math.min(CLAIM_MAX, max - n), true, opts.types);
        if (jobs.length === 0) {
          if (running.size === 0) break;
          await Promise.all(running.values());
          continue;
        }
        // Their commits share a batch (SQLite) or pooled connections (PostgreSQL).
        await Promise.all(jobs.map(run));
        n += jobs.length;
      }
      return n;
    },

    /** Starts working: `concurrency` jobs at a time, polling every pollMs (and at once after a commit that enqueued). */
    start(opts: { concurrency: number; pollMs?: number }): void {
      concurrency = opts.concurrency;
      if (concurrency <= 0 || timer) return;
      timer = setInterval(kick, opts.pollMs ?? 1000);
      timer.unref();
      kick();
    },

    /**
     * Stops taking jobs and waits up to graceMs for running ones; what is still
     * running then is released for another worker (its attempt not counted).
     */
    async stop(graceMs = 10_000): Promise<void> {
      concurrency = 0;
      if (timer) clearInterval(timer);
      timer = undefined;
      await polling;
      const all = Promise.all(running.values());
      const finished = await Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())]);
      if (!finished) {
        await db
          .updateTable('jobs')
          .set((eb) => ({ status: 'queued', lease_until: null, locked_by: null, attempts: eb('attempts', '-', 1), updated_at: iso(clock.now()) }))
          .where('locked_by', '=', workerId)
          .where('status', '=', 'running')
          .execute();
        log?.warn({ released: running.size }, 'released unfinished jobs for another worker');
      }
    },

    async counts(): Promise<Record<string, number>> {
      const rows = await db
        .selectFrom('jobs')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute();
      const out: Record<string, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, discarded: 0 };
      for (const r of rows) out[r.status] = Number(r.n);
      return out;
    },

    async failed(limit = 100): Promise<Job[]> {
      return db.selectFrom('jobs').selectAll().where('status', '=', 'failed').orderBy('id', 'desc').limit(limit).execute();
    },

    /** Puts a failed job back in the queue with a fresh set of attempts. */
    async retry(id: number): Promise<boolean> {
      const res = await db
        .updateTable('jobs')
        .set({ status: 'queued', attempts: 0, run_at: iso(clock.now()), finished_at: null, updated_at: iso(clock.now()) })
        .where('id', '=', id)
        .where('status', '=', 'failed')
        .executeTakeFirst();
      kick();
      return Number(res.numUpdatedRows) === 1;
    },

    async discard(id: number): Promise<boolean> {
      const res = await db
        .updateTable('jobs')
        .set({ status: 'discarded', finished_at: iso(clock.now()), updated_at: iso(clock.now()) })
        .where('id', '=', id)
        .where('status', 'in', ['failed', 'queued'])
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
  };
  return queue;
}

/** Thrown inside a transactional job whose lease another worker took: rolls its writes back quietly. */
class LostLease extends Error {}

export type Queue = ReturnType<typeof createQueue>;
