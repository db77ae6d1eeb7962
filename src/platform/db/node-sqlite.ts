import { withCommitHooks } from './after-commit.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import {
  type CompiledQuery,
  SelectQueryNode,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { createMutex, createWalIndexReader, createWalSync, type Mutex } from './wal.ts';

/**
 * Kysely's SqliteDialect expects a better-sqlite3-shaped database; this is a
 * driver for node:sqlite's DatabaseSync instead, so SQLite needs no native build.
 *
 * One connection serves the process, one query or transaction at a time (a
 * mutex). Two things make writes cheap without making them less durable:
 *
 * Group commit. With synchronous=FULL every commit fsyncs the WAL inside the
 * (synchronous) COMMIT, blocking the whole process for the fsync: ~340 writes/s
 * here. Instead the WAL runs with synchronous=NORMAL and no write is answered
 * until an fdatasync of the WAL, run on libuv's thread pool, has covered it.
 * Commits that finish while one fdatasync runs share the next one.
 *
 * Batched transactions. A COMMIT writes every page the transaction changed to
 * the WAL (one pwrite each; ~15 pages for a new post with its indexes), and
 * consecutive posts change mostly the same pages. So while others wait for the
 * connection, a finished transaction is not committed on its own: the
 * transactions that follow run in the same SQLite transaction, each inside a
 * savepoint of its own (a failing one rolls back to its savepoint and leaves the
 * others alone), and one COMMIT writes the pages they changed once. The batch
 * is committed when nobody waits, or at MAX_BATCH transactions, or
 * MAX_BATCH_MS after it began. Every transaction in it is answered only after
 * that COMMIT and the fdatasync that covers it; if the COMMIT fails, all of them
 * fail. A batch holds SQLite's write lock (BEGIN IMMEDIATE) from its start, so
 * other processes writing to the same file wait for it, as they would for a
 * transaction.
 *
 * What this does not give: on this connection, a read may see a write a few
 * milliseconds before it is durable (its writer is not yet answered). A power
 * cut in that window, or a failing COMMIT, loses a write nobody was told had
 * succeeded.
 *
 * Kysely calls prepare() for every query; preparing is a large share of a small
 * query's cost, so statements are cached by their SQL text (the set of distinct
 * SQL strings an app produces is small and bounded).
 */
const MAX_BATCH = 64;
const MAX_BATCH_MS = 10;
const MEMBER = 'inkwell_batch_member';

export function createNodeSqliteDialect(path: string): { dialect: SqliteDialect; raw: DatabaseSync; changeToken: () => string } {
  // No busy timeout: SQLite's own wait for another writer's lock sleeps in this thread,
  // stopping the whole event loop (and deadlocking with a batch of another connection
  // in this process). The driver waits for the lock asynchronously instead.
  const raw = new DatabaseSync(path, { timeout: 0 });
  raw.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;');
  const wal = (raw.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode === 'wal';
  // Without a WAL (":memory:", or a file system that refuses it) SQLite syncs every commit itself.
  raw.exec(wal ? 'PRAGMA synchronous = NORMAL' : 'PRAGMA synchronous = FULL');
  const walSync = wal && path !== ':memory:' && path !== '' ? createWalSync(`${path}-wal`) : null;

  const cache = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    let stmt = cache.get(sql);
    if (!stmt) {
      const s = raw.prepare(sql);
      const names = s.columns().map((c) => c.name);
      stmt = { s, reader: names.length > 0, row: rowMaker(names) };
      if (stmt.row) s.setReturnArrays(true);
      if (cache.size > 500) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  };

  // total_changes() counts every row this connection inserted, updated or deleted
  // (rolled back ones too, which only costs a spurious change). Commits by any
  // connection or process show in the WAL index header. Both only move forward,
  // so an unchanged pair means nothing anyone could read has changed. A batch
  // that failed to commit adds to `lost`: reads during the batch saw its writes.
  const ownChanges = raw.prepare('select total_changes()');
  ownChanges.setReturnArrays(true);
  const totalChanges = () => (ownChanges.get() as unknown as [number])[0];
  const walIndex = wal && walSync ? createWalIndexReader(`${path}-shm`) : null;
  const othersCommits = raw.prepare('pragma data_version');
  othersCommits.setReturnArrays(true);
  let lost = 0;
  const changeToken = () => `${walIndex?.header() ?? (othersCommits.get() as unknown as [number])[0]}:${totalChanges()}:${lost}`;

  const durable = (): Promise<void> => walSync?.sync() ?? Promise.resolve();
  // Rows changed and committed outside a batch since the last fdatasync was asked for.
  let lastDurable = totalChanges();
  let batch: Batch | null = null;

  const shared: Shared = {
    raw,
    prepare,
    totalChanges,
    mutex: createMutex(),
    get batch() {
      return batch;
    },
    afterAutocommit(): Promise<void> | undefined {
      if (raw.isTransaction) return undefined;
      const now = totalChanges();
      if (now === lastDurable) return undefined;
      lastDurable = now;
      return durable();
    },
    async openBatch() {
      await whenNotBusy(() => raw.exec('BEGIN IMMEDIATE'));
      batch = { members: [], startedAt: performance.now(), commitScheduled: false };
    },
    joinBatch() {
      const b = batch!;
      return new Promise<void>((resolve, reject) => b.members.push({ resolve, reject }));
    },
    endBatchIfDue(force = false) {
      const b = batch;
      if (!b) return;
      if (!force && b.members.length < MAX_BATCH && performance.now() - b.startedAt < MAX_BATCH_MS) {
        // Others waiting for the connection continue the batch. Otherwise wait one turn of the
        // event loop: requests that arrived together run their transactions before the COMMIT.
        if (this.mutex.waiting > 0) return;
        if (!b.commitScheduled) {
          b.commitScheduled = true;
          setImmediate(() => {
            b.commitScheduled = false;
            if (batch === b && !this.mutex.locked) this.endBatchIfDue(true);
            // Otherwise whoever holds the connection ends the batch when they release it.
          });
        }
        return;
      }
      batch = null;
      try {
        raw.exec('COMMIT');
      } catch (e) {
        this.failBatch(b, e as Error);
        return;
      }
      lastDurable = totalChanges();
      return durable().then(
        () => {
          for (const m of b.members) m.resolve();
        },
        (e: Error) => {
          for (const m of b.members) m.reject(e);
        },
      );
    },
    failBatch(b: Batch, cause: Error) {
      if (batch === b) batch = null;
      lost += 1;
      if (raw.isTransaction) {
        try {
          raw.exec('ROLLBACK');
        } catch {
          /* SQLite already rolled back */
        }
      }
      const e = new Error(`The database could not commit this write: ${cause.message}`, { cause });
      for (const m of b.members) m.reject(e);
    },
    async close() {
      await shared.endBatchIfDue(true);
      walSync?.close();
      raw.close();
      // Only after SQLite let go: closing any descriptor of the -shm file drops this process's locks on it.
      walIndex?.close();
    },
  };
  const dialect = new GroupCommitDialect(shared);
  return { dialect, raw, changeToken };
}

interface Statement {
  s: StatementSync;
  reader: boolean;
  /** Set when the statement returns arrays, which this turns into the row objects Kysely expects. */
  row: ((values: unknown[]) => unknown) | null;
}

/**
 * node:sqlite makes each row object with its properties one by one and no
 * prototype, which leaves V8 a dictionary-mode object: every later read of a column
 * is a hash lookup, and mapping rows was a large share of reading them (a post's 50
 * comments: 75 µs to map, 150 µs to read). So statements return arrays, and one
 * function per statement, made from its column names, turns each into an object
 * literal of a fixed shape (a prototype of Object's, not none). Columns with the
 * same name twice, or named __proto__, keep node:sqlite's objects.
 */
function rowMaker(names: string[]): Statement['row'] {
  if (names.length === 0 || new Set(names).size !== names.length || names.includes('__proto__')) return null;
  const fields = names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ');
  return new Function('v', `return { ${fields} };`) as (values: unknown[]) => unknown;
}

interface Batch {
  /** Finished transactions (and single writes) waiting for the batch's COMMIT and fdatasync. */
  members: { resolve: () => void; reject: (e: Error) => void }[];
  startedAt: number;
  commitScheduled: boolean;
}

interface Shared {
  raw: DatabaseSync;
  prepare(sql: string): Statement;
  totalChanges(): number;
  mutex: Mutex;
  readonly batch: Batch | null;
  /** After a statement outside any transaction: a promise for durability if it changed rows (or was a raw COMMIT). */
  afterAutocommit(): Promise<void> | undefined;
  openBatch(): Promise<void>;
  /** A promise for the open batch's COMMIT and its fdatasync. */
  joinBatch(): Promise<void>;
  /** Commits the open batch unless others wait for the connection and it is still small and young; returns when it is durable. */
  endBatchIfDue(force?: boolean): Promise<void> | undefined;
  failBatch(batch: Batch, cause: Error): void;
  close(): Promise<void>;
}

/** The one connection, handed to one query or one transaction at a time. */
class Connection implements DatabaseConnection {
  readonly #shared: Shared;
  held = true;
  /** Inside a transaction of its own (a savepoint in the batch). */
  inTransaction = false;

  constructor(shared: Shared) {
    this.#shared = shared;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const shared = this.#shared;
    const { s, reader, row } = shared.prepare(compiled.sql);
    const params = toSqlite(compiled.parameters);
    // A statement on its own while a batch is open runs inside the batch.
    const batch = this.inTransaction ? null : shared.batch;
    const before = batch ? shared.totalChanges() : 0;
    const run = (): QueryResult<R> => {
      if (reader) return { rows: (row ? (s.all(...params) as unknown as unknown[][]).map(row) : s.all(...params)) as R[] };
      const { changes, lastInsertRowid } = s.run(...params);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    };
    let result: QueryResult<R>;
    try {
      try {
        result = run();
      } catch (e) {
        // Outside any transaction a statement that found the database locked had no effect: try again.
        if (!isBusy(e) || shared.raw.isTransaction) throw e;
        result = await whenNotBusy(run);
      }
    } catch (e) {
      // Most errors undo only their statement; some (a full disk, an I/O error) the whole transaction.
      const open = shared.batch;
      if (open && !shared.raw.isTransaction) shared.failBatch(open, e as Error);
      throw e;
    }
    if (this.inTransaction) return result;
    const wait = batch ? (shared.totalChanges() !== before ? shared.joinBatch() : undefined) : shared.afterAutocommit();
    if (wait) {
      // Others may use the connection (and join the same COMMIT or fdatasync) while this waits for the disk.
      this.release();
      await wait;
      await shared.mutex.lock();
      this.held = true;
    }
    return result;
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiled.query)) throw new Error('The SQLite driver streams select queries only');
    const { s, row } = this.#shared.prepare(compiled.sql);
    for (const r of s.iterate(...toSqlite(compiled.parameters))) yield { rows: [(row ? row(r as unknown as unknown[]) : r) as R] };
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.inTransaction = false;
    this.#shared.endBatchIfDue();
    this.#shared.mutex.unlock();
  }
}

class GroupCommitDriver implements Driver {
  readonly #shared: Shared;
  // Kysely's own driver, for its savepoint statements (they only use the connection given).
  readonly #statements = new SqliteDriver({ database: undefined as never });

  constructor(shared: Shared) {
    this.#shared = shared;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<Connection> {
    await this.#shared.mutex.lock();
    return new Connection(this.#shared);
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    if (!this.#shared.batch) await this.#shared.openBatch();
    this.#shared.raw.exec(`SAVEPOINT ${MEMBER}`);
    (connection as Connection).inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as Connection;
    this.#assertBatchAlive();
    this.#shared.raw.exec(`RELEASE ${MEMBER}`);
    c.inTransaction = false;
    const done = this.#shared.joinBatch();
    // Kysely releases the connection after this returns; release it now so the batch
    // can be committed (or others join it) while this waits for the disk.
    c.release();
    await done;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as Connection).inTransaction = false;
    if (this.#shared.batch && this.#shared.raw.isTransaction) this.#shared.raw.exec(`ROLLBACK TO ${MEMBER}; RELEASE ${MEMBER}`);
  }

  savepoint(...args: Parameters<SqliteDriver['savepoint']>): Promise<void> {
    return this.#statements.savepoint(...args);
  }

  rollbackToSavepoint(...args: Parameters<SqliteDriver['rollbackToSavepoint']>): Promise<void> {
    return this.#statements.rollbackToSavepoint(...args);
  }

  releaseSavepoint(...args: Parameters<SqliteDriver['releaseSavepoint']>): Promise<void> {
    return this.#statements.releaseSavepoint(...args);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as Connection).release();
  }

  async destroy(): Promise<void> {
    await this.#shared.close();
  }

  // SQLite ends the whole transaction itself after some errors (a full disk, an I/O error).
  #assertBatchAlive(): void {
    const b = this.#shared.batch;
    if (b && this.#shared.raw.isTransaction) return;
    const cause = new Error('SQLite rolled back the transaction');
    if (b) this.#shared.failBatch(b, cause);
    throw cause;
  }
}

class GroupCommitDialect extends SqliteDialect {
  readonly #shared: Shared;

  constructor(shared: Shared) {
    super({ database: undefined as never });
    this.#shared = shared;
  }

  override createDriver(): Driver {
    return withCommitHooks(new GroupCommitDriver(this.#shared));
  }
}

const BUSY_TIMEOUT_MS = 5000;
const SQLITE_BUSY = 5;

/** SQLite answered SQLITE_BUSY (any extended code): another connection holds the lock. */
export const isBusy = (e: unknown): boolean => ((e as { errcode?: number }).errcode ?? 0) % 256 === SQLITE_BUSY;

/** Runs fn, retrying for up to BUSY_TIMEOUT_MS while another connection holds the lock it needs. */
async function whenNotBusy<T>(fn: () => T): Promise<T> {
  const until = performance.now() + BUSY_TIMEOUT_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e) || performance.now() > until) throw e;
      await sleep(delay);
    }
  }
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
