import type { Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Images brought in by an import are media, whose ids are text: the record of
// what an import brought in keeps that id here (target_id stays 0 for them), so
// a second run finds the image instead of downloading it again.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('imported_items').addColumn('target_key', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('imported_items').dropColumn('target_key').execute();
}
