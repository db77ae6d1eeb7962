import type { Kysely } from 'kysely';

// Frozen in time: never import app code here.
// A post's featured image and a profile's avatar: each names an uploaded image
// (media.id). No foreign key: media refuses to delete an image that is still used
// (with a message saying where), which a constraint error could not explain.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('posts').addColumn('feature_image', 'text').execute();
  await db.schema
    .alterTable('posts')
    .addColumn('feature_image_alt', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  // "Which posts use these images?" is asked before every delete and by the clean-up.
  await db.schema.createIndex('posts_feature_image').on('posts').column('feature_image').execute();
  await db.schema.alterTable('users').addColumn('avatar_media_id', 'text').execute();
  await db.schema.createIndex('users_avatar_media').on('users').column('avatar_media_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_avatar_media').execute();
  await db.schema.alterTable('users').dropColumn('avatar_media_id').execute();
  await db.schema.dropIndex('posts_feature_image').execute();
  await db.schema.alterTable('posts').dropColumn('feature_image_alt').execute();
  await db.schema.alterTable('posts').dropColumn('feature_image').execute();
}
