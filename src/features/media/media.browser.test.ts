// Real Chromium, JavaScript off: the library's plain multipart form uploads an
// image, the page shows it, and the file it shows carries no GPS position.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import exifr from 'exifr';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { buildTestApp, type TestApp } from '../../../test/support/app.ts';
import { launchChromium, skipBrowser } from '../../../test/support/chromium.ts';
import { buildUser, type TestUser } from '../../../test/support/factories.ts';

let t: TestApp | undefined;
let browser: Browser | undefined;
let base = '';
let dir = '';
let author: TestUser;

before(async () => {
  if (skipBrowser) return;
  dir = mkdtempSync(join(tmpdir(), 'inkwell-media-browser-'));
  t = await buildTestApp('sqlite', { env: { MEDIA_DIR: join(dir, 'media') } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  author = await buildUser(t, { role: 'author' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('upload through /admin/media without JavaScript; the image shown has no location', { skip: skipBrowser }, async () => {
  const photo = join(dir, 'beach photo.jpg');
  writeFileSync(
    photo,
    await sharp({ create: { width: 500, height: 300, channels: 3, background: '#3a7' } })
      .withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 300/100' } })
      .jpeg()
      .toBuffer(),
  );
  const context = await browser!.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel(/^(Email or username|Username or email|Login)/i).fill(author.username);
  await page.getByLabel(/^Password/).fill(author.password);
  await page.getByRole('button', { name: /Log in/i }).click();
  await page.goto(`${base}/admin/media`);

  await page.getByLabel(/^Image/).setInputFiles(photo);
  await page
    .getByLabel(/^Alt text/)
    .first()
    .fill('Green sea');
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(`${base}/admin/media`);
  assert.match(await page.locator('.flash').innerText(), /Uploaded beach photo\.jpg/);
  const img = page.getByRole('img', { name: 'Green sea' });
  assert.equal(await img.count(), 1);
  assert.ok(await img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0), 'the browser loaded and decoded it');
  const src = await img.getAttribute('src');
  const res = await context.request.get(new URL(src!, base).toString());
  assert.equal(res.status(), 200);
  const body = await res.body();
  assert.equal((await sharp(body).metadata()).width, 500);
  assert.equal(await exifr.parse(body, { gps: true }).then((e) => e?.latitude), undefined);
  await context.close();
});
