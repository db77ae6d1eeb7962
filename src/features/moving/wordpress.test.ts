import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildUser } from '../../../test/support/factories.ts';
import { ImportRefused, type MovingService, standaloneMovingService } from './index.ts';

const FIXTURE = new URL('../../../test/fixtures/wordpress/blog.xml', import.meta.url).pathname;
const WXR_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
const RSS_OPEN =
  '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>';
const item = (id: number, title: string) =>
  `<item><title>${title}</title><link>https://old.example/${id}/</link><guid>https://old.example/?p=${id}</guid><dc:creator>x</dc:creator><content:encoded><![CDATA[<p>${title}</p>]]></content:encoded><wp:post_id>${id}</wp:post_id><wp:post_date_gmt>2019-01-01 00:00:00</wp:post_date_gmt><wp:post_name>${title.toLowerCase().replace(/\W+/g, '-')}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>`;

// Moving a blog in: what the export held must arrive with its dates, threads,
// authors and addresses, a second run must not duplicate anything, and a
// broken or hostile file must change nothing.
eachDatabase('WordPress import', (dialect) => {
  let t: TestApp;
  let moving: MovingService;
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-wxr-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const api = (url: string) => t.app.inject({ method: 'GET', url });
  const countRows = async (table: 'posts' | 'pages' | 'comments' | 'users' | 'redirects') =>
    Number(
      (
        await t.db.kysely
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    t = await buildTestApp(dialect);
    moving = standaloneMovingService({ db: t.db, events: t.events, queue: t.queue, media: t.config.media, siteUrl: t.config.siteUrl });
    // Martha already has an account here: her posts are hers, matched by email.
    await buildUser(t, { email: 'martha@example.test', username: 'martha_here', role: 'editor' });
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('hostile and malformed files are refused with a clear message, and nothing is written', async () => {
    const before = await Promise.all([countRows('posts'), countRows('comments'), countRows('users'), countRows('redirects')]);
    const cases: [string, string, RegExp][] = [
      [
        'xxe.xml',
        `${WXR_HEAD}<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${RSS_OPEN}<item><title>&xxe;</title></item></channel></rss>`,
        /DOCTYPE/,
      ],
      [
        'laughs.xml',
        `${WXR_HEAD}<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>${RSS_OPEN}${item(1, '&lol2;')}</channel></rss>`,
        /DOCTYPE/,
      ],
      // Broken at the very end, after two good posts: they must not be written either.
      [
        'broken.xml',
        `${WXR_HEAD}${RSS_OPEN}${item(1, 'First good')}${item(2, 'Second good')}<item><title>Cut off</title></channel></rss>`,
        /not well-formed XML/,
      ],
      ['undeclared-entity.xml', `${WXR_HEAD}${RSS_OPEN}${item(1, 'Has &nbsp; entity')}</channel></rss>`, /not well-formed XML/],
      ['feed.xml', `${WXR_HEAD}<rss version="2.0"><channel><item><title>A plain RSS feed</title></item></channel></rss>`, /not a WordPress export/],
      ['ghost.json', '{"db":[{"data":{"posts":[]}}]}', /not well-formed XML|not a WordPress export/],
      ['atom.xml', `${WXR_HEAD}<feed xmlns="http://www.w3.org/2005/Atom"></feed>`, /not a WordPress export/],
      ['wxr-9.xml', `${WXR_HEAD}${RSS_OPEN.replace('1.2</wp:wxr_version>', '9.0</wp:wxr_version>')}</channel></rss>`, /WXR 9\.0/],
      ['empty.xml', '', /no <rss> document|not well-formed/],
      // One element claiming more than any post could hold.
      [
        'huge.xml',
        `${WXR_HEAD}${RSS_OPEN}<item><title>Huge</title><content:encoded>${'x'.repeat(17 * 1024 * 1024)}</content:encoded></item></channel></rss>`,
        /larger than 16 MB/,
      ],
    ];
    for (const [name, text, message] of cases) {
      await assert.rejects(moving.importWordPress(file(name, text)), (e: Error) => {
        assert.ok(e instanceof ImportRefused, `${name}: ${e.message}`);
        assert.match(e.message, message, name);
        return true;
      });
    }
    assert.deepEqual(await Promise.all([countRows('posts'), countRows('comments'), countRows('users'), countRows('redirects')]), before);
  });

  test('posts, pages, comments, authors, tags and old addresses arrive as they were', async () => {
    const report = await moving.importWordPress(FIXTURE);
    assert.deepEqual(report.counts.posts, { imported: 5, updated: 0, skipped: 1 }, 'the trashed post is skipped');
    assert.deepEqual(report.counts.pages, { imported: 1, updated: 0, skipped: 0 });
    assert.deepEqual(report.counts.comments, { imported: 3, updated: 0, skipped: 2 }, 'spam and the pingback are skipped');
    assert.deepEqual(report.counts.authors, { imported: 1, updated: 1, skipped: 0 }, 'Martha matched by email, Ivan created');
    assert.deepEqual(report.createdAuthors, [{ username: 'ivan_petrov', email: 'ivan@example.test' }]);
    assert.equal(report.images.failed, 2, 'the featured image, the caption image and two gallery images are two distinct files (no media library here)');
    assert.deepEqual(report.unknownShortcodes, { 'contact-form-7': 1 });
    assert.equal(report.failed, 0);
    assert.ok(report.warnings.some((w) => /Diary/.test(w.item) && /private/.test(w.message)));

    const post = (await api('/api/v1/posts/whats-backend-development')).json();
    assert.equal(post.publishedAt, '2019-05-06T09:00:00.000Z');
    assert.equal(post.updatedAt, '2019-06-01T10:00:00.000Z');
    assert.equal(post.author.username, 'martha_here');
    assert.deepEqual(post.tags.map((x: { name: string }) => x.name).sort(), ['Backend', 'Node.js']);
    assert.doesNotMatch(post.body, /wp:|<p>|\[caption|\[gallery/);
    assert.match(post.body, /^!\[\]\(https:\/\/old\.example\/wp-content\/uploads\/2019\/05\/dog\.jpg\)/, 'the featured image opens the post');
    assert.match(post.body, /^# Where to start$/m, 'a source <h2> is # (which Inkwell shows as <h2>)');
    assert.match(post.body, /- Learn HTTP\n- Learn SQL/);
    assert.match(post.body, /```\nSELECT \* FROM posts WHERE id = 1;\n```/);
    assert.match(post.body, /!\[A sleeping cat\]\(https:\/\/old\.example\/wp-content\/uploads\/2019\/05\/cat\.jpg\)\n\n\*The server room's cat\*/);
    assert.match(post.body, /> Make it work, then make it fast\./);
    assert.match(post.body, /\\\[contact-form-7 id="42" title="Contact"\\\]/, 'the unknown shortcode is kept as text');
    assert.match(post.bodyHtml, /<h2>Where to start<\/h2>/);
    assert.match(post.bodyHtml, /\[contact-form-7/);

    // The page is a page (not a post), at /pages/about; the drafts, the schedule.
    assert.equal((await api('/api/v1/posts/about')).statusCode, 404, 'not a post');
    const about = (await api('/api/v1/pages/about')).json().page;
    assert.equal(about.title, 'About');
    assert.equal(about.status, 'published');
    assert.equal(about.createdAt, '2018-12-01T09:00:00.000Z');
    assert.match(about.body, /We write about food & servers\./);
    assert.match((await api('/pages/about')).body, /We write about food &amp; servers/);
    const rows = await t.db.kysely.selectFrom('posts').select(['title', 'slug', 'status', 'publish_at', 'author_id']).execute();
    const byTitle = new Map(rows.map((r) => [r.title, r]));
    assert.equal(byTitle.get('Half-written thoughts')!.status, 'draft');
    assert.equal(byTitle.get('Diary')!.status, 'draft');
    assert.equal(byTitle.get('Coming soon')!.status, 'draft');
    assert.equal(byTitle.get('Coming soon')!.publish_at, '2099-01-01T09:00:00.000Z', 'future becomes scheduled');
    assert.ok(!byTitle.has('Deleted thing'));
    assert.ok(!byTitle.has('Main menu item'));
    const privet = byTitle.get('Привет, мир')!;
    assert.equal(privet.status, 'published');
    assert.equal(privet.slug, 'привет-мир', 'a Cyrillic address name stays Cyrillic');
    const ivan = await t.db.kysely
      .selectFrom('users')
      .select(['id', 'role', 'password_hash', 'display_name'])
      .where('email', '=', 'ivan@example.test')
      .executeTakeFirstOrThrow();
    assert.equal(ivan.role, 'author');
    assert.equal(ivan.password_hash, null, 'no usable password');
    assert.equal(ivan.display_name, 'Иван Петров');
    assert.equal(privet.author_id, ivan.id);
    const privetPost = (await api(`/api/v1/posts/${encodeURIComponent(privet.slug)}`)).json();
    assert.deepEqual(
      privetPost.tags.map((x: { slug: string }) => x.slug),
      ['новости'],
      'the category Новости is a tag with a Cyrillic slug',
    );
    assert.match(privetPost.bodyHtml, /<p>Первый абзац, classic editor\.<br \/>\s*Вторая строка\.<\/p>/, 'classic-editor line breaks and paragraphs');

    // Comments: thread, approval, guest names.
    const page = await api('/posts/whats-backend-development');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Guest Reader/);
    assert.doesNotMatch(page.body, /Is this moderated|Buy now|linked here/, 'held, spam and pingbacks are not shown to readers');
    const comments = await t.db.kysely
      .selectFrom('comments')
      .select(['id', 'parent_id', 'author_id', 'author_name', 'status', 'created_at', 'body'])
      .orderBy('id')
      .execute();
    assert.equal(comments.length, 3);
    const [guest, reply, held] = comments;
    assert.equal(guest.author_name, 'Guest Reader');
    assert.equal(guest.author_id, null);
    assert.equal(guest.created_at, '2019-05-07T10:00:00.000Z');
    assert.equal(reply.parent_id, guest.id, 'the reply hangs under its parent');
    assert.notEqual(reply.author_id, null, "Martha's reply is her account's");
    assert.match(reply.body, /\*Guest\*/);
    assert.equal(held.status, 'held');

    // Old addresses answer 301 to the new ones.
    const redirects: [string, string][] = [
      ['/2019/05/06/whats-backend-development/', '/posts/whats-backend-development'],
      ['/?p=123', '/posts/whats-backend-development'],
      ['/?page_id=2', '/pages/about'],
      ['/about/', '/pages/about'],
      ['/category/backend/', '/tags/backend'],
      ['/tag/node-js/', '/tags/node-js'],
      ['/2020/01/02/%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82-%D0%BC%D0%B8%D1%80/', '/posts/%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82-%D0%BC%D0%B8%D1%80'],
      ['/category/%d0%bd%d0%be%d0%b2%d0%be%d1%81%d1%82%d0%b8/', '/tags/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8'],
    ];
    for (const [from, to] of redirects) {
      const res = await api(from);
      assert.equal(res.statusCode, 301, from);
      assert.equal(res.headers.location, to, from);
    }
  });

  test('a second run updates what the first brought in and duplicates nothing', async () => {
    const before = await Promise.all([countRows('posts'), countRows('pages'), countRows('comments'), countRows('users'), countRows('redirects')]);
    const report = await moving.importWordPress(FIXTURE);
    assert.deepEqual(report.counts.posts, { imported: 0, updated: 5, skipped: 1 });
    assert.deepEqual(report.counts.pages, { imported: 0, updated: 1, skipped: 0 });
    assert.deepEqual(report.counts.comments, { imported: 0, updated: 3, skipped: 2 });
    assert.deepEqual(report.counts.redirects, { imported: 0, updated: 0, skipped: 0 }, 'every old address already led there');
    assert.deepEqual(report.createdAuthors, []);
    assert.deepEqual(await Promise.all([countRows('posts'), countRows('pages'), countRows('comments'), countRows('users'), countRows('redirects')]), before);
    assert.equal((await api('/about/')).headers.location, '/pages/about', 'the page kept its slug');
    assert.equal((await api('/posts/whats-backend-development')).statusCode, 200, 'the slug is kept, not made -2');
  });

  if (dialect === 'sqlite') {
    test('the CLI prints the report, and refuses a hostile file with a message and exit status 1', async () => {
      const run = promisify(execFile);
      const db = `sqlite:${join(dir, 'cli.db')}`;
      const env = { ...process.env, DATABASE_URL: db, LOG_LEVEL: 'silent' };
      const bin = new URL('../../../bin/inkwell.js', import.meta.url).pathname;
      const ok = await run(process.execPath, [bin, 'import', 'wordpress', FIXTURE], { env });
      assert.match(ok.stdout, /posts\s+5 imported\s+0 updated\s+1 skipped/);
      assert.match(ok.stdout, /Images: 0 imported into the media library, 0 already there, 2 failed/);
      await assert.rejects(
        run(process.execPath, [bin, 'import', 'wordpress', FIXTURE, '--site-url', 'ftp://old'], { env }),
        (e: { code: number; stderr: string }) => {
          assert.equal(e.code, 1);
          assert.match(e.stderr, /--site-url must be an http\(s\) address/);
          return true;
        },
      );
      const bad = file('cli-xxe.xml', readFileSync(FIXTURE, 'utf8').replace('<rss', '<!DOCTYPE rss [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<rss'));
      await assert.rejects(run(process.execPath, [bin, 'import', 'wordpress', bad], { env }), (e: { code: number; stderr: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr, /was not imported: .*DOCTYPE.*Nothing was changed/);
        return true;
      });
    });
  }
});
