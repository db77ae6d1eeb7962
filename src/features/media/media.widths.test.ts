// A new MEDIA_WIDTHS: the missing widths are made once (by a job, or on the request
// for one variant) and remembered; widths outside the set are never made.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { Dialect } from '../../platform/db/index.ts';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser } from '../../../test/support/factories.ts';

eachDatabase('media variant widths', (dialect: Dialect) => {
  let before320: TestApp;
  let after800: TestApp;
  let dir: string;
  let token: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-widths-'));
    before320 = await buildTestApp(dialect, { env: { MEDIA_DIR: dir, MEDIA_WIDTHS: '320,640' } });
    // The same site restarted with another width set: same database, same files.
    after800 = await buildTestApp(dialect, { sameDbAs: before320, env: { MEDIA_DIR: dir, MEDIA_WIDTHS: '320,800' } });
    token = await buildToken(before320, await buildUser(before320, { role: 'author' }));
  });

  after(async () => {
    await after800.close();
    await before320.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function upload(t: TestApp): Promise<string> {
    const fd = new FormData();
    const data = await sharp({ create: { width: 1000, height: 500, channels: 3, background: '#357' } })
      .jpeg()
      .toBuffer();
    fd.append('file', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), 'wide.jpg');
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { authorization: `Bearer ${token}` }, payload: fd });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id;
  }
  const get = async (t: TestApp, id: string) =>
    (await t.app.inject({ method: 'GET', url: `/api/v1/media/${id}`, headers: { authorization: `Bearer ${token}` } })).json() as {
      variantsReady: boolean;
      variants: { width: number; format: string; url: string }[];
    };
  const jpegWidths = (m: { variants: { width: number; format: string }[] }) => m.variants.filter((v) => v.format === 'jpeg').map((v) => v.width);
  const queuedJobs = async (t: TestApp) =>
    Number(
      (
        await t.db.kysely
          .selectFrom('jobs')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('type', '=', 'media.variants')
          .where('status', '=', 'queued')
          .executeTakeFirstOrThrow()
      ).n,
    );

  test('after the widths change, the first look queues one job that makes the new widths; then they are served', async () => {
    const id = await upload(before320);
    await before320.queue.drain();
    assert.deepEqual(jpegWidths(await get(before320, id)), [320, 640]);

    // The new set is noticed: the image still offers what it has, and one job is queued, not one per look.
    const stale = await get(after800, id);
    assert.equal(stale.variantsReady, false);
    assert.deepEqual(jpegWidths(stale), [320, 640]);
    await get(after800, id);
    assert.equal(await queuedJobs(after800), 1);

    await after800.queue.drain();
    const fresh = await get(after800, id);
    assert.equal(fresh.variantsReady, true);
    assert.deepEqual(jpegWidths(fresh), [320, 640, 800]);
    assert.deepEqual(
      fresh.variants.filter((v) => v.width === 800).map((v) => v.format),
      ['avif', 'jpeg', 'webp'],
    );
    // Remembered: looking again queues nothing.
    await get(after800, id);
    assert.equal(await queuedJobs(after800), 0);
    const served = await after800.app.inject({ method: 'GET', url: new URL(fresh.variants.find((v) => v.width === 800 && v.format === 'jpeg')!.url).pathname });
    assert.equal(served.statusCode, 200);
    assert.equal((await sharp(served.rawPayload).metadata()).width, 800);
  });

  test('one variant by width is made on the request at a configured width only, then stored and served from then on', async () => {
    const id = await upload(after800);
    const first = await after800.app.inject({ method: 'GET', url: `/media/${id}/800w.webp` });
    assert.equal(first.statusCode, 302, first.body);
    const location = String(first.headers.location);
    assert.match(location, new RegExp(`/media/${id}-800w-[0-9a-f]{16}\\.webp$`));
    const file = await after800.app.inject({ method: 'GET', url: new URL(location).pathname });
    assert.equal(file.statusCode, 200);
    assert.equal(file.headers['content-type'], 'image/webp');
    assert.equal((await sharp(file.rawPayload).metadata()).width, 800);

    const again = await after800.app.inject({ method: 'GET', url: `/media/${id}/800w.webp` });
    assert.equal(again.headers.location, location);
    const rows = await after800.db.kysely.selectFrom('media_variants').selectAll().where('media_id', '=', id).execute();
    assert.deepEqual(
      rows.map((r) => `${r.width}:${r.format}`),
      ['800:webp'],
    );

    // Anything else is a 404 and makes nothing: widths outside MEDIA_WIDTHS, other formats, unknown images.
    for (const url of [
      `/media/${id}/640w.webp`,
      `/media/${id}/801w.jpg`,
      `/media/${id}/4000w.jpg`,
      `/media/${id}/800w.bmp`,
      `/media/${id}/800w.png`,
      '/media/nosuchimage/800w.jpg',
    ]) {
      assert.equal((await after800.app.inject({ method: 'GET', url })).statusCode, 404, url);
    }
    assert.equal((await after800.db.kysely.selectFrom('media_variants').selectAll().where('media_id', '=', id).execute()).length, 1);
  });
});
