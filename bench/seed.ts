import type { Kysely } from 'kysely';
import type { Database } from '../src/platform/db/schema.ts';
import { renderMarkdown, excerptOf, htmlToText } from '../src/lib/markdown.ts';
import { hashPassword, hashToken, randomToken } from '../src/lib/secrets.ts';

const WORDS = 'ink paper quill river morning garden letter window harbour lantern orchard meadow signal engine thread winter summer'.split(' ');

/** A realistic blog: authors, tags, `posts` published posts with Markdown, and one post with 50 comments. */
export async function seed(db: Kysely<Database>, posts: number): Promise<{ token: string; commentedSlug: string; sessionCookie: string; tagSlug: string }> {
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const password = await hashPassword('benchmark password');
  const authors: number[] = [];
  for (let i = 0; i < 10; i++) {
    authors.push(
      (
        await db
          .insertInto('users')
          .values({
            email: `author${i}@bench.test`,
            username: `author${i}`,
            display_name: `Author ${i}`,
            password_hash: password,
            role: i === 0 ? 'admin' : 'author',
            bio: null,
            avatar_url: null,
            email_verified_at: iso(now),
            suspended_at: null,
            comments_banned_at: null,
            created_at: iso(now),
            updated_at: iso(now),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );
  }
  const token = randomToken('iwk_');
  await db
    .insertInto('api_tokens')
    .values({
      user_id: authors[0],
      name: 'bench',
      token_hash: hashToken(token),
      scopes: 'read write',
      created_at: iso(now),
      last_used_at: null,
      expires_at: null,
    })
    .execute();
  // A signed-in reader: a browser session as a login would make it (the cookie holds the token, the table its hash).
  const reader = await db
    .insertInto('users')
    .values({
      email: 'reader@bench.test',
      username: 'reader',
      display_name: 'A reader',
      password_hash: password,
      role: 'reader',
      bio: null,
      avatar_url: null,
      email_verified_at: iso(now),
      suspended_at: null,
      comments_banned_at: null,
      created_at: iso(now),
      updated_at: iso(now),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const session = randomToken();
  await db
    .insertInto('sessions')
    .values({ id_hash: hashToken(session), user_id: reader.id, created_at: iso(now), expires_at: iso(now + 30 * 24 * 3600 * 1000) })
    .execute();
  const tagIds: number[] = [];
  for (let i = 0; i < 50; i++) {
    tagIds.push(
      (
        await db
          .insertInto('tags')
          .values({ name: `Topic ${i}`, slug: `topic-${i}`, created_at: iso(now) })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );
  }
  const body = Array.from({ length: 6 }, (_, p) => `${WORDS.slice(p, p + 12).join(' ')}, *with emphasis* and a [link](https://example.com/${p}).`).join('\n\n');
  const bodyHtml = renderMarkdown(body);
  const excerpt = excerptOf(htmlToText(bodyHtml));
  const BATCH = 500;
  await db.transaction().execute(async (trx) => {
    for (let start = 0; start < posts; start += BATCH) {
      const rows = [];
      for (let i = start; i < Math.min(posts, start + BATCH); i++) {
        const at = iso(now - (posts - i) * 60_000);
        rows.push({
          author_id: authors[i % authors.length],
          title: `${WORDS[i % WORDS.length]} notes number ${i}`,
          slug: `post-${i}`,
          body,
          body_html: bodyHtml,
          custom_excerpt: null,
          excerpt,
          status: 'published' as const,
          created_at: at,
          updated_at: at,
          published_at: at,
          publish_at: null,
        });
      }
      const ids = await trx.insertInto('posts').values(rows).returning('id').execute();
      await trx
        .insertInto('post_tags')
        .values(
          ids.flatMap((r, k) => [
            { post_id: r.id, tag_id: tagIds[(start + k) % 50] },
            { post_id: r.id, tag_id: tagIds[(start + k + 7) % 50] },
          ]),
        )
        .execute();
    }
  });
  const commentedSlug = `post-${posts - 1}`;
  const post = await db.selectFrom('posts').select('id').where('slug', '=', commentedSlug).executeTakeFirstOrThrow();
  let parent: number | null = null;
  for (let i = 0; i < 50; i++) {
    const text = `Comment ${i}: ${WORDS.slice(i % 8, (i % 8) + 8).join(' ')}.`;
    const row: { id: number } = await db
      .insertInto('comments')
      .values({
        post_id: post.id,
        parent_id: i % 3 === 0 ? null : parent,
        author_id: authors[(i + 1) % authors.length],
        body: text,
        body_html: `<p>${text}</p>`,
        status: 'published',
        created_at: iso(now - (50 - i) * 1000),
        updated_at: iso(now),
        edited_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (i % 3 === 0) parent = row.id;
  }
  return { token, commentedSlug, sessionCookie: `inkwell_session=${session}`, tagSlug: 'topic-7' };
}
