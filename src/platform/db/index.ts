import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { createRequire } from 'node:module';
import type pg from 'pg';
import { createNodeSqliteDialect } from './node-sqlite.ts';
import type { Database } from './schema.ts';

export type { Database } from './schema.ts';
export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL only: how to open a dedicated connection (for LISTEN). */
  pgConnection?: pg.ClientConfig;
  /**
   * A value that changes whenever anything readable in the database may have
   * changed (any table, any process); equal values mean nothing did. Null where
   * there is no cheap one (PostgreSQL), which turns response caching off.
   */
  changeToken(): string | null;
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
  return { ...wrap(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres'), pgConnection: connection };
}

// pg is ~30 modules; a SQLite server never needs it.
let pgModule: typeof pg | undefined;
const loadPg = () => pgModule ??= createRequire(import.meta.url)('pg') as typeof pg;

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
