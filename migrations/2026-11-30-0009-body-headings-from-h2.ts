import { sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// A post's title is its page's <h1>, so Markdown headings in a body now render
// one level down (# is <h2>; h6 stays h6). Bodies are stored rendered, so the
// stored HTML of existing posts moves down too. Sanitized post HTML gives
// headings no attributes, and text that looks like a tag is escaped, so the
// literal tags <hN> and </hN> are exactly the headings. Deepest first, so no
// heading moves twice.

export async function up(db: Kysely<any>): Promise<void> {
  let html = sql`body_html`;
  for (const n of [5, 4, 3, 2, 1]) {
    html = sql`replace(replace(${html}, ${`<h${n}>`}, ${`<h${n + 1}>`}), ${`</h${n}>`}, ${`</h${n + 1}>`})`;
  }
  await sql`update posts set body_html = ${html} where body_html like ${'%<h%'}`.execute(db);
}

export async function down(): Promise<void> {
  // Not reversible without the old renderer; the Markdown source is unchanged.
}
