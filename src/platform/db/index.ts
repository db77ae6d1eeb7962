import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Driver, Kysely, PostgresDialect, sql } from 'kysely';
import { withCommitHooks } from './after-commit.ts';
import { createRequire } from 'node:module';
import type pg from 'pg';
import { createNodeSqliteDialect } from './node-sqlite.ts';
import type { Database } from './schema.ts';

export type { Database } from './schema.ts';
export { afterCommit } from './after-commit.ts';
export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL only: how to open a dedicated connection (for LISTEN). */
  pgConnection?: pg.ClientConfig;
  /**
   * A value that changes whenever anything readable in the database may have
   * changed (any table, any process, any instance); equal values mean nothing
   * did. Null where there is none, which turns response caching off. SQLite
   * answers from memory; PostgreSQL needs a round trip.
   */
  changeToken(): string | null | Promise<string | null>;
  /** Answers whether the database takes a query; used by /readyz. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** `sqlite:<path>` or `postgres://…` (see config.ts). */
  url: string;
  /** PostgreSQL only: run every query in this schema (tests use a fresh one per run). */
  schema?: string;
  poolSize?: number;
  /**
   * PostgreSQL only: how long opening a connection (TCP and PostgreSQL's handshake) or
   * waiting for a free one in the pool may take before the query fails as a connection
   * error (a 503). Without it, a database that accepts and never answers hangs requests.
   */
  connectTimeoutMs?: number;
}

/** The default of DATABASE_CONNECT_TIMEOUT_MS (config.ts), for the CLI and tests too. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Opens the database named by a URL: node:sqlite for `sqlite:`, pg for `postgres:`. */
export function openDb(opts: DbOptions): Db {
  if (opts.url.startsWith('sqlite:')) {
    const file = opts.url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const { dialect, changeToken } = createNodeSqliteDialect(file);
    return { ...wrap(new Kysely<Database>({ dialect }), 'sqlite'), changeToken };
  }
  const connection: pg.ClientConfig = {
    connectionString: opts.url,
    options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
    types: { getTypeParser: pgTypeParser },
    // The LISTEN connection (live events) is opened with the same limit.
    connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  };
  const pool = new (loadPg().Pool)({ ...connection, max: opts.poolSize ?? 10 });
  // A client losing its connection (a database restart, a network cut) must not
  // crash the process. The pool handles idle clients ('error' on the pool); a
  // client checked out between two queries (a transaction, a session) has no
  // listener of its own and would throw. Its next query fails instead, and the
  // pool drops it on release (it is no longer queryable), so the pool
  // reconnects by itself once the database is back.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const kysely = new Kysely<Database>({ dialect: new HookedPostgresDialect({ pool }) });
  return { ...wrap(kysely, 'postgres'), pgConnection: connection, changeToken: pgChangeToken(kysely) };
}

/** PostgreSQL with afterCommit() work run on COMMIT. */
class HookedPostgresDialect extends PostgresDialect {
  override createDriver(): Driver {
    return withCommitHooks(super.createDriver());
  }
}

// pg is ~30 modules; a SQLite server never needs it.
let pgModule: typeof pg | undefined;
const loadPg = () => (pgModule ??= createRequire(import.meta.url)('pg') as typeof pg);

/**
 * The server's current snapshot as text (xmin:xmax:in-progress ids). A write
 * transaction gets an id when it first changes a row: that moves xmax, and its
 * commit or rollback takes it out of the in-progress list (or moves xmin). So
 * between two equal snapshots no transaction that wrote anything, in any
 * session or instance, started or ended, and every read sees the same data.
 * Read-only work (including our pollers' updates that match no row) leaves it
 * alone; writes to other databases of the same server change it too, which only
 * costs the cache a miss. Needs PostgreSQL 13 or newer; null (no caching) before.
 */
function pgChangeToken(kysely: Kysely<Database>): () => Promise<string | null> {
  let supported = true;
  return async () => {
    if (!supported) return null;
    try {
      const { rows } = await sql<{ s: string }>`select pg_current_snapshot()::text as s`.execute(kysely);
      return rows[0].s;
    } catch (e) {
      if ((e as { code?: string }).code === '42883') supported = false; // undefined_function: PostgreSQL < 13
      return null;
    }
  };
}

const TIMESTAMPTZ = 1184;
const INT8 = 20;
function pgTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === TIMESTAMPTZ) return (v) => new Date(v).toISOString();
  // count(*) and friends are int8; our counts fit comfortably in a double.
  if (oid === INT8) return (v) => Number(v);
  return loadPg().types.getTypeParser(oid, format as 'text');
}

function wrap(kysely: Kysely<Database>, dialect: Dialect): Db {
  return {
    kysely,
    dialect,
    changeToken: () => null,
    async ping() {
      try {
        await sql`select 1`.execute(kysely);
        return true;
      } catch {
        return false;
      }
    },
    close: () => kysely.destroy(),
  };
}
