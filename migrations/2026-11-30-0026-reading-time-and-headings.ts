import type { Kysely } from 'kysely';

// Frozen in time: never import app code here.
// A post's word count, kept beside its body so that lists (which leave the body
// out) can show a reading time. Counted from the rendered HTML's text.
// And bodies (posts and pages) whose highest heading is below <h2> have their
// headings moved up so it is <h2>, as new bodies are rendered: a body written with
// ## sections no longer jumps from the title's <h1> to <h3>.

export function words(bodyHtml: string): number {
  const text = bodyHtml
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&[a-z0-9#]+;/gi, ' ');
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

export function headingsFromH2(bodyHtml: string): string {
  let top = 7;
  for (const m of bodyHtml.matchAll(/<h([1-6])[\s>]/g)) top = Math.min(top, Number(m[1]));
  if (top <= 2 || top === 7) return bodyHtml;
  return bodyHtml.replace(/<(\/?)h([1-6])(?=[\s>])/g, (_m, close: string, n: string) => `<${close}h${Number(n) - (top - 2)}`);
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
      const bodyHtml = headingsFromH2(r.body_html);
      await db
        .updateTable('posts')
        .set({ word_count: words(bodyHtml), body_html: bodyHtml })
        .where('id', '=', r.id)
        .execute();
    }
    after = rows[rows.length - 1].id;
  }
  const pages = await db.selectFrom('pages').select(['id', 'body_html']).execute();
  for (const p of pages) {
    const bodyHtml = headingsFromH2(p.body_html);
    if (bodyHtml !== p.body_html) await db.updateTable('pages').set({ body_html: bodyHtml }).where('id', '=', p.id).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('posts').dropColumn('word_count').execute();
}
