import { sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Two indexes only ever searched for a few rows now hold only those rows.
// Every new post wrote an entry for its empty publish_at (only scheduled posts
// have one), and every event kept its entry in events_due after it was
// processed: each an index page more in every write's commit, in indexes
// that grew with the tables. The publisher and the event dispatcher ask for
// exactly these rows ("publish_at is not null", "processed_at is null"); the
// dispatcher takes its events oldest first, so events_due keeps them in id order.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('posts_publish_at').execute();
  await db.schema.createIndex('posts_publish_at').on('posts').column('publish_at').where(sql.ref('publish_at'), 'is not', null).execute();
  await db.schema.dropIndex('events_due').execute();
  await db.schema.createIndex('events_due').on('events').column('id').where(sql.ref('processed_at'), 'is', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_due').execute();
  await db.schema.createIndex('events_due').on('events').columns(['processed_at', 'next_attempt_at']).execute();
  await db.schema.dropIndex('posts_publish_at').execute();
  await db.schema.createIndex('posts_publish_at').on('posts').column('publish_at').execute();
}
