import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Safer publishing. A deleted post goes to the trash (deleted_at) and can be
// restored for 30 days before a schedule removes it for good. A draft can be
// shown to someone without an account through a secret preview link: only the
// token's hash is kept, one live link per post. Each save of a published post
// keeps the version it replaced in post_revisions.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const id = (c: any) => (pg ? c : c.autoIncrement()).primaryKey();

  await db.schema.alterTable('posts').addColumn('deleted_at', ts).execute();
  // The trash and its purge read only the few trashed rows.
  await db.schema.createIndex('posts_deleted').on('posts').column('deleted_at').where(sql.ref('deleted_at'), 'is not', null).execute();

  await db.schema
    .createTable('post_previews')
    .addColumn('post_id', 'integer', (c) => c.primaryKey().references('posts.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('post_revisions')
    .addColumn('id', pg ? 'serial' : 'integer', id)
    .addColumn('post_id', 'integer', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('custom_excerpt', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('saved_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('post_revisions_post').on('post_revisions').columns(['post_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('post_revisions').execute();
  await db.schema.dropTable('post_previews').execute();
  await db.schema.dropIndex('posts_deleted').execute();
  await db.schema.alterTable('posts').dropColumn('deleted_at').execute();
}
