import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Bytes stored per account, kept beside the media rows so that the quota is checked
// and taken in one conditional UPDATE (concurrent uploads cannot both squeeze in).

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('media_usage')
    .addColumn('owner_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('bytes', pg ? 'bigint' : 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`INSERT INTO media_usage (owner_id, bytes) SELECT owner_id, SUM(bytes) FROM media WHERE owner_id IS NOT NULL GROUP BY owner_id`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('media_usage').execute();
}
