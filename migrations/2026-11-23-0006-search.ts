import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Full-text search over published posts. Both engines share one plain table,
// post_search (one row per published post: title, body as plain text, tag
// names), written by the app in the transaction of each post write. The
// engine-specific index hangs off it:
//   SQLite: an external-content FTS5 table, post_search_fts, kept in step by
//           triggers on post_search (the pattern in SQLite's FTS5 docs);
//   PostgreSQL: a generated, weighted tsvector column with a GIN index.
// Both stem English words and ignore case; neither folds accents (café is not
// cafe): PostgreSQL would need the unaccent extension for that, and the two
// engines should find the same posts.
// A row's lifetime follows its post: ON DELETE CASCADE removes it.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('post_search')
    .addColumn('post_id', 'integer', (c) => c.primaryKey().references('posts.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .execute();

  if (pg) {
    // Weights rank a title match (A) above a tag match (B) above a body match (D).
    await sql`alter table post_search add column document tsvector generated always as (
      setweight(to_tsvector('english'::regconfig, title), 'A') ||
      setweight(to_tsvector('english'::regconfig, tags), 'B') ||
      setweight(to_tsvector('english'::regconfig, body), 'D')) stored`.execute(db);
    await sql`create index post_search_document on post_search using gin (document)`.execute(db);
  } else {
    await sql`create virtual table post_search_fts using fts5(
      title, body, tags, content='post_search', content_rowid='post_id',
      tokenize='porter unicode61 remove_diacritics 0')`.execute(db);
    await sql`create trigger post_search_ai after insert on post_search begin
      insert into post_search_fts(rowid, title, body, tags) values (new.post_id, new.title, new.body, new.tags);
    end`.execute(db);
    await sql`create trigger post_search_ad after delete on post_search begin
      insert into post_search_fts(post_search_fts, rowid, title, body, tags) values ('delete', old.post_id, old.title, old.body, old.tags);
    end`.execute(db);
    await sql`create trigger post_search_au after update on post_search begin
      insert into post_search_fts(post_search_fts, rowid, title, body, tags) values ('delete', old.post_id, old.title, old.body, old.tags);
      insert into post_search_fts(rowid, title, body, tags) values (new.post_id, new.title, new.body, new.tags);
    end`.execute(db);
  }

  // Backfill every published post, in batches (bodies may be up to 100 KB each).
  for (let after = 0; ; ) {
    const posts: { id: number; title: string; body_html: string }[] = await db
      .selectFrom('posts')
      .select(['id', 'title', 'body_html'])
      .where('status', '=', 'published')
      .where('id', '>', after)
      .orderBy('id')
      .limit(200)
      .execute();
    if (posts.length === 0) break;
    const tags: { post_id: number; name: string }[] = await db
      .selectFrom('post_tags')
      .innerJoin('tags', 'tags.id', 'post_tags.tag_id')
      .select(['post_tags.post_id', 'tags.name'])
      .where(
        'post_tags.post_id',
        'in',
        posts.map((p) => p.id),
      )
      .orderBy('tags.name')
      .execute();
    await db
      .insertInto('post_search')
      .values(
        posts.map((p) => ({
          post_id: p.id,
          title: clean(p.title),
          body: clean(textOf(p.body_html)),
          tags: clean(
            tags
              .filter((t) => t.post_id === p.id)
              .map((t) => t.name)
              .join(' '),
          ),
        })),
      )
      .execute();
    after = posts[posts.length - 1].id;
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) await sql`drop table if exists post_search_fts`.execute(db);
  await db.schema.dropTable('post_search').execute();
}

// A frozen copy of what the app indexes: the text of the sanitized body HTML
// (markdown-it output, so tags never hold a raw '>'), without the private-use
// characters the search feature uses to mark matches in snippets.
function textOf(bodyHtml: string): string {
  return bodyHtml
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => safeChar(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => safeChar(Number(d)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

function safeChar(code: number): string {
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
}

function clean(text: string): string {
  return text.replace(/[\uE000\uE001\u0000]/g, '');
}
