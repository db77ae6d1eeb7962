import { PostgresAdapter, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// The durable job queue, cron bookkeeping, scheduled publishing, and webhooks.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const id = (c: any) => (pg ? c : c.autoIncrement()).primaryKey();
  const idType = pg ? 'serial' : 'integer';

  await db.schema
    .createTable('jobs')
    .addColumn('id', idType, id)
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    // queued -> running -> succeeded | failed (kept, with its error) ; discarded by an admin
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('run_at', ts, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('lease_until', ts)
    .addColumn('locked_by', 'text')
    .addColumn('last_error', 'text')
    .addColumn('idempotency_key', 'text', (c) => c.unique())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('finished_at', ts)
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_at']).execute();

  // One row per schedule tick: inserting it is the claim, so a tick runs once across instances.
  await db.schema
    .createTable('cron_ticks')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tick_at', ts, (c) => c.notNull())
    .addColumn('claimed_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('cron_ticks_pk', ['name', 'tick_at'])
    .execute();

  // A draft with publish_at set is "scheduled"; the publisher makes it live when the time comes.
  await db.schema.alterTable('posts').addColumn('publish_at', ts).execute();
  await db.schema.createIndex('posts_publish_at').on('posts').column('publish_at').execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', idType, id)
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('disabled_reason', 'text')
    .addColumn('failing_since', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', idType, id)
    .addColumn('webhook_id', 'integer', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('delivery_id', 'text', (c) => c.notNull().unique())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    // pending -> succeeded | failed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('response_status', 'integer')
    .addColumn('response_excerpt', 'text')
    .addColumn('duration_ms', 'integer')
    .addColumn('error', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('last_attempt_at', ts)
    .execute();
  await db.schema.createIndex('webhook_deliveries_hook').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['webhook_deliveries', 'webhooks', 'cron_ticks', 'jobs']) await db.schema.dropTable(t).execute();
  await db.schema.dropIndex('posts_publish_at').execute();
  await db.schema.alterTable('posts').dropColumn('publish_at').execute();
}
