// The stack floor: the least Inkwell's own stack can do for the front page. A bare
// Fastify app, two node:sqlite prepared statements (the page of posts, then their
// tags, as Inkwell reads them), the same view code (postListHtml) and the same page
// around it: the header and footer are cut from Inkwell's own answer, so the bytes
// sent are the same. No hooks, no sessions, no cache: every request queries and renders.
// argv: port, database file, Inkwell's /posts body file, its headers file (JSON), posts per page.
import { readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import Fastify from 'fastify';
import { encodeCursor } from '../src/lib/cursor.ts';
import { type Post, readingMinutes } from '../src/features/posts/posts.queries.ts';
import { postListHtml } from '../src/features/posts/views/post-list.ts';

const [port, file, bodyFile, headersFile, perPage] = process.argv.slice(2);
const limit = Number(perPage);
const db = new DatabaseSync(file, { readOnly: true });
const page = db.prepare(`select p.id, p.slug, p.title, p.excerpt, p.custom_excerpt, p.status, p.created_at, p.updated_at, p.published_at,
  p.author_id, p.publish_at, p.deleted_at, p.feature_image, p.feature_image_alt, p.word_count, u.username, u.display_name,
  (select count(*) from favorites f where f.post_id = p.id) as favorites_count
  from posts p left join users u on u.id = p.author_id
  where p.deleted_at is null and p.status = 'published' order by p.published_at desc, p.id desc limit ?`);
const tags = db.prepare(`select pt.post_id, t.name, t.slug from post_tags pt join tags t on t.id = pt.tag_id
  where pt.post_id in (select value from json_each(?)) order by t.name`);

function render(): string {
  const rows = page.all(limit + 1) as any[];
  const shown = rows.slice(0, limit);
  const byPost = new Map<number, Post['tags']>();
  for (const t of tags.all(JSON.stringify(shown.map((r) => r.id))) as any[]) {
    const list = byPost.get(t.post_id) ?? [];
    list.push({ name: t.name, slug: t.slug });
    byPost.set(t.post_id, list);
  }
  const posts: Post[] = shown.map((r) => ({
    id: r.id,
    slug: r.slug,
    title: r.title,
    body: '',
    bodyHtml: '',
    excerpt: r.excerpt,
    customExcerpt: r.custom_excerpt,
    status: r.status,
    author: r.username === null ? null : { id: r.author_id, username: r.username, displayName: r.display_name ?? r.username },
    tags: byPost.get(r.id) ?? [],
    favoritesCount: Number(r.favorites_count),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    publishedAt: r.publish_at ?? r.published_at,
    deletedAt: null,
    featureImage: null,
    readingMinutes: readingMinutes(r.word_count),
  }));
  const last = shown.at(-1);
  return postListHtml({
    heading: 'Latest posts',
    posts,
    empty: 'No posts yet.',
    olderHref: rows.length > limit && last ? `/posts?before=${encodeCursor({ at: last.published_at, id: last.id })}` : null,
  });
}

// The page around the list, cut from Inkwell's answer at the list this code renders.
const whole = readFileSync(bodyFile, 'utf8');
const list = render();
const at = whole.indexOf(list);
if (at === -1) throw new Error('floor: the rendered list is not in Inkwell’s page (views or data differ)');
const head = whole.slice(0, at);
const tail = whole.slice(at + list.length);
const headers = JSON.parse(readFileSync(headersFile, 'utf8')) as Record<string, string>;
delete headers.etag;

const app = Fastify();
app.get('/posts', async (_request, reply) => reply.headers(headers).send(head + render() + tail));
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
