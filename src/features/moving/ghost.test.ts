import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildUser } from '../../../test/support/factories.ts';
import { ImportRefused, type MovingService, standaloneMovingService } from './index.ts';

const FIXTURE = new URL('../../../test/fixtures/ghost/blog.json', import.meta.url).pathname;

// Ghost keeps posts as HTML, or only as its editor's document (mobiledoc in old
// exports, lexical in new ones): all three must arrive readable.
eachDatabase('Ghost import', (dialect) => {
  let t: TestApp;
  let moving: MovingService;
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-ghost-'));
  const get = async (slug: string) => (await t.app.inject({ method: 'GET', url: `/api/v1/posts/${slug}` })).json();

  before(async () => {
    t = await buildTestApp(dialect);
    moving = standaloneMovingService({ db: t.db, events: t.events, queue: t.queue, media: t.config.media, siteUrl: t.config.siteUrl });
    await buildUser(t, { email: 'martha@example.test', username: 'martha_here', role: 'editor' });
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('files that are not Ghost exports are refused, nothing written', async () => {
    const n = async () =>
      Number(
        (
          await t.db.kysely
            .selectFrom('posts')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await n();
    for (const [name, text, message] of [
      ['broken.json', '{"db":[{"data":{"posts":[', /not JSON/],
      ['wxr.xml', '<rss></rss>', /not JSON/],
      ['other.json', '{"posts":[]}', /not a Ghost export/],
      // Whole posts first, then cut off in a later table: the first pass reads to the end, so nothing is written.
      [
        'cut.json',
        `{"db":[{"meta":{"version":"5.0"},"data":{"posts":[{"id":"x1","title":"Complete","slug":"complete","html":"<p>Hi</p>","status":"published"}],"members":[{"id":"m1","email":"a@b.c"},{"id":"m2","ema`,
        /not JSON/,
      ],
    ] as const) {
      const p = join(dir, name);
      writeFileSync(p, text);
      await assert.rejects(moving.importGhost(p), (e: Error) => e instanceof ImportRefused && message.test(e.message));
    }
    assert.equal(await n(), before);
  });

  test('posts from html, mobiledoc and lexical; pages, tags, authors, feature images, dates, status, slugs', async () => {
    const report = await moving.importGhost(FIXTURE);
    assert.deepEqual(report.counts.posts, { imported: 5, updated: 0, skipped: 0 });
    assert.deepEqual(report.counts.pages, { imported: 1, updated: 0, skipped: 0 });
    assert.deepEqual(report.createdAuthors, [{ username: 'zoe', email: 'zoe@example.test' }]);
    assert.equal(report.images.failed, 4);
    assert.ok(
      report.warnings.some((w) => /toggle/.test(w.message)),
      'an unknown lexical card is reported',
    );

    const hello = await get('hello-from-ghost');
    assert.equal(hello.publishedAt, '2021-01-02T10:00:00.000Z');
    assert.equal(hello.updatedAt, '2021-01-03T10:00:00.000Z');
    assert.equal(hello.customExcerpt, 'A short hello');
    assert.equal(hello.author.username, 'martha_here');
    assert.deepEqual(
      hello.tags.map((x: { name: string }) => x.name),
      ['News'],
      'internal #tags stay out',
    );
    assert.match(hello.body, /^!\[\]\(https:\/\/ghost\.example\/content\/images\/feature\.jpg\)/);
    assert.match(hello.body, /Welcome, \*readers\*\./);

    const mobiledoc = await get('old-mobiledoc-post');
    assert.equal(mobiledoc.author.username, 'zoe');
    for (const re of [
      /^# Mobiledoc heading$/m,
      /Plain then \*\*bold\*\* and a \[link\]\(https:\/\/ghost\.org\/\)\./,
      /!\[Hero\]\(https:\/\/ghost\.example\/content\/images\/2020\/05\/hero\.png\)/,
      /```sh\nnpm install\n```/,
      /A \*\*markdown\*\* card\n\n- one\n- two/,
      /- first\n- second/,
    ])
      assert.match(mobiledoc.body, re);

    const lexical = await get('cafe-lexical');
    for (const re of [
      /^## Lexical heading$/m,
      /\*Italic\* and `code`/,
      /\[a link\]\(https:\/\/example\.org\/x\)/,
      /```js\nlet a = 1;\n```/,
      /!\[An image\]/,
      /1\. uno\n2\. dos/,
    ])
      assert.match(lexical.body, re);
    assert.deepEqual(
      lexical.tags.map((x: { slug: string }) => x.slug),
      ['ecriture'],
    );

    // The page is a page, and its old address leads there.
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/posts/about-us' })).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/pages/about-us' })).json().page.status, 'published');
    assert.equal((await t.app.inject({ method: 'GET', url: '/about-us/' })).headers.location, '/pages/about-us');
    const rows = new Map((await t.db.kysely.selectFrom('posts').select(['slug', 'status', 'publish_at']).execute()).map((r) => [r.slug, r]));
    assert.equal(rows.get('unfinished')!.status, 'draft');
    assert.equal(rows.get('tomorrows-post')!.publish_at, '2099-06-01T08:00:00.000Z');
    const old = await t.app.inject({ method: 'GET', url: '/hello-from-ghost/' });
    assert.equal(old.statusCode, 301);
    assert.equal(old.headers.location, '/posts/hello-from-ghost');
    assert.equal((await t.app.inject({ method: 'GET', url: '/tag/news/' })).headers.location, '/tags/news');
  });

  test('tables in any order, and tables the import does not need, are streamed past', async () => {
    const revisions = Array.from({ length: 3000 }, (_, i) => ({ id: `r${i}`, post_id: 's1', lexical: JSON.stringify({ text: 'x'.repeat(200) }) }));
    const doc = {
      db: [
        {
          meta: { version: '5.0' },
          data: {
            users: [{ id: 'su', name: 'Streamer', slug: 'streamer', email: 'streamer@example.test' }],
            post_revisions: revisions,
            tags: [{ id: 'st', name: 'Flow', slug: 'flow' }],
            posts: [
              { id: 's1', uuid: 'stream-1', title: 'Streamed post', slug: 'streamed-post', html: '<p>Read as a stream.</p>', status: 'published' },
              { id: 's2', uuid: 'stream-2', title: 'Streamed page', slug: 'streamed-page', html: '<p>A page.</p>', status: 'published', type: 'page' },
            ],
            posts_tags: [{ post_id: 's1', tag_id: 'st' }],
            posts_authors: [{ post_id: 's1', author_id: 'su' }],
            members: Array.from({ length: 2000 }, (_, i) => ({ id: `m${i}`, email: `m${i}@example.test` })),
          },
        },
      ],
    };
    const p = join(dir, 'ordered.json');
    writeFileSync(p, JSON.stringify(doc));
    const report = await moving.importGhost(p);
    assert.deepEqual(report.counts.posts, { imported: 1, updated: 0, skipped: 0 });
    assert.deepEqual(report.counts.pages, { imported: 1, updated: 0, skipped: 0 });
    const post = await get('streamed-post');
    assert.equal(post.author.username, 'streamer');
    assert.deepEqual(
      post.tags.map((x: { slug: string }) => x.slug),
      ['flow'],
    );
  });

  test('importing again updates, never duplicates', async () => {
    const report = await moving.importGhost(FIXTURE);
    assert.deepEqual(report.counts.posts, { imported: 0, updated: 5, skipped: 0 });
    assert.deepEqual(report.counts.pages, { imported: 0, updated: 1, skipped: 0 });
    assert.equal((await t.db.kysely.selectFrom('pages').select('id').where('slug', 'like', 'about-us%').execute()).length, 1);
    assert.equal((await t.db.kysely.selectFrom('posts').select('id').where('title', '=', 'Hello from Ghost').execute()).length, 1);
  });
});
