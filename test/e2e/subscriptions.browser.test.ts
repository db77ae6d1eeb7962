// Real Chromium: subscribe from the footer of the front page, confirm from the
// email a real SMTP server received, then unsubscribe from the email's link.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { buildTestApp, eachDatabase, type TestApp } from '../support/app.ts';
import { launchChromium, skipBrowser } from '../support/chromium.ts';
import { linkIn, rawHeader, startSmtpCatcher, type SmtpCatcher } from '../support/smtp.ts';
import { buildToken, buildUser } from '../support/factories.ts';
import { apiRequest } from '../support/request.ts';

eachDatabase('email subscriptions in a browser', (dialect) => {
  let t: TestApp | undefined;
  let smtp: SmtpCatcher | undefined;
  let browser: Browser | undefined;
  let base = '';

  before(async () => {
    if (skipBrowser) return;
    smtp = await startSmtpCatcher();
    // A server as it runs: its workers dispatch events and deliver mail.
    t = await buildTestApp(dialect, { env: { SMTP_URL: smtp.url }, workers: 2 });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await smtp?.stop();
  });

  test('subscribe from the footer, confirm by email, get a post, unsubscribe from its link', { skip: skipBrowser }, async () => {
    const page = await browser!.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${base}/`);
    await page.getByLabel('Get new posts by email').fill('ivy@example.test');
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Check your inbox');

    const mail = await smtp!.waitFor((m) => m.to.includes('ivy@example.test'));
    await page.goto(`${base}${new URL(linkIn(mail, '/subscriptions/confirm/')).pathname}`);
    await page.getByRole('button', { name: 'Confirm subscription' }).click();
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), "You're subscribed");

    const author = await buildUser(t!, { role: 'author' });
    const res = await apiRequest(t!.app, 'POST', '/api/v1/posts', {
      token: await buildToken(t!, author),
      body: { title: 'For Ivy', body: 'Hello.', status: 'published' },
    });
    assert.equal(res.statusCode, 201, res.body);
    const post = await smtp!.waitFor((m) => m.to.includes('ivy@example.test') && m.subject === 'For Ivy');
    const unsubscribe = rawHeader(post, 'List-Unsubscribe')!.slice(1, -1);
    await page.goto(`${base}${new URL(unsubscribe).pathname}`);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), "You're unsubscribed");
    await page.close();
  });
});
