// Two people, one real browser page: Ann reads her post; Bob replies to her
// comment elsewhere; Ann's page shows the reply and her badge counts up,
// without a reload.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { launchChromium, skipBrowser } from '../support/chromium.ts';
import { buildToken, buildUser } from '../support/factories.ts';

let t: TestApp | undefined;
let browser: Browser | undefined;
let base = '';

before(async () => {
  if (skipBrowser) return;
  t = await buildTestApp('sqlite', { workers: 2 });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await t?.close();
});

test('a reply appears and the unread badge changes without reloading', { skip: skipBrowser }, async () => {
  const ann = await buildUser(t!, { role: 'author' });
  const bob = await buildUser(t!, { role: 'reader' });
  const annToken = await buildToken(t!, ann);
  const bobToken = await buildToken(t!, bob);
  const call = (token: string, url: string, body: unknown) =>
    fetch(`${base}${url}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.json());
  const post = await call(annToken, '/api/v1/posts', { title: 'Talk to me', body: 'Say something.', status: 'published' });
  const first = await call(annToken, `/api/v1/posts/${post.id}/comments`, { body: 'Ann starts the thread' });

  const page = await browser!.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel(/^Email or username/).fill(ann.username);
  await page.getByLabel(/^Password/).fill(ann.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  // Bob speaks only once the page's EventSource is connected.
  const streamOpen = page.waitForResponse((r) => r.url().includes('/api/v1/events'));
  await page.goto(`${base}/posts/${post.slug}`);
  const badge = page.locator('#unread-badge');
  assert.equal(await badge.isHidden(), true, 'nothing unread yet');
  assert.equal((await streamOpen).status(), 200);

  const reply = await call(bobToken, `/api/v1/posts/${post.id}/comments`, { body: 'Bob answers *live*', parentId: first.id });
  await page.locator(`#comment-${reply.id}`).waitFor({ timeout: 10_000 });
  assert.match(await page.locator(`#replies-${first.id} #comment-${reply.id}`).innerText(), /Bob answers live/);
  await page.waitForFunction(() => document.getElementById('unread-badge')?.textContent === '1', undefined, { timeout: 10_000 });
  assert.equal(await badge.isVisible(), true);
  assert.equal(await page.locator('#comment-count').innerText(), '(2)');
  await page.close();
});
