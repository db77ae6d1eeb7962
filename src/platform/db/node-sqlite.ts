import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import { SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';

/**
 * Kysely's SqliteDialect expects a better-sqlite3-shaped database. This adapts
 * node:sqlite's DatabaseSync to that shape, so SQLite needs no native build.
 *
 * Kysely calls prepare() for every query; preparing is a large share of a small
 * query's cost, so statements are cached by their SQL text (the set of distinct
 * SQL strings an app produces is small and bounded).
 */
export function createNodeSqliteDialect(path: string): { dialect: SqliteDialect; raw: DatabaseSync; changeToken: () => string } {
  const raw = new DatabaseSync(path, { timeout: 5000 });
  // WAL lets readers run while one writer writes; synchronous=FULL makes every
  // commit durable before we answer the request that caused it.
  raw.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
  const cache = new Map<string, SqliteStatement>();
  const adapted: SqliteDatabase = {
    close: () => raw.close(),
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = adaptStatement(raw.prepare(sql));
        if (cache.size > 500) cache.clear();
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
  // total_changes() counts every row this connection inserted, updated or deleted
  // (rolled back ones too, which only costs a spurious change); data_version
  // moves whenever another connection or process commits. Both only grow, so an
  // unchanged pair means nothing anyone could read has changed.
  const ownChanges = raw.prepare('select total_changes()');
  const othersCommits = raw.prepare('pragma data_version');
  ownChanges.setReturnArrays(true);
  othersCommits.setReturnArrays(true);
  const changeToken = () => `${(othersCommits.get() as unknown as [number])[0]}:${(ownChanges.get() as unknown as [number])[0]}`;
  return { dialect: new SqliteDialect({ database: adapted }), raw, changeToken };
}

function adaptStatement(stmt: StatementSync): SqliteStatement {
  const reader = stmt.columns().length > 0;
  return {
    reader,
    all: (params) => stmt.all(...toSqlite(params)) as unknown[],
    run: (params) => {
      const r = stmt.run(...toSqlite(params));
      return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
    },
    iterate: (params) => stmt.iterate(...toSqlite(params)) as IterableIterator<unknown>,
  };
}

// node:sqlite binds only null, numbers, bigints, strings and bytes.
function toSqlite(params: ReadonlyArray<unknown>): SQLInputValue[] {
  return params.map((p) => {
    if (p === undefined || p === null) return null;
    if (typeof p === 'boolean') return p ? 1 : 0;
    if (p instanceof Date) return p.toISOString();
    return p as SQLInputValue;
  });
}
