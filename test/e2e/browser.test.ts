// A real Chromium logs in, writes and publishes a post through the HTML form,
// and finds it on the front page. With INKWELL_SCREENSHOT=1 it also refreshes
// docs/posts.png; without it the committed screenshot is left alone.
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { launchChromium, skipBrowser } from '../support/chromium.ts';
import { buildToken, buildUser, type TestUser } from '../support/factories.ts';

const SCREENSHOT = new URL('../../docs/posts.png', import.meta.url);

// Posts other writers published earlier, so the list looks like a real blog.
const SEED_POSTS = [
  {
    title: 'Notes from a week of writing every morning',
    body: 'For seven days I wrote for thirty minutes before opening email. The first two mornings were slow; by Thursday the words came **before the coffee did**.\n\nThree things helped: a fixed time, a closed door and a rule that nothing written before 8 a.m. gets deleted.',
    tags: ['Writing', 'Habits'],
  },
  {
    title: 'Moving the blog from SQLite to PostgreSQL',
    body: 'SQLite carried this blog for two years without a hiccup. When a second server joined, the database had to move.\n\nThe same migrations ran on both engines, so the move was a dump, a restore and a new `DATABASE_URL`.',
    tags: ['Databases', 'Operations'],
  },
  {
    title: 'A field guide to the birds on my balcony',
    body: 'Blue tits in the morning, a blackbird at dusk, and once, memorably, a sparrowhawk.\n\nThis is what I have learned about each of them from a year of watching with a cup of tea in hand.',
    tags: ['Nature'],
  },
];

let t: TestApp | undefined;
let browser: Browser | undefined;
let baseUrl = '';

/** buildUser names people "author 1"; give them real names so pages read naturally. */
async function renameUser(user: TestUser, displayName: string): Promise<void> {
  await t!.db.kysely.updateTable('users').set({ display_name: displayName }).where('id', '=', user.id).execute();
}

before(async () => {
  if (skipBrowser) return;
  t = await buildTestApp('sqlite');
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  assert.ok(address && typeof address === 'object', 'the app should listen on a TCP port');
  baseUrl = `http://127.0.0.1:${address.port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await t?.close();
});

test('an author logs in, publishes a post with the form and finds it on the front page', { skip: skipBrowser }, async () => {
  assert.ok(t && browser);

  // Other posts, published through the JSON API by another writer.
  const colleague = await buildUser(t, { role: 'author' });
  await renameUser(colleague, 'Grace Hopper');
  const token = await buildToken(t, colleague);
  for (const post of SEED_POSTS) {
    const res = await fetch(`${baseUrl}/api/v1/posts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...post, status: 'published' }),
    });
    assert.equal(res.status, 201, `seeding "${post.title}": ${await res.text()}`);
  }

  const author = await buildUser(t, { role: 'author' });
  await renameUser(author, 'Ada Lovelace');
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);

    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email or username', { exact: true }).fill(author.email);
    await page.getByLabel('Password', { exact: true }).fill(author.password);
    await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.getByRole('button', { name: 'Log in' }).click()]);
    assert.equal((await page.locator('.flash').textContent())?.trim(), 'Welcome back');

    // Labels carry their hints ("Body (Markdown)"), and hints mention other fields, so match the start.
    const title = 'What a year of bread baking taught me about software';
    await page.goto(`${baseUrl}/posts/new`);
    await page.getByLabel(/^Title\b/).fill(title);
    await page
      .getByLabel(/^Body\b/)
      .fill(
        'Sourdough is a long feedback loop. You change **one thing**, wait a day, and taste the result.\n\n- Measure by weight\n- Keep notes\n- Change one variable at a time\n\nSoftware is the same, only the loaf is smaller.',
      );
    await page.getByLabel(/^Tags\b/).fill('Baking, Software');
    await Promise.all([
      page.waitForURL((url) => url.pathname.startsWith('/posts/') && url.pathname !== '/posts/new'),
      page.getByRole('button', { name: 'Publish' }).click(),
    ]);

    assert.equal((await page.locator('.flash').textContent())?.trim(), 'Post published');
    assert.equal((await page.locator('h1').first().textContent())?.trim(), title);
    const postPath = new URL(page.url()).pathname;

    await page.goto(`${baseUrl}/posts`);
    const link = page.locator('.post-list').getByRole('link', { name: title, exact: true });
    assert.equal(await link.count(), 1, 'the new post should be linked once in the list');
    assert.equal(await link.getAttribute('href'), postPath);
    for (const post of SEED_POSTS) {
      assert.equal(await page.locator('.post-list').getByRole('link', { name: post.title, exact: true }).count(), 1, `"${post.title}" in the list`);
    }

    if (process.env.INKWELL_SCREENSHOT === '1') {
      // As a reader sees it: a fresh context, not logged in.
      const reader = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      try {
        const readerPage = await reader.newPage();
        await readerPage.goto(`${baseUrl}/posts`);
        mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
        writeFileSync(SCREENSHOT, await readerPage.screenshot({ fullPage: true }));
      } finally {
        await reader.close();
      }
    }
  } finally {
    await context.close();
  }
});
