import type { Kysely } from 'kysely';

// Frozen in time: never import app code here.
// The widths an image's variants were made for. When MEDIA_WIDTHS changes, an image
// whose set differs gets the missing widths made (once), and remembers the new set.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('media').addColumn('variant_widths', 'text').execute();
  // Everything made so far was made for the widths of the time.
  await db.updateTable('media').set({ variant_widths: '320,640,960,1280,1920' }).where('variants_ready_at', 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('media').dropColumn('variant_widths').execute();
}
