import { sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// The index that lists posts newest first holds only posts outside the trash.
// Every query that walks it (the lists, tag and author pages, the feeds, the
// sitemap, the digests, the link checker) also asks for "deleted_at is null", which
// the old index did not hold: to test it the database read each table row the walk
// passed, which on a tag page at 100,000 posts meant thousands of rows (1–2 ms), or,
// after ANALYZE, a plan that sorted every tagged post instead (~21 ms on SQLite).
// Queries on posts.status that leave deleted_at out reach posts by id or author
// (tags on a published post, search, an account's drafts) and never used this index.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('posts_status_published').execute();
  await db.schema
    .createIndex('posts_status_published_live')
    .on('posts')
    .columns(['status', 'published_at', 'id'])
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('posts_status_published_live').execute();
  await db.schema.createIndex('posts_status_published').on('posts').columns(['status', 'published_at', 'id']).execute();
}
