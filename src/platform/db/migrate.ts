import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator, PostgresAdapter, SqliteAdapter, sql, type Kysely, type MigrationProvider } from 'kysely';
import { isBusy } from './node-sqlite.ts';

const folder = fileURLToPath(new URL('../../../migrations', import.meta.url));

/**
 * Brings the schema up to date. On PostgreSQL, Kysely's migrator holds an
 * advisory lock, so several instances starting at once apply each migration once.
 * On SQLite it takes no lock at all, so the whole run happens in one
 * BEGIN IMMEDIATE transaction: the next instance waits, then finds nothing to do.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  // Loaded before any lock is taken: holding SQLite's write lock across file reads
  // would stall another instance in this process whose write then busy-waits.
  const migrations = await new FileMigrationProvider({ fs, path, migrationFolder: folder }).getMigrations();
  const provider = { getMigrations: async () => migrations };
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    return db.connection().execute(async (conn) => {
      await beginImmediate(conn);
      try {
        const applied = await migrate(conn, provider);
        await sql`commit`.execute(conn);
        return applied;
      } catch (e) {
        await sql`rollback`.execute(conn).catch(() => {});
        throw e;
      }
    });
  }
  return migrate(db, provider);
}

/**
 * Takes SQLite's write lock. The driver waits for it without blocking the event
 * loop, for up to 5 s; another instance's migrations may take longer.
 */
async function beginImmediate(conn: Kysely<any>): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await sql`begin immediate`.execute(conn);
      return;
    } catch (e) {
      if (!isBusy(e) || Date.now() > until) throw e;
    }
  }
}

async function migrate(db: Kysely<any>, provider: MigrationProvider): Promise<string[]> {
  // Kysely looks for its bookkeeping tables in every schema unless told which;
  // name ours, so databases that hold several Inkwell schemas don't confuse it.
  let migrationTableSchema: string | undefined;
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    migrationTableSchema = rows[0].schema;
  }
  const migrator = new Migrator({
    db,
    provider,
    migrationTableSchema,
    // Kysely's default, localeCompare, loads ICU's collation data (~2 MB resident for the
    // process's life) to sort names that are plain ASCII; this is the order it sorts the files in.
    nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
