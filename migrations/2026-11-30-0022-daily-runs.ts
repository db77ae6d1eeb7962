import { PostgresAdapter, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Daily tasks at a time of day of the site's time zone (which an admin may change):
// one row per task and local day, inserted by the instance that runs it.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('daily_runs')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('claimed_at', pg ? 'timestamptz' : 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('daily_runs_pk', ['name', 'day'])
    .execute();
}
