import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// When a comment was first shown to readers: approving a comment that was published
// before (and held again after an edit) is not a new comment, and notifies nobody again.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .alterTable('comments')
    .addColumn('first_published_at', pg ? 'timestamptz' : 'text')
    .execute();
  // Comments readers have seen (hidden and deleted ones too) were published when written, as far as anyone can tell.
  await db
    .updateTable('comments')
    .set({ first_published_at: sql.ref('created_at') })
    .where('status', 'in', ['published', 'hidden', 'deleted'])
    .execute();
}
