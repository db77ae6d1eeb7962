import { sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// A trashed post gives up its address: its slug gets "__trashed" (restoring takes the old
// one back if it is still free). Posts already in the trash get the suffix now; no slug
// had an underscore before, so none can collide.

export async function up(db: Kysely<any>): Promise<void> {
  await db.updateTable('posts').set({ slug: sql`slug || '__trashed'` }).where('deleted_at', 'is not', null).execute();
}
