import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { createRequire } from 'node:module';
import type pg from 'pg';
import type { Db } from '../db/index.ts';

/** A small message telling live streams that something happened; they load the details themselves. */
export interface LiveMessage {
  eventId: number;
  type: string;
  postId?: number;
  commentId?: number;
  /** Users who got a notification from this event. */
  userIds?: number[];
}

export interface LiveBus {
  publish(message: LiveMessage): Promise<void>;
  subscribe(fn: (message: LiveMessage) => void): () => void;
  /** Called after a lost connection came back: streams re-read what they may have missed. */
  onResync(fn: () => void): () => void;
  close(): Promise<void>;
  /** PostgreSQL only, for tests: drop the LISTEN connection as a network failure would. */
  dropConnection?(): Promise<void>;
}

interface Log {
  warn(o: object, m?: string): void;
}

/**
 * Fan-out of live messages to every process's open streams. On SQLite (one
 * process) it is an in-memory list of listeners. On PostgreSQL it is
 * LISTEN/NOTIFY on a channel named after the schema, so every instance on the
 * database hears every message; a dropped LISTEN connection reconnects with
 * backoff and asks streams to resync from the database.
 */
export async function createLiveBus(db: Db, log?: Log): Promise<LiveBus> {
  const listeners = new Set<(m: LiveMessage) => void>();
  const resyncers = new Set<() => void>();
  const deliver = (m: LiveMessage) => {
    for (const fn of listeners) {
      try {
        fn(m);
      } catch (e) {
        log?.warn({ err: (e as Error).message }, 'live listener failed');
      }
    }
  };
  const common = {
    subscribe(fn: (m: LiveMessage) => void) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    onResync(fn: () => void) {
      resyncers.add(fn);
      return () => resyncers.delete(fn);
    },
  };

  if (db.dialect === 'sqlite' || !db.pgConnection) {
    return {
      ...common,
      async publish(m) {
        queueMicrotask(() => deliver(m));
      },
      async close() {
        listeners.clear();
      },
    };
  }

  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db.kysely);
  const channel = `inkwell_live_${createHash('sha256').update(rows[0].schema).digest('hex').slice(0, 12)}`;
  let client: pg.Client | undefined;
  let closed = false;
  let delay = 500;

  async function connect(isReconnect: boolean): Promise<void> {
    // Only PostgreSQL has LISTEN; SQLite never loads pg.
    const { Client } = createRequire(import.meta.url)('pg') as typeof pg;
    const c = new Client(db.pgConnection);
    c.on('notification', (n) => {
      if (n.channel !== channel || !n.payload) return;
      try {
        deliver(JSON.parse(n.payload) as LiveMessage);
      } catch {
        // not one of ours
      }
    });
    c.on('error', () => {});
    c.on('end', () => {
      if (closed || client !== c) return;
      client = undefined;
      log?.warn({ channel, retryInMs: delay }, 'live LISTEN connection lost; reconnecting');
      setTimeout(() => void reconnect(), delay).unref();
      delay = Math.min(delay * 2, 30_000);
    });
    await c.connect();
    await c.query(`LISTEN ${channel}`);
    client = c;
    delay = 500;
    if (isReconnect) for (const fn of resyncers) fn();
  }

  async function reconnect(): Promise<void> {
    if (closed) return;
    try {
      await connect(true);
    } catch {
      setTimeout(() => void reconnect(), delay).unref();
      delay = Math.min(delay * 2, 30_000);
    }
  }

  await connect(false);
  return {
    ...common,
    async publish(m) {
      await sql`select pg_notify(${channel}, ${JSON.stringify(m)})`.execute(db.kysely);
    },
    async close() {
      closed = true;
      listeners.clear();
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
    async dropConnection() {
      await client?.end();
    },
  };
}
