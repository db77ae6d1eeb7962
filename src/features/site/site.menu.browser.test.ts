// The header's menu in real Chromium, without JavaScript: in line at 1280 px,
// folded behind "Menu" at 375 px until the toggle is used.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { buildTestApp, type TestApp } from '../../../test/support/app.ts';
import { launchChromium, skipBrowser } from '../../../test/support/chromium.ts';
import { setSite } from '../../../test/support/factories.ts';

let t: TestApp | undefined;
let browser: Browser | undefined;
let base = '';

before(async () => {
  if (skipBrowser) return;
  t = await buildTestApp('sqlite');
  await setSite(t, {
    navigation: [
      { label: 'About', url: '/pages/about' },
      { label: 'Shop', url: 'https://shop.example/' },
    ],
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await t?.close();
});

test('the menu is in line on a laptop and folds behind a toggle on a phone, with no script', { skip: skipBrowser }, async () => {
  const wide = await browser!.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
  const page = await wide.newPage();
  await page.goto(`${base}/`);
  assert.ok(await page.getByRole('link', { name: 'About' }).isVisible());
  assert.ok(!(await page.getByText('Menu', { exact: true }).isVisible()), 'no toggle on a wide screen');
  await wide.close();

  const narrow = await browser!.newContext({ javaScriptEnabled: false, viewport: { width: 375, height: 700 } });
  const phone = await narrow.newPage();
  await phone.goto(`${base}/`);
  assert.ok(!(await phone.getByRole('link', { name: 'About' }).isVisible()), 'folded on a phone');
  await phone.getByText('Menu', { exact: true }).click();
  assert.ok(await phone.getByRole('link', { name: 'About' }).isVisible(), 'the toggle opens it');
  assert.ok(await phone.getByRole('link', { name: 'Shop' }).isVisible());
  await narrow.close();
});
