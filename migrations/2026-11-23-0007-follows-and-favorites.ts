import { PostgresAdapter, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Follows between people and favourites (likes) of posts. Both are plain
// pairs with a time; the primary key makes a repeated follow or like a no-op.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';

  await db.schema
    .createTable('follows')
    .addColumn('follower_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('followee_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('follows_pk', ['follower_id', 'followee_id'])
    .execute();
  // "Who follows me" (notifications, counts); the key serves "whom do I follow" (the feed).
  await db.schema.createIndex('follows_followee').on('follows').columns(['followee_id', 'follower_id']).execute();

  await db.schema
    .createTable('favorites')
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('post_id', 'integer', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('favorites_pk', ['user_id', 'post_id'])
    .execute();
  // Counts per post in every list.
  await db.schema.createIndex('favorites_post').on('favorites').columns(['post_id', 'user_id']).execute();
  // The personal feed walks followed authors' posts newest first.
  await db.schema.createIndex('posts_author_published').on('posts').columns(['author_id', 'status', 'published_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('posts_author_published').execute();
  await db.schema.dropTable('favorites').execute();
  await db.schema.dropTable('follows').execute();
}
