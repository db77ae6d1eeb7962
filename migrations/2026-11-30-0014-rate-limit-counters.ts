import type { Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Rate-limit counters shared by every instance on one database: with the
// counters in each process's memory, three instances let a password be guessed
// three times as often. Only PostgreSQL uses the table (SQLite serves one
// process, whose memory is enough), but the schema stays the same on both.
// reset_at is epoch milliseconds on the application's clock, so windows end
// at the same moment in every instance and tests can move time.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rate_limit_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('reset_at', 'bigint', (c) => c.notNull())
    .execute();
  // The clean-up deletes ended windows by this column.
  await db.schema.createIndex('rate_limit_counters_reset_at').on('rate_limit_counters').column('reset_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limit_counters').execute();
}
