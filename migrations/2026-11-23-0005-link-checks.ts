import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// The nightly link checker: every outbound link of published posts, what its
// last check found, which posts contain it, and one row per run.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const id = (c: any) => (pg ? c : c.autoIncrement()).primaryKey();
  const idType = pg ? 'serial' : 'integer';

  await db.schema
    .createTable('link_checks')
    .addColumn('id', idType, id)
    .addColumn('url', 'text', (c) => c.notNull().unique())
    .addColumn('host', 'text', (c) => c.notNull())
    // pending (found, not checked yet) | ok | broken | redirect | skipped (robots.txt)
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'ok', 'broken', 'redirect', 'skipped')`))
    .addColumn('status', 'integer')
    .addColumn('error', 'text')
    .addColumn('final_url', 'text')
    .addColumn('redirects', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('first_seen_at', ts, (c) => c.notNull())
    .addColumn('last_checked_at', ts)
    .addColumn('broken_since', ts)
    .execute();
  await db.schema.createIndex('link_checks_state').on('link_checks').columns(['state', 'url']).execute();

  await db.schema
    .createTable('link_check_posts')
    .addColumn('link_id', 'integer', (c) => c.notNull().references('link_checks.id').onDelete('cascade'))
    .addColumn('post_id', 'integer', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('link_check_posts_pk', ['link_id', 'post_id'])
    .execute();
  await db.schema.createIndex('link_check_posts_post').on('link_check_posts').columns(['post_id', 'link_id']).execute();

  await db.schema
    .createTable('crawl_runs')
    .addColumn('id', idType, id)
    .addColumn('trigger', 'text', (c) => c.notNull().check(sql`${sql.ref('trigger')} in ('schedule', 'manual')`))
    .addColumn('started_at', ts, (c) => c.notNull())
    .addColumn('finished_at', ts)
    .addColumn('links', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('checked', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ok', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('broken', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('redirects', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('unreached', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('new_broken', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('crawl_runs_started').on('crawl_runs').columns(['started_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['crawl_runs', 'link_check_posts', 'link_checks']) {
    await db.schema.dropTable(t).execute();
  }
}
