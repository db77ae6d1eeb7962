// node --max-old-space-size=160 bench/import-ghost.ts [--posts 10000] [--revisions 2] [--pg postgres://…]
// Generates a Ghost export (JSON) of N posts (html and lexical, tags, authors)
// padded the way real exports are (post revisions and members, which the import
// skips), imports it into a fresh database through the CLI's code path, and prints
// posts per second and peak RSS; then, in a child process, the peak RSS of reading
// the same file with JSON.parse, for comparison.
import { execFileSync } from 'node:child_process';
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

const { values: args } = parseArgs({
  options: { posts: { type: 'string' }, revisions: { type: 'string' }, members: { type: 'string' }, pg: { type: 'string' } },
});
const POSTS = Number(args.posts ?? 10_000);
const REVISIONS = Number(args.revisions ?? 2);
const MEMBERS = Number(args.members ?? 100_000);
const tmp = mkdtempSync(join(os.tmpdir(), 'inkwell-bench-ghost-'));
const file = join(tmp, 'export.json');

async function generate(): Promise<void> {
  const out = createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const para = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ';
  const lexical = (i: number) =>
    JSON.stringify({
      root: {
        type: 'root',
        children: Array.from({ length: 12 }, (_, k) => ({
          type: 'paragraph',
          children: [{ type: 'text', text: `${para.repeat(2)} (${i}.${k})`, format: k % 3 }],
        })),
      },
    });
  await write('{"db":[{"meta":{"exported_on":1700000000000,"version":"5.75.0"},"data":{"posts":[');
  for (let i = 1; i <= POSTS; i++) {
    const d = new Date(Date.UTC(2015, 0, 1) + i * 3_600_000).toISOString();
    const html = `<p>${para.repeat(8)}</p><h2>Section ${i}</h2><p>${para.repeat(10)}<a href="https://example.org/${i}">a link</a>.</p><ul><li>one</li><li>two</li></ul>`;
    await write(
      `${i > 1 ? ',' : ''}${JSON.stringify({ id: `p${i}`, uuid: `uuid-${i}`, title: `Post number ${i}`, slug: `post-number-${i}`, html, lexical: lexical(i), mobiledoc: null, feature_image: null, type: i % 100 === 0 ? 'page' : 'post', status: 'published', created_at: d, updated_at: d, published_at: d, custom_excerpt: null, author_id: 'u1' })}`,
    );
  }
  await write('],"post_revisions":[');
  for (let i = 1; i <= POSTS * REVISIONS; i++)
    await write(
      `${i > 1 ? ',' : ''}${JSON.stringify({ id: `r${i}`, post_id: `p${Math.ceil(i / REVISIONS)}`, lexical: lexical(i), created_at: '2020-01-01T00:00:00.000Z' })}`,
    );
  await write('],"members":[');
  for (let i = 1; i <= MEMBERS; i++)
    await write(
      `${i > 1 ? ',' : ''}${JSON.stringify({ id: `m${i}`, uuid: `member-${i}`, email: `reader${i}@example.test`, name: `Reader ${i}`, status: 'free', created_at: '2020-01-01T00:00:00.000Z' })}`,
    );
  await write('],"users":[{"id":"u1","name":"Bench","slug":"bench","email":"bench@example.test"}],"tags":[');
  for (let t = 0; t < 50; t++) await write(`${t ? ',' : ''}${JSON.stringify({ id: `t${t}`, name: `Tag ${t}`, slug: `tag-${t}` })}`);
  await write('],"posts_tags":[');
  for (let i = 1; i <= POSTS; i++) await write(`${i > 1 ? ',' : ''}${JSON.stringify({ id: `pt${i}`, post_id: `p${i}`, tag_id: `t${i % 50}` })}`);
  await write('],"posts_authors":[');
  for (let i = 1; i <= POSTS; i++) await write(`${i > 1 ? ',' : ''}${JSON.stringify({ id: `pa${i}`, post_id: `p${i}`, author_id: 'u1', sort_order: 0 })}`);
  await write(']}}]}\n');
  out.end();
  await once(out, 'finish');
}

await generate();
const url = args.pg ?? `sqlite:${join(tmp, 'bench.db')}`;
const schema = args.pg ? `inkwell_bench_ghost_${process.pid}` : undefined;
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
const report = await moving.importGhost(file);
const peakMb = process.resourceUsage().maxRSS / 1024;
const seconds = report.elapsedMs / 1000;
// The same file read whole, as the import did before it streamed (no heap limit: it would not fit in 160 MB).
let jsonParsePeakMb: number | string;
try {
  jsonParsePeakMb = Math.round(
    Number(
      execFileSync(
        process.execPath,
        ['-e', `JSON.parse(require('node:fs').readFileSync(${JSON.stringify(file)}, 'utf8')); process.stdout.write(String(process.resourceUsage().maxRSS))`],
        {
          encoding: 'utf8',
        },
      ),
    ) / 1024,
  );
} catch (e) {
  jsonParsePeakMb = `failed: ${(e as Error).message.split('\n')[0]}`;
}
process.stdout.write(
  `${JSON.stringify(
    {
      engine: args.pg ? 'postgres' : 'sqlite',
      posts: report.counts.posts.imported,
      pages: report.counts.pages.imported,
      fileMb: +(statSync(file).size / 1024 / 1024).toFixed(1),
      seconds: +seconds.toFixed(1),
      itemsPerSecond: Math.round((report.counts.posts.imported + report.counts.pages.imported) / seconds),
      failed: report.failed,
      peakRssMb: Math.round(peakMb),
      rssBeforeImportMb: Math.round(rssBefore / 1024),
      jsonParsePeakRssMb: jsonParsePeakMb,
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
