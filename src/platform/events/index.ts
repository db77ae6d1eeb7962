import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Queue } from '../jobs/queue.ts';
import { afterCommit } from '../db/after-commit.ts';
import { preparedQuery } from '../db/prepared.ts';

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
// biome-ignore lint/suspicious/noEmptyInterface: an interface, so features can add their events to it by declaration merging
export interface EventCatalogue {}
export type EventName = keyof EventCatalogue & string;

export interface DomainEvent<K extends EventName = EventName> {
  id: number;
  type: K;
  payload: EventCatalogue[K];
  createdAt: string;
}
/** Any one event, as a union discriminated by `type` (narrow with `event.type === '…'`). */
export type AnyEvent = { [K in EventName]: DomainEvent<K> }[EventName];

/** Runs inside the transaction that marks the event dispatched: its writes and that mark commit together. */
export type EventHandler<K extends EventName> = (event: Extract<AnyEvent, { type: K }>, trx: Transaction<Database>) => Promise<void>;
/** Runs after that transaction committed (live pushes); failures are only logged. */
export type AfterCommit = (event: AnyEvent) => void | Promise<void>;

interface Log {
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

export interface Events {
  /** Records an event in the caller's transaction: it exists, and is dispatched, only if the change commits. */
  record<K extends EventName>(trx: Kysely<Database> | Transaction<Database>, type: K, payload: EventCatalogue[K]): Promise<number>;
  on<K extends EventName>(type: K, handler: EventHandler<K>): void;
  afterCommit(fn: AfterCommit): void;
  /**
   * The dispatched events of these names after the event id `cursor`, oldest first:
   * the log live streams catch up from (an event's subscribers have run when it shows here).
   */
  since<K extends EventName>(cursor: number, names: K[], limit?: number): Promise<Extract<AnyEvent, { type: K }>[]>;
}

/** The job kind that hands one event to its subscribers. */
export const DISPATCH_JOB = 'event.dispatch';
const DEFAULT_DELAYS = [5_000, 30_000, 120_000, 600_000, 3_600_000];

type Db = Kysely<Database> | Transaction<Database>;

// Every write that records an event runs these two once (the insert) and once in
// its dispatch (the mark): built and compiled once.
const insertEvent = preparedQuery((db: Db, s: { type: string; payload: string; at: string }) =>
  db.insertInto('events').values({ type: s.type, payload: s.payload, created_at: s.at, processed_at: null }).returning('id'),
);
const markDispatched = preparedQuery((db: Db, s: { at: string; id: number }) =>
  db.updateTable('events').set({ processed_at: s.at }).where('id', '=', s.id).returning(['id', 'type', 'payload', 'created_at']),
);

/**
 * The transactional outbox (docs/architecture.md, "Events"). A change records
 * its event in its own transaction, together with an `event.dispatch` job on
 * the queue; the queue hands the event to its subscribers after the commit, at
 * least once: the subscribers' writes commit together with the job's end and
 * the event's "dispatched" mark, and the queue retries a failed or crashed
 * dispatch with backoff like any job (and keeps it as failed after the last try).
 */
export function createEvents(deps: { db: Kysely<Database>; clock: Clock; log?: Log; queue: Queue; retryDelaysMs?: number[] }): Events {
  const { db, clock, log, queue } = deps;
  // Keyed by the stored name: a row's type is only a string until it meets its handlers.
  const handlers = new Map<string, ((event: AnyEvent, trx: Transaction<Database>) => Promise<void>)[]>();
  const after: AfterCommit[] = [];

  const toEvent = (row: { id: number; type: string; payload: string; created_at: string }) =>
    // The row was written by record(), whose signature checked the payload against its type.
    ({ id: row.id, type: row.type as EventName, payload: JSON.parse(row.payload), createdAt: row.created_at }) as AnyEvent;

  queue.define<{ eventId: number }>(DISPATCH_JOB, {
    retryDelaysMs: deps.retryDelaysMs ?? DEFAULT_DELAYS,
    transactional: async ({ eventId }, trx) => {
      const row = (await markDispatched(trx, { at: clock.now().toISOString(), id: eventId })).rows[0];
      if (!row) return;
      const event = toEvent(row);
      for (const h of handlers.get(event.type) ?? []) await h(event, trx);
      await afterCommit(trx, () => {
        for (const fn of after) {
          Promise.resolve()
            .then(() => fn(event))
            .catch((e) => log?.warn({ eventId, err: (e as Error).message }, 'after-commit hook failed'));
        }
      });
    },
  });

  return {
    async record(trx, type, payload) {
      const row = (await insertEvent(trx, { type, payload: JSON.stringify(payload), at: clock.now().toISOString() })).rows[0];
      // Started by the queue once the change has committed.
      await queue.enqueue(trx, DISPATCH_JOB, { eventId: row.id });
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
    async since(cursor, names, limit = 200) {
      if (names.length === 0) return [];
      const rows = await db
        .selectFrom('events')
        .select(['id', 'type', 'payload', 'created_at'])
        .where('id', '>', cursor)
        .where('type', 'in', names)
        .where('processed_at', 'is not', null)
        .orderBy('id')
        .limit(limit)
        .execute();
      // Only rows of the names asked for.
      return rows.map(toEvent) as never;
    },
  };
}
