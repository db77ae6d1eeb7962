import type { Kysely } from 'kysely';

// Frozen in time: never import app code here.
// A post's word count, kept beside its body so that lists (which leave the body
// out) can show a reading time. Counted from the rendered HTML's text.

function words(bodyHtml: string): number {
  const text = bodyHtml
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&[a-z0-9#]+;/gi, ' ');
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('posts')
    .addColumn('word_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('posts').select(['id', 'body_html']).where('id', '>', after).orderBy('id').limit(500).execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      await db
        .updateTable('posts')
        .set({ word_count: words(r.body_html) })
        .where('id', '=', r.id)
        .execute();
    }
    after = rows[rows.length - 1].id;
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('posts').dropColumn('word_count').execute();
}
