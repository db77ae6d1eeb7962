import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Email subscriptions: people who get new posts by email (the whole blog or one
// author), and one delivery row per (subscriber, post) so nobody gets a post twice.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  await db.schema
    .createTable('subscribers')
    .addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c : c.autoIncrement()).primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    // The account that subscribed (author subscriptions, /settings/subscriptions); null for the anonymous form.
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
    // null: the whole blog; else only this author's posts.
    .addColumn('author_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('frequency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    // The single-use confirmation link's hash; null once used.
    .addColumn('confirm_token_hash', 'text', (c) => c.unique())
    .addColumn('confirm_sent_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('confirmed_at', ts)
    .addColumn('unsubscribed_at', ts)
    // Where the weekly digest starts counting (posts published after it).
    .addColumn('digest_from', ts)
    .execute();
  // One subscription per address to the blog, and one per address and author.
  await db.schema.createIndex('subscribers_blog_email').on('subscribers').column('email').unique().where(sql.ref('author_id'), 'is', null).execute();
  await db.schema
    .createIndex('subscribers_author_email')
    .on('subscribers')
    .columns(['email', 'author_id'])
    .unique()
    .where(sql.ref('author_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('subscribers_user').on('subscribers').column('user_id').execute();
  await db.schema
    .createTable('subscription_deliveries')
    .addColumn('subscriber_id', 'integer', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
    .addColumn('post_id', 'integer', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    // queued: handed to the mail outbox; skipped: the address had it through another subscription; failed: refused.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('subscription_deliveries_pk', ['subscriber_id', 'post_id'])
    .execute();
  await db.schema.createIndex('subscription_deliveries_post').on('subscription_deliveries').column('post_id').execute();
  // One weekly digest run per local week, across all instances.
  await db.schema
    .createTable('subscription_digest_runs')
    .addColumn('week', 'text', (c) => c.primaryKey())
    .addColumn('started_at', ts, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('subscription_digest_runs').execute();
  await db.schema.dropTable('subscription_deliveries').execute();
  await db.schema.dropTable('subscribers').execute();
}
