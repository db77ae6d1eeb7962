import { PostgresAdapter, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Galleries: an ordered set of uploaded images with captions, made by a writer.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  await db.schema
    .createTable('galleries')
    .addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c : c.autoIncrement()).primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    // Kept when the maker's account goes, like their posts.
    .addColumn('owner_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('gallery_items')
    .addColumn('gallery_id', 'integer', (c) => c.notNull().references('galleries.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    // No foreign key: media refuses to delete a used image and says where it is used.
    .addColumn('media_id', 'text', (c) => c.notNull())
    .addColumn('caption', 'text', (c) => c.notNull().defaultTo(''))
    .addPrimaryKeyConstraint('gallery_items_pk', ['gallery_id', 'position'])
    .execute();
  await db.schema.createIndex('gallery_items_media').on('gallery_items').column('media_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('gallery_items').execute();
  await db.schema.dropTable('galleries').execute();
}
