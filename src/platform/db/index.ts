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
}

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
  };
  const pool = new (loadPg().Pool)({ ...connection, max: opts.poolSize ?? 10 });
  // An idle client losing its connection must not crash the process.
  pool.on('error', () => {});
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
