// Real Chromium, JavaScript off: upload through the library's form, copy the
// image's Markdown from the post editor into the body, publish, and see the
// browser pick a file from the published page's srcset.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
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
  dir = mkdtempSync(join(tmpdir(), 'inkwell-editor-browser-'));
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

test('upload, insert into a post from the editor, publish: the page offers a srcset the browser uses', { skip: skipBrowser }, async () => {
  const photo = join(dir, 'harbour.jpg');
  writeFileSync(
    photo,
    await sharp({ create: { width: 1600, height: 900, channels: 3, background: '#246' } })
      .jpeg()
      .toBuffer(),
  );
  const context = await browser!.newContext({ javaScriptEnabled: false, viewport: { width: 800, height: 900 } });
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
    .fill('Boats in the harbour');
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(`${base}/admin/media`);
  // The variants are background work: wait for it as a reader would wait for the job.
  await t!.queue.drain();

  await page.goto(`${base}/posts/new`);
  const snippet = await page.getByLabel('Markdown for Boats in the harbour').inputValue();
  assert.match(snippet, /^!\[Boats in the harbour\]\(\/media\/.+\.jpg\)$/);
  await page.getByLabel(/^Title/).fill('Harbour day');
  await page.getByLabel(/^Body/).fill(`We went down to the water.\n\n${snippet}\n`);
  await page.getByRole('button', { name: 'Publish' }).click();
  await page.waitForURL(`${base}/posts/harbour-day`);

  const img = page.locator('article .body picture img');
  assert.equal(await img.getAttribute('alt'), 'Boats in the harbour');
  assert.match((await img.getAttribute('srcset')) ?? '', / 320w, .* 1600w$/);
  assert.equal(await img.getAttribute('width'), '1600');
  await img.scrollIntoViewIfNeeded();
  // Scripts are off in the page; poll from outside until the browser has decoded the image.
  const loaded = () => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0);
  for (let i = 0; i < 100 && !(await loaded()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(await loaded(), `the browser loaded ${await img.evaluate((el: HTMLImageElement) => el.currentSrc)}`);
  // The browser chose one of the variants (AVIF or WebP by its <source>), not the stored image.
  const chosen = await img.evaluate((el: HTMLImageElement) => el.currentSrc);
  assert.match(chosen, /-\d+w-[0-9a-f]+\.(avif|webp|jpg)$/);
  await context.close();
});

test('with JavaScript, "Insert" puts the image line into the body at the cursor', { skip: skipBrowser }, async () => {
  const context = await browser!.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel(/^(Email or username|Username or email|Login)/i).fill(author.username);
  await page.getByLabel(/^Password/).fill(author.password);
  await page.getByRole('button', { name: /Log in/i }).click();
  await page.goto(`${base}/posts/new`);
  const body = page.getByLabel(/^Body/);
  await body.fill('First paragraph.');
  await body.press('End');
  await page.getByRole('button', { name: 'Insert Boats in the harbour into the body' }).click();
  const snippet = await page.getByLabel('Markdown for Boats in the harbour').inputValue();
  assert.equal(await body.inputValue(), `First paragraph.\n\n${snippet}\n\n`);
  await context.close();
});
