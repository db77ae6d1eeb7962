import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { systemClock } from '../../lib/clock.ts';
import { createHttpClient } from '../../platform/http-client/index.ts';
import { createMediaService, createMediaStorage } from '../media/index.ts';
import { type MovingService, standaloneMovingService } from './index.ts';

const WXR = new URL('../../../test/fixtures/wordpress/images.xml', import.meta.url).pathname;
const GHOST = new URL('../../../test/fixtures/ghost/images.json', import.meta.url).pathname;
const MAX_BYTES = 300_000;

/** The old site: images made with sharp, a 404, one bigger than the media library takes; it counts requests per path. */
async function startImageServer() {
  const colour = (r: number, g: number, b: number) => ({ r, g, b });
  const jpeg = (w: number, h: number, c: { r: number; g: number; b: number }) =>
    sharp({ create: { width: w, height: h, channels: 3, background: c } })
      .jpeg()
      .toBuffer();
  const png = (w: number, h: number, c: { r: number; g: number; b: number }) =>
    sharp({ create: { width: w, height: h, channels: 3, background: c } })
      .png()
      .toBuffer();
  // Random pixels compress badly: well over MAX_BYTES.
  const huge = await sharp(randomBytes(700 * 700 * 3), { raw: { width: 700, height: 700, channels: 3 } })
    .jpeg({ quality: 100 })
    .toBuffer();
  assert.ok(huge.length > MAX_BYTES);
  const files: Record<string, Buffer> = {
    '/wp-content/uploads/cover.png': await png(300, 200, colour(10, 120, 200)),
    '/wp-content/uploads/loaf.jpg': await jpeg(320, 240, colour(200, 150, 60)),
    '/wp-content/uploads/huge.jpg': huge,
    '/content/images/2021/01/inside.png': await png(200, 100, colour(0, 200, 0)),
    '/content/images/2021/01/feature.jpg': await jpeg(400, 300, colour(90, 0, 90)),
    '/elsewhere/outside.jpg': await jpeg(100, 100, colour(1, 2, 3)),
  };
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = files[path];
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': path.endsWith('.png') ? 'image/png' : 'image/jpeg', 'content-length': body.length }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, hits, files, close: () => new Promise<void>((r) => server.close(() => r())) };
}

// A blog's images live on its old site, which will be switched off: an import
// must copy them into the media library and point the posts there, say which
// ones it could not get, and not fetch them again on a second run.
eachDatabase('images into the media library on import', (dialect) => {
  let t: TestApp;
  let moving: MovingService;
  let images: Awaited<ReturnType<typeof startImageServer>>;
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-import-images-'));
  const fixture = (src: string, name: string) => {
    const p = join(dir, name);
    writeFileSync(p, readFileSync(src, 'utf8').replaceAll('http://IMAGES', images.base));
    return p;
  };
  const post = (slug: string) => t.db.kysely.selectFrom('posts').selectAll().where('slug', '=', slug).executeTakeFirstOrThrow();
  const mediaRows = () => t.db.kysely.selectFrom('media').selectAll().orderBy('created_at').execute();
  const totalHits = () => [...images.hits.values()].reduce((a, b) => a + b, 0);

  before(async () => {
    images = await startImageServer();
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: join(dir, 'media'), MEDIA_MAX_BYTES: String(MAX_BYTES) } });
    const media = createMediaService({
      db: t.db.kysely,
      storage: createMediaStorage(t.config.media),
      queue: t.queue,
      clock: systemClock,
      config: t.config.media,
      siteUrl: t.config.siteUrl,
    });
    moving = standaloneMovingService({
      db: t.db,
      events: t.events,
      queue: t.queue,
      media: t.config.media,
      siteUrl: t.config.siteUrl,
      images: { http: createHttpClient({ allowPrivate: true, userAgent: 'Inkwell-test' }), media, maxBytes: t.config.media.maxBytes },
    });
  });
  after(async () => {
    await t.close();
    await images.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('WordPress: images and the featured image are downloaded once, posts point at /media/, failures keep their URL', async () => {
    const report = await moving.importWordPress(fixture(WXR, 'images.xml'));
    assert.deepEqual(report.images, { imported: 2, reused: 0, failed: 2 });
    const bread = await post('bread');
    const rows = await mediaRows();
    assert.equal(rows.length, 2, 'the cover and the loaf, once each');
    const sam = await t.db.kysely.selectFrom('users').select('id').where('username', '=', 'sam').executeTakeFirstOrThrow();
    assert.ok(
      rows.every((r) => r.owner_id === sam.id),
      'the images belong to the post author',
    );
    const [cover, loaf] = ['cover.png', 'loaf.jpg'].map((n) => rows.find((r) => r.original_name === n)!);
    assert.ok(cover && loaf);
    assert.match(bread.body, new RegExp(`^!\\[\\]\\([^)]*/media/${cover.storage_key}\\)`), 'the featured image opens the post, from the library');
    assert.match(bread.body, new RegExp(`!\\[A loaf\\]\\([^)]*/media/${loaf.storage_key}\\)`));
    assert.doesNotMatch(bread.body, /uploads\/(cover|loaf)/);
    // The 404 and the oversized image keep their old addresses and are warnings naming the post.
    assert.ok(bread.body.includes(`${images.base}/wp-content/uploads/missing.jpg`));
    assert.ok(bread.body.includes(`${images.base}/wp-content/uploads/huge.jpg`));
    assert.ok(report.warnings.some((w) => /post 1 "Bread"/.test(w.item) && /missing\.jpg.*404/.test(w.message)));
    assert.ok(report.warnings.some((w) => /post 1 "Bread"/.test(w.item) && /huge\.jpg.*larger than/.test(w.message)));
    // The same loaf in a second post was not downloaded twice.
    assert.equal(images.hits.get('/wp-content/uploads/loaf.jpg'), 1);
    assert.match((await post('more-bread')).body, new RegExp(`/media/${loaf.storage_key}\\)`));
    // The library serves it.
    const served = await t.app.inject({ method: 'GET', url: `/media/${loaf.storage_key}` });
    assert.equal(served.statusCode, 200);
    assert.equal(served.headers['content-type'], 'image/jpeg');
  });

  test('WordPress: a second run downloads nothing it already has', async () => {
    const before = { hits: new Map(images.hits), rows: (await mediaRows()).length };
    const report = await moving.importWordPress(fixture(WXR, 'images.xml'));
    assert.deepEqual(report.images, { imported: 0, reused: 2, failed: 2 });
    assert.equal(images.hits.get('/wp-content/uploads/loaf.jpg'), before.hits.get('/wp-content/uploads/loaf.jpg'));
    assert.equal(images.hits.get('/wp-content/uploads/cover.png'), before.hits.get('/wp-content/uploads/cover.png'));
    assert.equal((await mediaRows()).length, before.rows);
    assert.match((await post('bread')).body, /\/media\//);
  });

  test("Ghost: __GHOST_URL__ images need the old site's address; without it they are reported and kept", async () => {
    const file = fixture(GHOST, 'images.json');
    const hitsBefore = totalHits();
    const without = await moving.importGhost(file);
    assert.deepEqual(without.images, { imported: 1, reused: 0, failed: 2 });
    assert.equal(totalHits() - hitsBefore, 1, 'only the absolute URL was fetched');
    let body = (await post('ghost-pictures')).body;
    assert.match(body, /^!\[\]\(__GHOST_URL__\/content\/images\/2021\/01\/feature\.jpg\)/);
    assert.ok(without.warnings.some((w) => /Ghost pictures/.test(w.item) && /__GHOST_URL__.*--site-url/.test(w.message)));

    const withSite = await moving.importGhost(file, { siteUrl: `${images.base}/` });
    assert.deepEqual(withSite.images, { imported: 2, reused: 1, failed: 0 });
    body = (await post('ghost-pictures')).body;
    assert.doesNotMatch(body, /__GHOST_URL__|elsewhere/);
    const feature = (await mediaRows()).find((r) => r.original_name === 'feature.jpg')!;
    assert.match(body, new RegExp(`^!\\[\\]\\([^)]*/media/${feature.storage_key}\\)`));
    assert.match(body, /!\[Inside\]\([^)]*\/media\/[^)]+\.png\)/);
  });
});
