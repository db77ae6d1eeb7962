import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { createMovingService, standaloneServices } from './index.ts';

const comment = (id: number, text: string) =>
  `<wp:comment><wp:comment_id>${id}</wp:comment_id><wp:comment_author>Guest ${id}</wp:comment_author><wp:comment_date_gmt>2019-01-02 00:00:00</wp:comment_date_gmt><wp:comment_content>${text}</wp:comment_content><wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent></wp:comment>`;
const item = (id: number, title: string, comments: string[]) =>
  `<item><title>${title}</title><link>https://old.example/${id}/</link><guid>https://old.example/?p=${id}</guid><dc:creator>x</dc:creator><content:encoded><![CDATA[<p>${title}</p>]]></content:encoded><wp:post_id>${id}</wp:post_id><wp:post_date_gmt>2019-01-01 00:00:00</wp:post_date_gmt><wp:post_name>post-${id}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type><category domain="post_tag" nicename="t${id}"><![CDATA[Tag ${id}]]></category>${comments.join('')}</item>`;
const WXR = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>
${item(1, 'First', [comment(11, 'Nice')])}
${item(2, 'Second', [comment(21, 'Written'), comment(22, 'This one breaks')])}
${item(3, 'Third', [])}
</channel></rss>`;

// An item is a post with its tags, comments, redirects and import records: it
// arrives whole or not at all. A failure in the middle of one (here its second
// comment) leaves nothing of it, the import goes on with the next, and a re-run
// brings the missing one in.
eachDatabase('one transaction per imported item', (dialect) => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-item-tx-'));
  const path = join(dir, 'blog.xml');
  let breakOn: string | null = 'This one breaks';

  before(async () => {
    t = await buildTestApp(dialect);
    writeFileSync(path, WXR);
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const moving = () => {
    const s = standaloneServices({ db: t.db, events: t.events, queue: t.queue, media: t.config.media, siteUrl: t.config.siteUrl });
    // The comments service, failing on one comment while breakOn names it (a database error, a bug).
    const comments: typeof s.comments = {
      ...s.comments,
      async writeImported(c, id, on) {
        if (breakOn && c.body.includes(breakOn)) throw new Error('the disk is full');
        return s.comments.writeImported(c, id, on);
      },
    };
    return createMovingService({ ...s, comments });
  };
  const rows = async () => {
    const db = t.db.kysely;
    return {
      posts: (await db.selectFrom('posts').select('slug').where('slug', 'like', 'post-%').orderBy('slug').execute()).map((r) => r.slug),
      comments: (await db.selectFrom('comments').select('body').orderBy('body').execute()).map((r) => r.body),
      tags: (await db.selectFrom('post_tags').innerJoin('tags', 'tags.id', 'post_tags.tag_id').select('tags.slug').orderBy('tags.slug').execute()).map(
        (r) => r.slug,
      ),
      records: (await db.selectFrom('imported_items').select('source_id').where('kind', 'in', ['post', 'comment']).orderBy('source_id').execute()).map(
        (r) => r.source_id,
      ),
      redirects: (await db.selectFrom('redirects').select('from_path').where('to_path', 'like', '/posts/post-%').orderBy('from_path').execute()).map(
        (r) => r.from_path,
      ),
    };
  };

  test('a failing item leaves nothing behind; the others are imported; a re-run brings it in', async () => {
    const report = await moving().importWordPress(path);
    assert.equal(report.failed, 1);
    assert.deepEqual(report.counts.posts, { imported: 2, updated: 0, skipped: 0 }, 'only what committed is counted');
    assert.deepEqual(report.counts.comments, { imported: 1, updated: 0, skipped: 0 });
    const warning = report.warnings.find((w) => /post 2 "Second"/.test(w.item));
    assert.match(warning?.message ?? '', /failed, and nothing of it was written .*the disk is full/);
    assert.deepEqual(await rows(), {
      posts: ['post-1', 'post-3'],
      comments: ['Nice'],
      tags: ['tag-1', 'tag-3'],
      records: ['https://old.example/?p=1', 'https://old.example/?p=1#11', 'https://old.example/?p=3'],
      redirects: ['/1', '/3', '/?p=1', '/?p=3'],
    });
    assert.equal((await t.app.inject({ method: 'GET', url: '/?p=2' })).statusCode, 200, 'no redirect for the post that is not there (the home page)');

    breakOn = null;
    const again = await moving().importWordPress(path);
    assert.equal(again.failed, 0);
    assert.deepEqual(again.counts.posts, { imported: 1, updated: 2, skipped: 0 });
    assert.deepEqual(again.counts.comments, { imported: 2, updated: 1, skipped: 0 });
    const after = await rows();
    assert.deepEqual(after.posts, ['post-1', 'post-2', 'post-3']);
    assert.deepEqual(after.comments, ['Nice', 'This one breaks', 'Written']);
    assert.deepEqual(after.tags, ['tag-1', 'tag-2', 'tag-3']);
    assert.equal((await t.app.inject({ method: 'GET', url: '/?p=2' })).headers.location, '/posts/post-2');
  });
});
