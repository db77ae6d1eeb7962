// Real Chromium through the account pages: sign up, confirm the address from
// the email a real SMTP server received, edit the profile, mint a token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { launchChromium, skipBrowser } from '../support/chromium.ts';
import { linkIn, startSmtpCatcher, type SmtpCatcher } from '../support/smtp.ts';

let t: TestApp | undefined;
let smtp: SmtpCatcher | undefined;
let browser: Browser | undefined;
let base = '';

before(async () => {
  if (skipBrowser) return;
  smtp = await startSmtpCatcher();
  t = await buildTestApp('sqlite', { env: { SMTP_URL: smtp.url }, workers: 2 });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await t?.close();
  await smtp?.stop();
});

test('sign up, confirm by email, edit the profile and mint a token in the settings pages', { skip: skipBrowser }, async () => {
  const page = await browser!.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${base}/posts`);
  // On a phone the header's links are folded behind "Menu".
  await page.getByText('Menu', { exact: true }).click();
  await page.getByRole('link', { name: 'Sign up' }).click();
  await page.getByLabel(/^Email/).fill('lin@example.test');
  await page.getByLabel(/^Username/).fill('lin');
  await page.getByLabel(/^Password/).fill('a quiet harbour');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${base}/settings`);
  assert.match(await page.locator('.flash').innerText(), /We sent a link to lin@example\.test/);
  assert.equal(await page.getByRole('heading', { name: 'Confirm your email address' }).count(), 1);

  const mail = await smtp!.waitFor((m) => m.to.includes('lin@example.test'));
  const link = new URL(linkIn(mail, '/verify/'));
  await page.goto(`${base}${link.pathname}`);
  assert.match(await page.locator('.flash').innerText(), /confirmed/);
  assert.equal(await page.getByRole('heading', { name: 'Confirm your email address' }).count(), 0);

  await page.getByLabel(/^Display name/).fill('Lin Harbour');
  await page.getByLabel(/^Bio/).fill('Writes about boats.');
  await page.getByRole('button', { name: 'Save profile' }).click();
  assert.match(await page.locator('.flash').innerText(), /Profile saved/);
  await page.goto(`${base}/@lin`);
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Lin Harbour');
  assert.match(await page.locator('.bio').innerText(), /Writes about boats/);

  await page.goto(`${base}/settings`);
  await page.getByLabel(/^Token name/).fill('my front end');
  await page.getByLabel('write').check();
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.locator('#new-token').innerText();
  assert.match(token, /^iwk_/);
  const res = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await res.json()).username, 'lin');
  await page.goto(`${base}/settings`);
  assert.equal(await page.locator('#new-token').count(), 0, 'the token is shown once');
  assert.equal(await page.getByRole('cell', { name: 'my front end', exact: true }).count(), 1);
  await page.close();
});
