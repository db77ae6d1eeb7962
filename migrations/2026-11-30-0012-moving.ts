import { PostgresAdapter, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Moving in and out (issue 16): redirects from old addresses, the record of what
// an import brought in (so a second run updates instead of duplicating), and the
// name of a guest commenter (imported comments may have no account behind them).

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const id = (c: any) => (pg ? c : c.autoIncrement()).primaryKey();
  const idType = pg ? 'serial' : 'integer';

  await db.schema
    .createTable('redirects')
    .addColumn('id', idType, id)
    // A path as the server sees it after percent-decoding, without a trailing slash; may carry a query (/?p=12).
    .addColumn('from_path', 'text', (c) => c.notNull().unique())
    .addColumn('to_path', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    // Who made it: 'admin', 'slug' (a post's slug changed), 'import'.
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  // Chains are collapsed by target when a slug changes again.
  await db.schema.createIndex('redirects_to').on('redirects').column('to_path').execute();

  await db.schema
    .createTable('imported_items')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    // The source's own identity: a WordPress GUID or comment id, a Ghost id.
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('target_id', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('imported_items_pk', ['source', 'kind', 'source_id'])
    .execute();

  await db.schema
    .createTable('import_runs')
    .addColumn('id', idType, id)
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    // 'queued' | 'running' | 'succeeded' | 'failed'
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
    // The report as JSON once finished; the reason when failed.
    .addColumn('report', 'text')
    .addColumn('error', 'text')
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('finished_at', ts)
    .execute();

  await db.schema.alterTable('comments').addColumn('author_name', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('comments').dropColumn('author_name').execute();
  await db.schema.dropTable('import_runs').execute();
  await db.schema.dropTable('imported_items').execute();
  await db.schema.dropTable('redirects').execute();
}
