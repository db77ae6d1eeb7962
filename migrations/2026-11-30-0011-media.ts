import { PostgresAdapter, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Uploaded images and the resized copies made of them. A media row is the cleaned
// image as stored (metadata removed, orientation applied); variants are the
// responsive sizes and formats made by a background job.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';

  await db.schema
    .createTable('media')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Kept when the uploader's account goes: the image may be used in posts.
    .addColumn('owner_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('original_name', 'text', (c) => c.notNull())
    .addColumn('mime', 'text', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('animated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull().unique())
    .addColumn('original_key', 'text')
    .addColumn('alt', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('caption', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('credit', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('placeholder', 'text')
    .addColumn('variants_ready_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  // The library, newest first, for everyone or one uploader; and the quota sum.
  await db.schema.createIndex('media_created').on('media').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('media_owner_created').on('media').columns(['owner_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('media_variants')
    .addColumn('media_id', 'text', (c) => c.notNull().references('media.id').onDelete('cascade'))
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull().unique())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('media_variants_pk', ['media_id', 'width', 'format'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('media_variants').execute();
  await db.schema.dropTable('media').execute();
}
