import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import exifr from 'exifr';
import sharp from 'sharp';
import type { Dialect } from '../../platform/db/index.ts';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { createAccountsService } from '../accounts/index.ts';
import { createSettings } from '../../platform/settings.ts';
import { parseRange } from './media.routes.ts';
import { createMediaService, safeName } from './media.service.ts';
import { createMediaStorage } from './media.storage.ts';
import { startS3Server } from '../../../test/support/s3.ts';

// ---------------------------------------------------------------------------
// Test images, made here with sharp (no binaries in the repository).

/** An 800x600 JPEG, stored sideways (EXIF orientation 6), with a camera and GPS position. */
function gpsJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .withExif({
      IFD0: { Make: 'TestCam', Model: 'Serial 123', Copyright: 'Someone' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 300/100' },
    })
    .withMetadata({ orientation: 6 })
    .jpeg()
    .toBuffer();
}

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 4, background: { r: 10, g: 120, b: 200, alpha: 0.5 } } })
    .png()
    .toBuffer();

/** Random pixels compress badly: a big file from a small image. */
const noisePng = (width: number, height: number) => {
  const raw = randomBytes(width * height * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
};

async function animatedGif(): Promise<Buffer> {
  const frame = (c: string) =>
    sharp({ create: { width: 400, height: 300, channels: 4, background: c } })
      .png()
      .toBuffer();
  return sharp([await frame('#ff0000'), await frame('#0000ff'), await frame('#00ff00')], { join: { animated: true } })
    .gif({ delay: [100, 100, 100], loop: 0 })
    .toBuffer();
}

function form(files: { field?: string; name: string; data: Buffer; type?: string }[], fields: Record<string, string> = {}): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const f of files) fd.append(f.field ?? 'file', new Blob([new Uint8Array(f.data)], { type: f.type ?? 'application/octet-stream' }), f.name);
  return fd;
}

/** Every file under a directory (recursively), relative. */
function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(dir.length + 1));
  } catch {
    return [];
  }
}

async function rowCounts(t: TestApp) {
  const m = await t.db.kysely
    .selectFrom('media')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const v = await t.db.kysely
    .selectFrom('media_variants')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { media: Number(m.n), variants: Number(v.n) };
}

const mediaPath = (url: string) => new URL(url).pathname;

eachDatabase('media', (dialect: Dialect) => {
  let t: TestApp;
  let dir: string;
  let author: TestUser;
  let token: string;
  let clockNow = Date.now();
  const clock = { now: () => new Date(clockNow) };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-media-app-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: dir, MEDIA_MAX_BYTES: String(3 * 1024 * 1024), MEDIA_MAX_MEGAPIXELS: '4' }, clock });
    author = await buildUser(t, { role: 'author' });
    token = await buildToken(t, author);
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const upload = (fd: FormData, auth = token) =>
    t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { authorization: `Bearer ${auth}` }, payload: fd });
  // The same service the app runs, on the same database and files, for what jobs and schedules call.
  const service = () =>
    createMediaService({
      db: t.db.kysely,
      storage: createMediaStorage(t.config.media),
      queue: t.queue,
      clock,
      config: t.config.media,
      siteUrl: t.config.siteUrl,
    });
  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  test('a JPEG with GPS: stored upright and without metadata; variants made by the job, none with metadata either', async () => {
    const jpeg = await gpsJpeg();
    const sent = await exifr.parse(jpeg, { gps: true });
    assert.equal(sent.latitude.toFixed(3), '48.857', 'the test image does carry a position');

    const res = await upload(form([{ name: 'holiday.jpg', data: jpeg, type: 'image/jpeg' }], { alt: 'A red square' }));
    assert.equal(res.statusCode, 201, res.body);
    const m = res.json();
    assert.equal(m.mime, 'image/jpeg');
    assert.deepEqual([m.width, m.height], [600, 800], 'the EXIF orientation was applied');
    assert.equal(m.alt, 'A red square');
    assert.equal(m.originalName, 'holiday.jpg');
    assert.equal(m.uploader.username, author.username);
    assert.match(m.placeholder, /^[A-Za-z0-9+/=]{10,}$/);
    assert.deepEqual(m.variants, [], 'variants come later, from the job');
    assert.equal(res.headers.location, `/api/v1/media/${m.id}`);

    const served = await get(mediaPath(m.url));
    assert.equal(served.statusCode, 200);
    assert.equal(served.headers['content-type'], 'image/jpeg');
    assert.equal(served.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(served.headers['x-content-type-options'], 'nosniff');
    const body = served.rawPayload;
    assert.equal(
      await exifr.parse(body, { gps: true, xmp: true, iptc: true }).then((e) => e?.latitude ?? e?.Make ?? e?.Copyright),
      undefined,
      'no EXIF, GPS or camera left',
    );
    const meta = await sharp(body).metadata();
    assert.deepEqual([meta.width, meta.height, meta.orientation ?? 1], [600, 800, 1]);
    assert.equal(meta.exif, undefined);
    assert.equal(meta.xmp, undefined);
    assert.equal(meta.iptc, undefined);

    assert.ok((await t.queue.drain()) >= 1);
    const after = (await get(`/api/v1/media/${m.id}`)).json();
    assert.equal(after.variantsReady, true);
    const shapes = after.variants.map((v: { width: number; height: number; format: string }) => `${v.width}x${v.height}:${v.format}`).sort();
    assert.deepEqual(shapes, ['320x427:avif', '320x427:jpeg', '320x427:webp', '600x800:avif', '600x800:jpeg', '600x800:webp'], 'never upscaled past 600');
    const types: Record<string, string> = { avif: 'image/avif', webp: 'image/webp', jpeg: 'image/jpeg' };
    for (const v of after.variants) {
      const r = await get(mediaPath(v.url));
      assert.equal(r.statusCode, 200, v.url);
      assert.equal(r.headers['content-type'], types[v.format]);
      assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
      const vm = await sharp(r.rawPayload).metadata();
      assert.equal(vm.width, v.width);
      assert.equal(vm.exif, undefined, `${v.url} has no EXIF`);
      if (v.format === 'jpeg') assert.equal(await exifr.parse(r.rawPayload, { gps: true }).then((e) => e?.latitude), undefined);
    }
    // A second run makes nothing twice.
    await service().makeVariants(m.id);
    assert.equal((await rowCounts(t)).variants >= 6, true);
    assert.equal((await get(`/api/v1/media/${m.id}`)).json().variants.length, 6);
  });

  test('serving: ETag and 304, Range 206 and 416, HEAD; unknown keys and paths are 404', async () => {
    const m = (await upload(form([{ name: 'p.png', data: await png(50, 40) }]))).json();
    const path = mediaPath(m.url);
    const whole = await get(path);
    assert.equal(whole.statusCode, 200);
    const size = whole.rawPayload.length;
    assert.equal(Number(whole.headers['content-length']), size);
    assert.equal(whole.headers['accept-ranges'], 'bytes');
    const etag = String(whole.headers.etag);
    assert.match(etag, /^"[^"]+"$/);
    const again = await get(path, { 'if-none-match': etag });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');

    const part = await get(path, { range: 'bytes=0-7' });
    assert.equal(part.statusCode, 206);
    assert.equal(part.headers['content-range'], `bytes 0-7/${size}`);
    assert.deepEqual(part.rawPayload, whole.rawPayload.subarray(0, 8));
    const tail = await get(path, { range: 'bytes=-4' });
    assert.equal(tail.statusCode, 206);
    assert.deepEqual(tail.rawPayload, whole.rawPayload.subarray(size - 4));
    const beyond = await get(path, { range: `bytes=${size}-` });
    assert.equal(beyond.statusCode, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${size}`);
    const stale = await get(path, { range: 'bytes=0-7', 'if-range': '"something-else"' });
    assert.equal(stale.statusCode, 200, 'If-Range with another ETag gets the whole file');

    const head = await t.app.inject({ method: 'HEAD', url: path });
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['content-type'], 'image/png');

    assert.equal((await get('/media/nope-0000.png')).statusCode, 404);
    assert.equal((await get('/media/..%2F..%2Fetc%2Fpasswd')).statusCode, 404);
    assert.equal((await get('/media/originals%2Fx.png')).statusCode, 404);
  });

  test('each bad upload gets its 4xx and leaves no file and no row', async () => {
    const reader = await buildUser(t, { role: 'reader' });
    const readerToken = await buildToken(t, reader);
    const jpeg = await gpsJpeg();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length * 0.6));
    const garbage = Buffer.concat([jpeg.subarray(0, 20), Buffer.alloc(4000, 0x41)]);
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>');
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const bomb = await sharp({ create: { width: 2500, height: 2000, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const big = await noisePng(1100, 1100);
    assert.ok(big.length > 3 * 1024 * 1024, 'bigger than MEDIA_MAX_BYTES');

    const before = { files: filesIn(dir), rows: await rowCounts(t) };
    const cases: [string, () => Promise<{ statusCode: number; body: string }>, number, RegExp][] = [
      ['empty file', () => upload(form([{ name: 'a.jpg', data: Buffer.alloc(0) }])), 422, /empty/],
      ['truncated JPEG', () => upload(form([{ name: 'a.jpg', data: truncated }])), 422, /damaged or incomplete/],
      ['JPEG header, then garbage', () => upload(form([{ name: 'a.jpg', data: garbage }])), 422, /damaged or incomplete/],
      ['SVG', () => upload(form([{ name: 'a.png', data: svg, type: 'image/png' }])), 415, /SVG/],
      ['PDF named .jpg', () => upload(form([{ name: 'a.jpg', data: pdf, type: 'image/jpeg' }])), 415, /application\/pdf/],
      ['plain text', () => upload(form([{ name: 'a.gif', data: Buffer.from('hello there, not an image') }])), 415, /does not recognise/],
      ['over MEDIA_MAX_BYTES', () => upload(form([{ name: 'big.png', data: big }])), 413, /larger than the limit of 3 MB \(MEDIA_MAX_BYTES\)/],
      ['over the pixel limit', () => upload(form([{ name: 'bomb.png', data: bomb }])), 413, /more than 4 megapixels/],
      [
        'two files',
        async () =>
          upload(
            form([
              { name: 'a.png', data: await png(10, 10) },
              { name: 'b.png', data: await png(10, 10) },
            ]),
          ),
        413,
        /one file per request/,
      ],
      ['no file', () => upload(form([], { alt: 'x' })), 422, /No file/],
      [
        'a JSON body',
        () =>
          t.app.inject({
            method: 'POST',
            url: '/api/v1/media',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            payload: '{}',
          }),
        415,
        /multipart/,
      ],
      ['a reader', async () => upload(form([{ name: 'a.png', data: await png(10, 10) }]), readerToken), 403, /authors, editors and admins/],
      [
        'nobody logged in',
        async () => t.app.inject({ method: 'POST', url: '/api/v1/media', payload: form([{ name: 'a.png', data: await png(10, 10) }]) }),
        401,
        /Log in/,
      ],
    ];
    for (const [what, send, status, detail] of cases) {
      const res = await send();
      assert.equal(res.statusCode, status, `${what}: ${res.body}`);
      assert.match(String(JSON.parse(res.body).detail), detail, what);
      assert.deepEqual(filesIn(dir), before.files, `${what}: no file left`);
      assert.deepEqual(await rowCounts(t), before.rows, `${what}: no row left`);
    }
  });

  test('a path in the file name is neutralised; the name never reaches storage', async () => {
    const res = await upload(form([{ name: '../../../etc/passwd.png', data: await png(30, 30) }]));
    assert.equal(res.statusCode, 201, res.body);
    const m = res.json();
    assert.equal(m.originalName, 'passwd.png');
    assert.ok(!filesIn(dir).some((f) => f.includes('passwd')));
    assert.equal(safeName('C:\\Users\\me\\photo.jpg'), 'photo.jpg');
    assert.equal(safeName('..'), 'upload');
  });

  test('each accepted type is read from its bytes, whatever the name says, and kept in its format', async () => {
    const base = () => sharp({ create: { width: 90, height: 60, channels: 3, background: '#123456' } });
    const samples: [string, Buffer][] = [
      ['image/webp', await base().webp().toBuffer()],
      ['image/avif', await base().avif().toBuffer()],
      ['image/gif', await base().gif().toBuffer()],
      ['image/png', await base().png().toBuffer()],
    ];
    for (const [mime, data] of samples) {
      const res = await upload(form([{ name: 'misnamed.jpg', data, type: 'image/jpeg' }]));
      assert.equal(res.statusCode, 201, `${mime}: ${res.body}`);
      assert.equal(res.json().mime, mime);
      assert.deepEqual([res.json().width, res.json().height], [90, 60]);
      const served = await get(mediaPath(res.json().url));
      assert.equal(served.headers['content-type'], mime);
    }
  });

  test('a Display P3 image is converted to sRGB and says so', async () => {
    const p3 = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } })
      .withIccProfile('p3')
      .jpeg()
      .toBuffer();
    assert.match(String((await exifr.parse(p3, { icc: true }))?.ProfileDescription), /P3/);
    const m = (await upload(form([{ name: 'p3.jpg', data: p3 }]))).json();
    const served = (await get(mediaPath(m.url))).rawPayload;
    assert.equal((await exifr.parse(served, { icc: true }))?.ProfileDescription, 'sRGB');
  });

  test('an animated GIF stays animated: as animated WebP and as GIF', async () => {
    const res = await upload(form([{ name: 'anim.gif', data: await animatedGif() }]));
    assert.equal(res.statusCode, 201, res.body);
    const m = res.json();
    assert.equal(m.animated, true);
    assert.deepEqual([m.width, m.height], [400, 300]);
    await t.queue.drain();
    const after = (await get(`/api/v1/media/${m.id}`)).json();
    assert.deepEqual(after.variants.map((v: { width: number; format: string }) => `${v.width}:${v.format}`).sort(), [
      '320:gif',
      '320:webp',
      '400:gif',
      '400:webp',
    ]);
    for (const v of after.variants) {
      const r = await get(mediaPath(v.url));
      const vm = await sharp(r.rawPayload, { animated: true }).metadata();
      assert.equal(vm.pages, 3, `${v.format} ${v.width} keeps its 3 frames`);
    }
  });

  test('the API: list (paged, by uploader), PATCH text, DELETE removes rows and files; a used image is kept', async () => {
    const other = await buildUser(t, { role: 'author' });
    const otherToken = await buildToken(t, other);
    const mine = (await upload(form([{ name: 'mine.png', data: await png(20, 20) }]))).json();
    const theirs = (await upload(form([{ name: 'theirs.png', data: await png(20, 20) }]), otherToken)).json();
    await t.queue.drain();

    const auth = { authorization: `Bearer ${token}` };
    const byOther = (await get(`/api/v1/media?uploader=${other.username}`, auth)).json();
    assert.deepEqual(
      byOther.media.map((x: { id: string }) => x.id),
      [theirs.id],
    );
    const page1 = (await get('/api/v1/media?limit=1', auth)).json();
    assert.equal(page1.media.length, 1);
    assert.ok(page1.nextCursor);
    const page2 = (await get(`/api/v1/media?limit=1&before=${page1.nextCursor}`, auth)).json();
    assert.notEqual(page2.media[0].id, page1.media[0].id);
    assert.equal((await get('/api/v1/media?before=nonsense', auth)).statusCode, 400);
    assert.equal((await get('/api/v1/media')).statusCode, 401);

    const patch = (id: string, body: unknown, tk = token) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/v1/media/${id}`,
        headers: { authorization: `Bearer ${tk}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const patched = await patch(mine.id, { alt: ' A blue square ', caption: 'Blue', credit: 'Me' });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual([patched.json().alt, patched.json().caption, patched.json().credit], ['A blue square', 'Blue', 'Me']);
    assert.equal((await patch(theirs.id, { alt: 'x' })).statusCode, 403, 'an author changes only their own');
    assert.equal((await patch(mine.id, { alt: 'x'.repeat(1001) })).statusCode, 422);
    assert.equal((await patch(mine.id, { nope: 1 })).statusCode, 422);

    // A post that shows the image by its URL keeps it.
    const keys = [mine.url, ...(await get(`/api/v1/media/${mine.id}`)).json().variants.map((v: { url: string }) => v.url)].map(
      (u: string) => u.split('/').pop()!,
    );
    assert.ok(keys.every((k) => filesIn(dir).includes(k)));
    const post = await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ title: 'With a picture', body: `Look: ![A blue square](${mine.url})` }),
    });
    assert.equal(post.statusCode, 201, post.body);
    const del = (id: string, tk = token) => t.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: { authorization: `Bearer ${tk}` } });
    const refused = await del(mine.id);
    assert.equal(refused.statusCode, 409);
    assert.match(refused.json().detail, /With a picture/);
    // In the trash the post may come back, so it still keeps the image; gone for good, it does not.
    await t.app.inject({ method: 'DELETE', url: `/api/v1/posts/${post.json().id}`, headers: auth });
    assert.match((await del(mine.id)).json().detail, /With a picture \(in the trash\)/);
    const adminToken = await buildToken(t, await buildUser(t, { role: 'admin' }));
    const gone = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/posts/${post.json().id}?permanent=true`,
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(gone.statusCode, 204);

    assert.equal((await del(theirs.id)).statusCode, 403);
    assert.equal((await del(mine.id)).statusCode, 204);
    assert.equal((await get(`/api/v1/media/${mine.id}`)).statusCode, 404);
    assert.ok(
      keys.every((k) => !filesIn(dir).includes(k)),
      'every file of it is gone',
    );
    assert.equal((await get(mediaPath(mine.url))).statusCode, 404);
    assert.equal((await t.db.kysely.selectFrom('media_variants').select('storage_key').where('media_id', '=', mine.id).execute()).length, 0);
  });

  test('a feature that declares a use keeps the image from deletion; a deleted account leaves its images without an uploader', async () => {
    const writer = await buildUser(t, { role: 'author' });
    const writerToken = await buildToken(t, writer);
    const m = (await upload(form([{ name: 'g.png', data: await png(16, 16) }]), writerToken)).json();
    const svc = service();
    svc.addReferenceSource(
      async (ids) => new Map(ids.filter((id) => id === m.id).map((id) => [id, [{ kind: 'gallery', title: 'Summer', url: '/galleries/summer' }]])),
    );
    const owner = { id: writer.id, username: writer.username, displayName: '', email: writer.email, role: 'author' as const, verified: true };
    await assert.rejects(svc.delete(owner, m.id), /gallery "Summer" \(\/galleries\/summer\)/);

    const accounts = createAccountsService({ db: t.db.kysely, clock, settings: createSettings(t.db.kysely) });
    await accounts.deleteAccount(writer.id, writer.password);
    const after = (await get(`/api/v1/media/${m.id}`)).json();
    assert.equal(after.uploader, null);
    assert.equal((await get(mediaPath(after.url))).statusCode, 200);
  });

  test('the schedule removes unused uploads older than a week, and keeps used and recent ones', async () => {
    const old = (await upload(form([{ name: 'old.png', data: await png(12, 12) }]))).json();
    const used = (await upload(form([{ name: 'used.png', data: await png(13, 13) }]))).json();
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ title: 'Uses one', body: `![x](${used.url})` }),
    });
    clockNow += 6 * 24 * 3600 * 1000;
    const recent = (await upload(form([{ name: 'recent.png', data: await png(14, 14) }]))).json();
    clockNow += 2 * 24 * 3600 * 1000;
    assert.equal((await service().removeUnused()) >= 1, true);
    assert.equal((await get(`/api/v1/media/${old.id}`)).statusCode, 404, 'unused and 8 days old: removed');
    assert.equal((await get(mediaPath(old.url))).statusCode, 404);
    assert.equal((await get(`/api/v1/media/${used.id}`)).statusCode, 200, 'used in a post: kept');
    assert.equal((await get(`/api/v1/media/${recent.id}`)).statusCode, 200, 'two days old: kept');
    assert.ok(t.scheduler.names().some((s) => s.name === 'media-remove-unused'));
  });

  test('the /admin/media page: a plain multipart form with the CSRF token, alt text editing, delete', async () => {
    const c = new Client(t.app);
    await c.login(author.username, author.password);
    const page = await c.get('/admin/media');
    assert.equal(page.status, 200);
    assert.match(page.body, /enctype="multipart\/form-data"/);
    const csrf = c.csrf();
    const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const post = (fd: FormData) => t.app.inject({ method: 'POST', url: '/admin/media', headers: { cookie, origin: 'http://127.0.0.1:3000' }, payload: fd });

    const rows = await rowCounts(t);
    const forged = await post(form([{ name: 'x.png', data: await png(10, 10) }]));
    assert.equal(forged.statusCode, 403, 'no token: refused');
    const late = new FormData();
    late.append('file', new Blob([new Uint8Array(await png(10, 10))]), 'x.png');
    late.append('_csrf', csrf);
    assert.equal((await post(late)).statusCode, 403, 'the token must come before the file');
    assert.deepEqual(await rowCounts(t), rows);

    const bad = await post(form([{ name: 'x.svg', data: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>') }], { _csrf: csrf, alt: 'kept alt' }));
    assert.equal(bad.statusCode, 415);
    assert.match(bad.body, /SVG images/);
    assert.match(bad.body, /value="kept alt"/, 'the form again, input kept');

    const ok = await post(form([{ name: 'form.png', data: await png(64, 48) }], { _csrf: csrf, alt: 'From the form' }));
    assert.equal(ok.statusCode, 303, ok.body);
    const listed = await c.get('/admin/media');
    assert.match(listed.body, /form\.png/);
    assert.match(listed.body, /alt="From the form"/);
    const id = /id="media-([A-Za-z0-9]+)"/.exec(listed.body)![1];
    assert.equal((await c.postForm(`/admin/media/${id}`, { alt: 'New words' })).status, 303);
    assert.match((await c.get('/admin/media')).body, /alt="New words"/);
    // The alt text form and the API read one schema: too long is the same words, beside the field, as typed.
    const long = 'x'.repeat(1001);
    const tooLong = await c.postForm(`/admin/media/${id}`, { alt: long });
    assert.equal(tooLong.status, 422);
    assert.match(tooLong.body, new RegExp(`id="alt-${id}"[^>]*value="${long}"`));
    assert.match(tooLong.body, new RegExp(`id="alt-${id}-error">Alt text must be at most 1,000 characters`));
    assert.match((await c.get('/admin/media')).body, /alt="New words"/, 'unchanged');
    // An upload's alt text is checked before the file is stored: a refused one leaves nothing.
    const before = (await t.db.kysely.selectFrom('media').select('id').execute()).length;
    const longUpload = await post(form([{ name: 'long.png', data: await png(8, 8) }], { _csrf: csrf, alt: long }));
    assert.equal(longUpload.statusCode, 422);
    assert.match(longUpload.body, /id="alt-error">Alt text must be at most 1,000 characters/);
    assert.equal((await t.db.kysely.selectFrom('media').select('id').execute()).length, before);
    assert.equal((await c.postForm(`/admin/media/${id}/delete`, {})).status, 303);
    assert.doesNotMatch((await c.get('/admin/media')).body, new RegExp(`media-${id}`));

    const reader = await buildUser(t, { role: 'reader' });
    const rc = new Client(t.app);
    await rc.login(reader.username, reader.password);
    assert.equal((await rc.get('/admin/media')).status, 403);
  });
});

eachDatabase('media limits', (dialect: Dialect) => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-media-quota-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: dir, MEDIA_QUOTA_MB: '1', MEDIA_KEEP_ORIGINALS: '1' } });
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the per-account quota is a 413 naming it; admins are exempt; originals are kept but never served', async () => {
    const author = await buildUser(t, { role: 'author' });
    const admin = await buildUser(t, { role: 'admin' });
    const big = await noisePng(700, 700);
    const send = async (user: TestUser) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/media',
        headers: { authorization: `Bearer ${await buildToken(t, user)}` },
        payload: form([{ name: 'n.png', data: big }]),
      });
    const files = filesIn(dir);
    const over = await send(author);
    assert.equal(over.statusCode, 413, over.body);
    assert.match(over.json().detail, /quota of 1 MB \(MEDIA_QUOTA_MB\)/);
    assert.deepEqual(filesIn(dir), files);
    const ok = await send(admin);
    assert.equal(ok.statusCode, 201, ok.body);
    const row = await t.db.kysely.selectFrom('media').select('original_key').where('id', '=', ok.json().id).executeTakeFirstOrThrow();
    assert.match(String(row.original_key), /^originals\//);
    assert.ok(filesIn(dir).includes(row.original_key!));
    assert.equal((await t.app.inject({ method: 'GET', url: `/media/${encodeURIComponent(row.original_key!)}` })).statusCode, 404);
  });
});

eachDatabase('media on S3-compatible storage', (dialect: Dialect) => {
  let t: TestApp;
  let s3: Awaited<ReturnType<typeof startS3Server>>;
  before(async () => {
    s3 = await startS3Server();
    t = await buildTestApp(dialect, { env: s3.env });
  });
  after(async () => {
    await t.close();
    await s3.close();
  });

  test('upload, variants, serving with Range: the same behaviour from a bucket', async () => {
    const author = await buildUser(t, { role: 'author' });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/media',
      headers: { authorization: `Bearer ${await buildToken(t, author)}` },
      payload: form([{ name: 'holiday.jpg', data: await gpsJpeg() }]),
    });
    assert.equal(res.statusCode, 201, res.body);
    const m = res.json();
    await t.queue.drain();
    const after = (await t.app.inject({ method: 'GET', url: `/api/v1/media/${m.id}` })).json();
    assert.equal(after.variants.length, 6);
    for (const url of [m.url, ...after.variants.map((v: { url: string }) => v.url)]) {
      const r = await t.app.inject({ method: 'GET', url: mediaPath(url) });
      assert.equal(r.statusCode, 200, url);
      assert.equal((await sharp(r.rawPayload).metadata()).exif, undefined);
      const part = await t.app.inject({ method: 'GET', url: mediaPath(url), headers: { range: 'bytes=2-9' } });
      assert.equal(part.statusCode, 206);
      assert.deepEqual(part.rawPayload, r.rawPayload.subarray(2, 10));
    }
    // The object is in the bucket, straight from the S3 endpoint.
    const direct = await fetch(`${s3.endpoint}/${s3.options.bucket}/${m.url.split('/').pop()}`);
    assert.equal(direct.status, 200);
  });
});

eachDatabase('media with MEDIA_PUBLIC_URL', (dialect: Dialect) => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-media-cdn-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: dir, MEDIA_PUBLIC_URL: 'http://cdn.example.test/m', CORS_ORIGINS: 'https://app.example.test' } });
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('URLs point at MEDIA_PUBLIC_URL and the CSP allows its origin for images, nothing wider', async () => {
    const author = await buildUser(t, { role: 'author' });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/media',
      headers: { authorization: `Bearer ${await buildToken(t, author)}` },
      payload: form([{ name: 'p.png', data: await png(40, 40) }]),
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.match(res.json().url, /^http:\/\/cdn\.example\.test\/m\/[A-Za-z0-9]+-[0-9a-f]{16}\.png$/);
    const csp = String((await t.app.inject({ method: 'GET', url: '/' })).headers['content-security-policy']);
    const img = /img-src ([^;]+)/.exec(csp)![1].split(' ');
    assert.deepEqual(img, ["'self'", 'data:', 'https:', 'http://cdn.example.test']);
    assert.doesNotMatch(csp, /script-src[^;]*cdn\.example\.test/);

    // A front end on another origin may upload, as with the rest of /api.
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/media',
      headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.test');

    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    assert.ok(doc.paths['/api/v1/media'].post && doc.paths['/api/v1/media'].get, 'in the OpenAPI document');
    assert.ok(doc.paths['/api/v1/media/{id}'].patch && doc.paths['/api/v1/media/{id}'].delete);
  });
});

test('Range parsing', () => {
  assert.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
  assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  assert.deepEqual(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
  assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,3-4', 10), null);
  assert.equal(parseRange('items=0-1', 10), null);
  assert.equal(parseRange(undefined, 10), null);
});
