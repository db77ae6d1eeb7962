// Real Chromium, JavaScript on: an image file dropped on or pasted into the post
// editor's body is uploaded and its Markdown inserted; dropped or pasted on
// /admin/media it is uploaded and listed. No CSP violation on the way.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { launchChromium, skipBrowser } from '../../../test/support/chromium.ts';
import { buildUser, type TestUser } from '../../../test/support/factories.ts';

eachDatabase('drag-and-drop and paste-to-upload', (dialect) => {
  let t: TestApp | undefined;
  let browser: Browser | undefined;
  let base = '';
  let dir = '';
  let author: TestUser;
  let jpeg = '';

  before(async () => {
    if (skipBrowser) return;
    dir = mkdtempSync(join(tmpdir(), 'inkwell-dragdrop-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: join(dir, 'media') } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    author = await buildUser(t, { role: 'author' });
    // A real JPEG file's bytes, handed to the page as a File.
    const data = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#4a7' } })
      .jpeg()
      .toBuffer();
    jpeg = data.toString('base64');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function signedIn(): Promise<{ page: Page; cspErrors: string[] }> {
    const context = await browser!.newContext();
    const page = await context.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.goto(`${base}/login`);
    await page.getByLabel(/^(Email or username|Username or email|Login)/i).fill(author.username);
    await page.getByLabel(/^Password/).fill(author.password);
    await page.getByRole('button', { name: /Log in/i }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    return { page, cspErrors };
  }

  /** Dispatches a drop (or a paste) carrying the JPEG as a file, as the browser does for a real one. */
  function send(page: Page, selector: string, kind: 'drop' | 'paste', name: string) {
    return page.evaluate(
      ({ selector, kind, name, b64 }) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, { type: 'image/jpeg' }));
        const target = document.querySelector(selector)!;
        if (kind === 'paste') {
          target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
        } else {
          target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
          target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
      },
      { selector, kind, name, b64: jpeg },
    );
  }

  test('in the post editor: dropping and pasting an image put its Markdown into the body, and the post shows it', { skip: skipBrowser }, async () => {
    const { page, cspErrors } = await signedIn();
    await page.goto(`${base}/posts/new`);
    const body = page.getByLabel(/^Body/);
    await body.fill('We went to the park.');
    await body.press('End');
    await send(page, '#body', 'drop', 'park.jpg');
    await page.waitForFunction(() => /!\[\]\(\/media\/[^)]+\.jpg\)/.test((document.getElementById('body') as HTMLTextAreaElement).value));
    const afterDrop = await body.inputValue();
    assert.match(afterDrop, /^We went to the park\.\n\n!\[\]\(\/media\/[A-Za-z0-9]+-[0-9a-f]{16}\.jpg\)\n\n$/);
    assert.match((await page.locator('.upload-status').textContent()) ?? '', /Uploaded park\.jpg/);

    await send(page, '#body', 'paste', 'pasted.jpg');
    await page.waitForFunction(() => ((document.getElementById('body') as HTMLTextAreaElement).value.match(/!\[\]\(\/media\//g) ?? []).length === 2);
    assert.doesNotMatch(await body.inputValue(), /Uploading/);

    await page.getByLabel(/^Title/).fill('Park day');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForURL(`${base}/posts/park-day`);
    assert.equal(await page.locator('article .body picture img').count(), 2);
    assert.deepEqual(cspErrors, []);
    await page.context().close();
  });

  test('on /admin/media: dropping and pasting images upload them, and the library lists them', { skip: skipBrowser }, async () => {
    const { page, cspErrors } = await signedIn();
    await page.goto(`${base}/admin/media`);
    const before = await page.locator('ul.media-grid > li').count();
    await page
      .getByLabel(/^Alt text/)
      .first()
      .fill('A green field');
    await Promise.all([page.waitForNavigation(), send(page, 'main', 'drop', 'field.jpg')]);
    await page.locator(`ul.media-grid > li figcaption:has-text("field.jpg")`).waitFor();
    assert.equal(await page.locator('ul.media-grid > li').count(), before + 1);
    assert.equal(await page.locator('ul.media-grid > li img[alt="A green field"]').count(), 1);

    await Promise.all([page.waitForNavigation(), send(page, 'body', 'paste', 'clipboard.jpg')]);
    await page.locator(`ul.media-grid > li figcaption:has-text("clipboard.jpg")`).waitFor();
    assert.equal(await page.locator('ul.media-grid > li').count(), before + 2);
    assert.deepEqual(cspErrors, []);
    await page.context().close();
  });
});
