import { PostgresAdapter, sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../../../platform/db/schema.ts';
import { htmlToText } from '../../../lib/markdown.ts';
import { preparedQuery } from '../../../platform/db/prepared.ts';
import { highlightHtml, indexText, MARK_CLOSE, MARK_OPEN } from './search.highlight.ts';

type Db = Kysely<Database> | Transaction<Database>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * Brings a post's search entry in line with the post: present (title, body
 * text, tag names) while it is published, absent otherwise (draft, scheduled,
 * deleted). Call it inside the transaction of every write to a post or its tags.
 * `known`: the post's row and tag names (ordered by name) as this transaction
 * just wrote them, to save reading them back.
 */
export async function reindexPost(
  db: Db,
  postId: number,
  known?: { title: string; body_html: string; status: string; tagNames: string[]; deleted_at?: null },
): Promise<void> {
  const post = known ?? (await db.selectFrom('posts').select(['title', 'body_html', 'status', 'deleted_at']).where('id', '=', postId).executeTakeFirst());
  // Only published posts outside the trash are found; restoring a post indexes it again.
  if (post?.status !== 'published' || post.deleted_at) {
    await db.deleteFrom('post_search').where('post_id', '=', postId).execute();
    return;
  }
  const tags = known
    ? known.tagNames.map((name) => ({ name }))
    : await db
        .selectFrom('post_tags')
        .innerJoin('tags', 'tags.id', 'post_tags.tag_id')
        .select('tags.name')
        .where('post_tags.post_id', '=', postId)
        .orderBy('tags.name')
        .execute();
  const row = {
    title: indexText(post.title),
    body: indexText(htmlToText(post.body_html)),
    tags: indexText(tags.map((t) => t.name).join(' ')),
  };
  await upsertSearchQuery(db, { post_id: postId, ...row });
}

// An upsert, so two writers of one post never trip over the primary key. Every write to a published post runs it: compiled once.
const upsertSearchQuery = preparedQuery((db: Db, s: { post_id: number; title: string; body: string; tags: string }) =>
  db
    .insertInto('post_search')
    .values({ post_id: s.post_id, title: s.title, body: s.body, tags: s.tags })
    .onConflict((oc) => oc.column('post_id').doUpdateSet({ title: s.title, body: s.body, tags: s.tags })),
);

export interface SearchFilter {
  /** Words from searchTerms(): letters, digits and marks only. */
  terms: string[];
  limit: number;
  offset: number;
  /** Only posts with this tag slug. */
  tagSlug?: string;
  /** Only posts by this username. */
  authorUsername?: string;
}

export interface SearchHit {
  id: number;
  /** Safe HTML: a snippet of the body, escaped, matches in <mark>. */
  highlight: string;
}

// Column weights: a title match counts most, then tags, then the body.
const SQLITE_WEIGHTS = sql`10.0, 1.0, 4.0`;
const SNIPPET_TOKENS = 24;
const PG_HEADLINE = `StartSel=${MARK_OPEN}, StopSel=${MARK_CLOSE}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`;

function filters(f: SearchFilter): RawBuilder<unknown> {
  const parts = [sql`p.status = 'published'`];
  if (f.tagSlug !== undefined) {
    parts.push(sql`p.id in (select pt.post_id from post_tags pt join tags t on t.id = pt.tag_id where t.slug = ${f.tagSlug})`);
  }
  if (f.authorUsername !== undefined) {
    parts.push(sql`p.author_id = (select u.id from users u where u.username = ${f.authorUsername})`);
  }
  return sql.join(parts, sql` and `);
}

/**
 * One page of published posts matching every term, best match first (ties:
 * newest first, then by id, so offsets page stably), each with a highlighted
 * snippet; and whether more follow. Snippets are made for the page's rows only.
 */
export async function searchPublished(db: Db, f: SearchFilter): Promise<{ hits: SearchHit[]; hasMore: boolean }> {
  const rows = isPostgres(db) ? await searchPostgres(db, f) : await searchSqlite(db, f);
  const page = rows.slice(0, f.limit);
  return { hits: page.map((r) => ({ id: Number(r.id), highlight: highlightHtml(r.marked ?? '') })), hasMore: rows.length > f.limit };
}

type Row = { id: number; marked: string | null };

async function searchSqlite(db: Db, f: SearchFilter): Promise<Row[]> {
  // Every term quoted: FTS5 reads it as a plain word, never as an operator.
  const match = f.terms.map((t) => `"${t}"`).join(' ');
  const { rows } = await sql<Row>`
    with page as (
      select post_search_fts.rowid as id, bm25(post_search_fts, ${SQLITE_WEIGHTS}) as score, p.published_at as published_at
      from post_search_fts join posts p on p.id = post_search_fts.rowid
      where post_search_fts match ${match} and ${filters(f)}
      order by score, p.published_at desc, p.id desc
      limit ${f.limit + 1} offset ${f.offset}
    )
    select page.id as id, snippet(post_search_fts, 1, ${MARK_OPEN}, ${MARK_CLOSE}, '…', ${SNIPPET_TOKENS}) as marked
    from page join post_search_fts on post_search_fts.rowid = page.id
    where post_search_fts match ${match}
    order by page.score, page.published_at desc, page.id desc`.execute(db);
  return rows;
}

async function searchPostgres(db: Db, f: SearchFilter): Promise<Row[]> {
  // plainto_tsquery treats its text as words joined by AND, whatever it contains.
  const { rows } = await sql<Row>`
    with query as (select plainto_tsquery('english'::regconfig, ${f.terms.join(' ')}) as q),
    page as (
      select s.post_id as id, ts_rank(s.document, query.q) as score, p.published_at as published_at
      from post_search s cross join query join posts p on p.id = s.post_id
      where s.document @@ query.q and ${filters(f)}
      order by score desc, p.published_at desc, p.id desc
      limit ${f.limit + 1} offset ${f.offset}
    )
    select page.id as id, ts_headline('english'::regconfig, s.body, query.q, ${PG_HEADLINE}) as marked
    from page join post_search s on s.post_id = page.id cross join query
    order by page.score desc, page.published_at desc, page.id desc`.execute(db);
  return rows;
}
