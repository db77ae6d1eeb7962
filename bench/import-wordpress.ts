// node bench/import-wordpress.ts [--posts 10000] [--pg postgres://…]
// Generates a WordPress export (WXR 1.2) of N posts with block markup,
// shortcodes, tags and two comments each, imports it into a fresh database
// through the CLI's own code path, and prints posts per second and peak RSS.
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDb } from '../src/platform/db/index.ts';
import { prepareDatabase } from '../src/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { createInfrastructure } from '../src/platform/infrastructure.ts';
import { standaloneMovingService } from '../src/features/moving/index.ts';

const { values: args } = parseArgs({ options: { posts: { type: 'string' }, pg: { type: 'string' } } });
const POSTS = Number(args.posts ?? 10_000);
const tmp = mkdtempSync(join(os.tmpdir(), 'inkwell-bench-import-'));
const file = join(tmp, 'export.xml');

async function generate(): Promise<void> {
  const out = createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(`<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Bench</title><wp:wxr_version>1.2</wp:wxr_version>
<wp:author><wp:author_login>bench</wp:author_login><wp:author_email>bench@example.test</wp:author_email><wp:author_display_name>Bench</wp:author_display_name></wp:author>
`);
  const para = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ';
  for (let i = 1; i <= POSTS; i++) {
    const d = new Date(Date.UTC(2010, 0, 1) + i * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
    await write(`<item><title>Post number ${i}</title><link>https://old.example/${d.slice(0, 10).replace(/-/g, '/')}/post-number-${i}/</link>
<dc:creator><![CDATA[bench]]></dc:creator><guid isPermaLink="false">https://old.example/?p=${i}</guid>
<content:encoded><![CDATA[<!-- wp:paragraph --><p>${para.repeat(3)}</p><!-- /wp:paragraph -->
<!-- wp:heading --><h2>Section ${i}</h2><!-- /wp:heading -->
<!-- wp:paragraph --><p>${para.repeat(4)}<a href="https://example.org/${i}">a link</a>.</p><!-- /wp:paragraph -->
[caption id="" align="alignnone" width="300"]<img src="https://old.example/img/${i}.jpg" alt="Image ${i}"> Caption ${i}[/caption]
<!-- wp:list --><ul><li>one</li><li>two</li></ul><!-- /wp:list -->]]></content:encoded>
<wp:post_id>${i}</wp:post_id><wp:post_date_gmt>${d}</wp:post_date_gmt><wp:post_name>post-number-${i}</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<category domain="category" nicename="cat-${i % 20}"><![CDATA[Category ${i % 20}]]></category>
<category domain="post_tag" nicename="tag-${i % 50}"><![CDATA[Tag ${i % 50}]]></category>
<wp:comment><wp:comment_id>${i * 2}</wp:comment_id><wp:comment_author>Reader</wp:comment_author><wp:comment_date_gmt>${d}</wp:comment_date_gmt><wp:comment_content>Nice post ${i}</wp:comment_content><wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type><wp:comment_parent>0</wp:comment_parent><wp:comment_user_id>0</wp:comment_user_id></wp:comment>
<wp:comment><wp:comment_id>${i * 2 + 1}</wp:comment_id><wp:comment_author>Writer</wp:comment_author><wp:comment_date_gmt>${d}</wp:comment_date_gmt><wp:comment_content>Thanks!</wp:comment_content><wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type><wp:comment_parent>${i * 2}</wp:comment_parent><wp:comment_user_id>0</wp:comment_user_id></wp:comment>
</item>
`);
  }
  await write('</channel></rss>\n');
  out.end();
  await once(out, 'finish');
}

await generate();
const url = args.pg ?? `sqlite:${join(tmp, 'bench.db')}`;
const schema = args.pg ? `inkwell_bench_import_${process.pid}` : undefined;
if (schema) {
  const admin = openDb({ url, poolSize: 1 });
  await sql`create schema ${sql.id(schema)}`.execute(admin.kysely);
  await admin.close();
}
const db = openDb({ url, schema });
await prepareDatabase(db);
const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', MEDIA_DIR: join(tmp, 'media') });
const infra = await createInfrastructure({ config, db });
const moving = standaloneMovingService({ db, events: infra.events, queue: infra.queue, media: config.media, siteUrl: config.siteUrl });
const rssBefore = process.resourceUsage().maxRSS;
const report = await moving.importWordPress(file);
const peakMb = process.resourceUsage().maxRSS / 1024;
const seconds = report.elapsedMs / 1000;
process.stdout.write(
  `${JSON.stringify(
    {
      engine: args.pg ? 'postgres' : 'sqlite',
      posts: POSTS,
      fileMb: +(statSync(file).size / 1024 / 1024).toFixed(1),
      seconds: +seconds.toFixed(1),
      postsPerSecond: Math.round(report.counts.posts.imported / seconds),
      comments: report.counts.comments.imported,
      peakRssMb: Math.round(peakMb),
      rssBeforeImportMb: Math.round(rssBefore / 1024),
      node: process.version,
    },
    null,
    2,
  )}\n`,
);
await infra.stop();
if (schema) await sql`drop schema ${sql.id(schema)} cascade`.execute(db.kysely);
await db.close();
rmSync(tmp, { recursive: true, force: true });
