import { closeSync, fdatasync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import {
  CompiledQuery, SelectQueryNode, SqliteDialect, SqliteDriver,
  type DatabaseConnection, type Driver, type QueryResult,
} from 'kysely';

/**
 * Kysely's SqliteDialect expects a better-sqlite3-shaped database; this is a
 * driver for node:sqlite's DatabaseSync instead, so SQLite needs no native build.
 *
 * Durability by group commit. With synchronous=FULL every commit fsyncs the WAL
 * inside the (synchronous) COMMIT, blocking the whole process for the fsync and
 * allowing one durable write per fsync: ~340 writes/s here, and a post
 * costs several commits (the post, then its event, then its job). Instead the
 * WAL runs with synchronous=NORMAL (commits are written to the WAL, not yet
 * synced) and no write is acknowledged until an fdatasync of the WAL, run on
 * libuv's thread pool, has covered it. Commits that finish while one fdatasync
 * is running share the next one, so one fsync acknowledges a whole batch and
 * the event loop never waits for the disk. SQLite itself syncs the WAL before
 * every checkpoint, as it does in NORMAL mode.
 *
 * What this does not give: another request may read a committed write a few
 * milliseconds before it is durable (its writer is not yet answered). A power
 * cut in that window loses a write nobody was told had succeeded.
 *
 * Kysely calls prepare() for every query; preparing is a large share of a small
 * query's cost, so statements are cached by their SQL text (the set of distinct
 * SQL strings an app produces is small and bounded).
 */
export function createNodeSqliteDialect(path: string): { dialect: SqliteDialect; raw: DatabaseSync; changeToken: () => string } {
  const raw = new DatabaseSync(path, { timeout: 5000 });
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
      stmt = { s, reader: s.columns().length > 0 };
      if (cache.size > 500) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  };

  // total_changes() counts every row this connection inserted, updated or deleted
  // (rolled back ones too, which only costs a spurious change). Commits by any
  // connection or process show in the WAL index header. Both only move forward,
  // so an unchanged pair means nothing anyone could read has changed.
  const ownChanges = raw.prepare('select total_changes()');
  ownChanges.setReturnArrays(true);
  const totalChanges = () => (ownChanges.get() as unknown as [number])[0];
  const walIndex = wal && walSync ? createWalIndexReader(`${path}-shm`) : null;
  const othersCommits = raw.prepare('pragma data_version');
  othersCommits.setReturnArrays(true);
  const changeToken = () => `${walIndex?.header() ?? (othersCommits.get() as unknown as [number])[0]}:${totalChanges()}`;

  // Rows changed and committed since the last fdatasync was asked for.
  let lastDurable = totalChanges();
  const afterStatement = (): Promise<void> | undefined => {
    if (!walSync || raw.isTransaction) return undefined;
    const now = totalChanges();
    if (now === lastDurable) return undefined;
    lastDurable = now;
    return walSync.sync();
  };

  const shared: Shared = {
    raw, prepare, afterStatement, mutex: createMutex(),
    close: () => {
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
}

interface Shared {
  raw: DatabaseSync;
  prepare(sql: string): Statement;
  /** After any statement: a promise for durability when it ended a write (a commit or an autocommit change). */
  afterStatement(): Promise<void> | undefined;
  mutex: Mutex;
  close(): void;
}

/** One connection, handed out to one query or one transaction at a time. */
class Connection implements DatabaseConnection {
  readonly #shared: Shared;
  held = true;

  constructor(shared: Shared) {
    this.#shared = shared;
  }

  async executeQuery<R>(compiled: CompiledQuery, opts: { thenRelease?: boolean } = {}): Promise<QueryResult<R>> {
    const { s, reader } = this.#shared.prepare(compiled.sql);
    const params = toSqlite(compiled.parameters);
    let result: QueryResult<R>;
    if (reader) {
      result = { rows: s.all(...params) as R[] };
    } else {
      const { changes, lastInsertRowid } = s.run(...params);
      result = { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    }
    const durable = this.#shared.afterStatement();
    if (durable) {
      // Others may use the connection (and join the next fsync) while this waits for the disk.
      this.release();
      await durable;
      if (!opts.thenRelease) {
        await this.#shared.mutex.lock();
        this.held = true;
      }
    }
    return result;
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiled.query)) throw new Error('The SQLite driver streams select queries only');
    const { s } = this.#shared.prepare(compiled.sql);
    for (const row of s.iterate(...toSqlite(compiled.parameters))) yield { rows: [row as R] };
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.#shared.mutex.unlock();
  }
}

class GroupCommitDriver implements Driver {
  readonly #shared: Shared;
  // Kysely's own driver, for its transaction and savepoint statements (they only use the connection given).
  readonly #statements = new SqliteDriver({ database: undefined as never });

  constructor(shared: Shared) {
    this.#shared = shared;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<Connection> {
    await this.#shared.mutex.lock();
    return new Connection(this.#shared);
  }

  beginTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#statements.beginTransaction(connection);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    // Kysely releases the connection right after the commit: no need to take it back after the fsync.
    await (connection as Connection).executeQuery(CompiledQuery.raw('commit'), { thenRelease: true });
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#statements.rollbackTransaction(connection);
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
    this.#shared.close();
  }
}

class GroupCommitDialect extends SqliteDialect {
  readonly #shared: Shared;

  constructor(shared: Shared) {
    super({ database: undefined as never });
    this.#shared = shared;
  }

  override createDriver(): Driver {
    return new GroupCommitDriver(this.#shared);
  }
}

interface Mutex {
  lock(): Promise<void>;
  unlock(): void;
}

/** A first-come, first-served lock. */
function createMutex(): Mutex {
  let locked = false;
  const waiting: (() => void)[] = [];
  return {
    lock() {
      if (!locked) {
        locked = true;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    unlock() {
      const next = waiting.shift();
      if (next) next();
      else locked = false;
    },
  };
}

/**
 * fdatasync of the WAL, shared: a caller is answered by the first fdatasync
 * that started after its commit. At most one runs at a time; whoever commits
 * meanwhile waits for the next, which then covers them all.
 */
function createWalSync(file: string) {
  let fd: number | null = null;
  let asked = 0;
  let running = false;
  const waiting: { n: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  // SQLite keeps the WAL file while a connection is open, but check it is still the same file.
  const walFd = (): number => {
    if (fd !== null) {
      try {
        if (statSync(file).ino === fstatSync(fd).ino) return fd;
      } catch { /* gone: reopen */ }
      closeQuietly();
    }
    fd = openSync(file, 'r+');
    return fd;
  };

  const closeQuietly = () => {
    if (fd === null) return;
    try {
      closeSync(fd);
    } catch (e) {
      process.emitWarning(`closing the WAL file: ${(e as Error).message}`);
    }
    fd = null;
  };

  const start = () => {
    if (running || waiting.length === 0) return;
    running = true;
    const covers = asked;
    let handle: number;
    try {
      handle = walFd();
    } catch (e) {
      running = false;
      for (const w of waiting.splice(0)) w.reject(e as Error);
      return;
    }
    fdatasync(handle, (err) => {
      running = false;
      const done = waiting.filter((w) => w.n <= covers);
      waiting.splice(0, waiting.length, ...waiting.filter((w) => w.n > covers));
      for (const w of done) {
        if (err) w.reject(err);
        else w.resolve();
      }
      start();
    });
  };

  return {
    close: closeQuietly,
    sync(): Promise<void> {
      asked += 1;
      const n = asked;
      return new Promise<void>((resolve, reject) => {
        waiting.push({ n, resolve, reject });
        start();
      });
    },
  };
}

/**
 * Reads the WAL index header (the first 96 bytes of the -shm file: two copies
 * of a 48-byte header). SQLite rewrites it on every commit by any connection
 * (frame count, change counter, salts), and compares it the same way to learn
 * whether its cache is stale; PRAGMA data_version answers the same question
 * but takes a read transaction (file locks), measured at 11-20 µs a call
 * against ~1 µs for this read. A header caught mid-update reads as changed.
 * See https://sqlite.org/walformat.html.
 */
function createWalIndexReader(file: string) {
  let fd: number | null = null;
  let torn = 0;
  const buf = Buffer.alloc(96);
  return {
    header(): string | null {
      if (fd === null) {
        try {
          fd = openSync(file, 'r');
        } catch {
          return null;
        }
      }
      if (readSync(fd, buf, 0, 96, 0) < 96) return null;
      if (buf.compare(buf, 0, 48, 48, 96) !== 0) return `torn${torn++}`;
      return buf.toString('base64', 0, 48);
    },
    /** Call only after the database connection is closed. */
    close(): void {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
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
