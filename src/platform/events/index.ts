import type { Kysely, Transaction } from 'kysely';
import type { Selectable } from 'kysely';
import type { Database, EventsTable } from '../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Queue } from '../jobs/queue.ts';
import { createSweep } from '../loop.ts';
import { afterCommit } from '../db/after-commit.ts';

/**
 * Every event's name and payload type. The feature that produces an event
 * declares it here by declaration merging, next to the code that records it:
 *
 *   declare module '../../platform/events/index.ts' {
 *     interface EventCatalogue { 'post.published': { postId: number } }
 *   }
 *
 * so record() and on() check names and payloads at compile time.
 */
export type EventCatalogue = {}
export type EventName = keyof EventCatalogue & string;

export interface DomainEvent<K extends EventName = EventName> {
  id: number;
  type: K;
  payload: EventCatalogue[K];
  createdAt: string;
}
/** Any one event, as a union discriminated by `type` (narrow with `event.type === '…'`). */
export type AnyEvent = { [K in EventName]: DomainEvent<K> }[EventName];

/** Runs inside the transaction that marks the event processed: its writes and that mark commit together. */
export type EventHandler<K extends EventName> = (event: Extract<AnyEvent, { type: K }>, trx: Transaction<Database>) => Promise<void>;
/** Runs after that transaction committed (live pushes, kicking the mailer); failures are only logged. */
export type AfterCommit = (event: AnyEvent) => void | Promise<void>;

interface Log {
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

export interface Events {
  /** Records an event in the caller's transaction: it exists only if the change commits. */
  record<K extends EventName>(trx: Kysely<Database> | Transaction<Database>, type: K, payload: EventCatalogue[K]): Promise<number>;
  on<K extends EventName>(type: K, handler: EventHandler<K>): void;
  afterCommit(fn: AfterCommit): void;
  /** Handles the events that are due; returns how many it attempted. */
  dispatchDue(): Promise<number>;
  start(intervalMs?: number): void;
  stop(): Promise<void>;
}

const DEFAULT_DELAYS = [5_000, 30_000, 120_000, 600_000, 3_600_000];
const BATCH = 100;
const IN_FLIGHT = 4;

/**
 * The transactional outbox (docs/architecture.md, "Events"). A change records
 * its events in its own transaction; this loop hands each event to its
 * subscribers afterwards, at least once: a handler's writes commit together
 * with the "processed" mark, and a crashed run's lease runs out and is retried.
 */
export function createEvents(deps: {
  db: Kysely<Database>;
  clock: Clock;
  log?: Log;
  retryDelaysMs?: number[];
  /** Unused: an event's claim now lives only as long as its transaction. */
  leaseMs?: number;
  /** With a queue, an event recorded while the loop is not started is also a job ('event.dispatch'), so any worker process handles it. */
  queue?: Queue;
}): Events {
  const { db, clock, log } = deps;
  const delays = deps.retryDelaysMs ?? DEFAULT_DELAYS;
  // Keyed by the stored name: a row's type is only a string until it meets its handlers.
  const handlers = new Map<string, ((event: AnyEvent, trx: Transaction<Database>) => Promise<void>)[]>();
  const after: AfterCommit[] = [];

  /** Handles one event; returns false when a handler failed (it is scheduled for a retry). */
  async function handle(id: number): Promise<boolean> {
    let row: Selectable<EventsTable> | undefined;
    let event: AnyEvent | undefined;
    try {
      // The claim, the handlers' writes and the "processed" mark are one transaction:
      // one statement claims and reads the event, and nothing is committed (or
      // fsynced) before the handlers have run. A run that dies rolls back, so the
      // event is due again at once; a concurrent claim waits for this transaction
      // (PostgreSQL's row lock, SQLite's write lock) and then finds it processed.
      // lease_until still guards against a run of an older version holding a lease.
      await db.transaction().execute(async (trx) => {
        const now = clock.now().toISOString();
        row = await trx
          .updateTable('events')
          .set({ processed_at: now, lease_until: null, last_error: null })
          .where('id', '=', id)
          .where('processed_at', 'is', null)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
          .returningAll()
          .executeTakeFirst();
        if (!row) return;
        // The row was written by record(), whose signature checked the payload against its type.
        event = { id: row.id, type: row.type as EventName, payload: JSON.parse(row.payload), createdAt: row.created_at } as AnyEvent;
        for (const h of handlers.get(event.type) ?? []) await h(event, trx);
      });
      if (!row || !event) return true;
    } catch (e) {
      // Failed before the claim (or reading the payload): nothing to record here.
      if (!row) throw e;
      const attempts = row.attempts + 1;
      const giveUp = attempts > delays.length;
      const error = (e as Error).message.slice(0, 500);
      await db
        .updateTable('events')
        .set({
          attempts,
          last_error: error,
          lease_until: null,
          processed_at: giveUp ? clock.now().toISOString() : null,
          next_attempt_at: new Date(clock.now().getTime() + (giveUp ? 0 : delays[attempts - 1])).toISOString(),
        })
        .where('id', '=', id)
        .where('processed_at', 'is', null)
        .execute();
      log?.error(
        { eventId: id, type: event?.type ?? row.type, attempts, err: error },
        giveUp ? 'event handler failed for good' : 'event handler failed; will retry',
      );
      return giveUp;
    }
    for (const fn of after) {
      try {
        await fn(event);
      } catch (e) {
        log?.warn({ eventId: id, err: (e as Error).message }, 'after-commit hook failed');
      }
    }
    return true;
  }

  deps.queue?.define<{ eventId: number }>('event.dispatch', {
    retryDelaysMs: delays,
    handler: async ({ eventId }) => {
      if (!(await handle(eventId))) throw new Error(`handlers of event ${eventId} failed; see the events table`);
    },
  });

  /** One batch of due events, oldest first, a few at a time. */
  async function dispatchBatch(): Promise<number> {
    const now = clock.now().toISOString();
    const due = await db
      .selectFrom('events')
      .select('id')
      .where('processed_at', 'is', null)
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('id')
      .limit(BATCH)
      .execute();
    // Several at a time, so their commits share a WAL fdatasync (SQLite) or run on
    // several pooled connections (PostgreSQL) instead of waiting for the disk one by one.
    let next = 0;
    const worker = async () => {
      while (next < due.length) await handle(due[next++].id);
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, due.length) }, worker));
    return due.length;
  }

  // Until no full batch is left: the loop is this process's everyday dispatcher, so
  // a burst of events must not wait for the next interval, 100 at a time.
  async function dispatchDue(): Promise<number> {
    let n = 0;
    for (;;) {
      const k = await dispatchBatch();
      n += k;
      if (k < BATCH) return n;
    }
  }

  const sweep = createSweep(dispatchDue, (e) => log?.error({ err: e.message }, 'event loop error'));
  // While this process runs the dispatch loop (start()), kick() hands each event to
  // it right after its commit, and every instance's sweep picks up what a crash left.
  // A job per event would only be a second path to the same handle(): an insert in
  // the writing transaction, two claim statements and a finish, with two more
  // commits (measured: about a third of a published post's server CPU). A process
  // without the loop (the CLI, tests) still enqueues one, so a worker handles the
  // event soon.
  let dispatching = false;

  return {
    async record(trx, type, payload) {
      const now = clock.now().toISOString();
      const row = await trx
        .insertInto('events')
        .values({
          type,
          payload: JSON.stringify(payload),
          created_at: now,
          processed_at: null,
          next_attempt_at: now,
          lease_until: null,
          last_error: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (!dispatching) await deps.queue?.enqueue(trx, 'event.dispatch', { eventId: row.id }, { idempotencyKey: `event:${row.id}` });
      // Handed to its subscribers once the change has committed.
      await afterCommit(trx, sweep.kick);
      return row.id;
    },
    on(type, handler) {
      // Called only with rows of this type (dispatch looks handlers up by event.type).
      const forAny = handler as (event: AnyEvent, trx: Transaction<Database>) => Promise<void>;
      handlers.set(type, [...(handlers.get(type) ?? []), forAny]);
    },
    afterCommit(fn) {
      after.push(fn);
    },
    dispatchDue: sweep.run,
    /**
     * Dispatches this process's events itself (on kick()) from now on, and sweeps
     * every intervalMs for due events of any process: ones whose process died before
     * dispatching them, whose job was lost, or whose handlers are due for a retry.
     */
    start(intervalMs = 5000) {
      dispatching = true;
      sweep.start(intervalMs);
    },
    async stop() {
      dispatching = false;
      await sweep.stop();
    },
  };
}
