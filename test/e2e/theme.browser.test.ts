// The theme in real Chromium: every page type passes axe-core in light and dark,
// the header keeps to one line on a laptop and folds into a menu on a phone, and
// nothing scrolls sideways. UPDATE_SCREENSHOTS=1 writes the README's screenshots
// (docs/screenshots/) from the SQLite run.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { buildTestApp, eachDatabase, type TestApp } from '../support/app.ts';
import { launchChromium, skipBrowser } from '../support/chromium.ts';
import type { TestUser } from '../support/factories.ts';
import { seedThemeSite, type ThemeSite } from '../support/theme-site.ts';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = new URL('../../docs/screenshots/', import.meta.url);
const updateShots = process.env.UPDATE_SCREENSHOTS === '1';
const SCHEMES = ['light', 'dark'] as const;

interface AxeViolation {
  id: string;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's WCAG 2.1 A/AA rules and its best practices (landmarks, heading order…) on the page as it is. */
async function axe(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v: any) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.map((n: any) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

function describeViolations(vs: AxeViolation[]): string {
  return vs.map((v) => `${v.id} (${v.help}): ${v.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary?.replace(/\s+/g, ' ')}`).join('; ')}`).join('\n');
}

eachDatabase('the theme in Chromium', (dialect) => {
  let t: TestApp | undefined;
  let browser: Browser | undefined;
  let site: ThemeSite;
  let base = '';
  let mediaDir = '';

  before(async () => {
    if (skipBrowser) return;
    mediaDir = mkdtempSync(join(tmpdir(), 'inkwell-theme-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: mediaDir } });
    site = await seedThemeSite(t);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    // Avatars are absolute URLs: this one points at the port the server got.
    await t.db.kysely
      .updateTable('users')
      .set({ avatar_url: `${base}${site.avatarPath}` })
      .where('id', '=', site.author.id)
      .execute();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await t?.close();
    if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
  });

  /** A browser context signed in as the user (through the login form), or anonymous. */
  async function contextFor(user: TestUser | null, width: number, javaScriptEnabled = true): Promise<BrowserContext> {
    const context = await browser!.newContext({ viewport: { width, height: 900 }, deviceScaleFactor: 1, javaScriptEnabled });
    // No live stream (live.js): it has its own tests, and an open stream would outlive the pages.
    await context.route('**/assets/live.js', (route) => route.abort());
    if (user) {
      const page = await context.newPage();
      await page.goto(`${base}/login`);
      await page.getByLabel(/^(Email or username|Login|Username)/).fill(user.username);
      await page.getByLabel(/^Password/).fill(user.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL((u) => !u.pathname.startsWith('/login'));
      await page.close();
    }
    return context;
  }

  const anonymousPages = () => [
    '/',
    `/posts/${site.postSlug}`,
    `/tags/${site.tagSlug}`,
    '/tags',
    '/search?q=harbour',
    '/search',
    `/@${site.author.username}`,
    '/login',
    '/signup',
    '/password/forgot',
    `/pages/${site.pageSlug}`,
    `/galleries/${site.gallerySlug}`,
    `/galleries/${site.gallerySlug}/1`,
    '/subscribe',
    '/no-such-page-here',
  ];
  const writerPages = () => [
    '/',
    `/posts/${site.postSlug}`,
    '/posts/new',
    `/posts/${site.postSlug}/edit`,
    `/posts/${site.postSlug}/revisions`,
    `/posts/${site.postSlug}/delete`,
    `/posts/${site.postSlug}/comments/new`,
    '/admin/posts',
    '/admin/posts/trash',
    '/admin/media',
    '/admin/galleries',
    '/admin/galleries/new',
    '/settings',
    '/settings/notifications',
    '/settings/subscriptions',
    '/notifications',
    '/feed',
  ];
  const adminPages = () => [
    '/admin',
    '/admin/site',
    '/admin/comments',
    '/admin/users',
    '/admin/mail',
    '/admin/jobs',
    '/admin/redirects',
    '/admin/import',
    '/admin/export',
    '/admin/backups',
    '/admin/pages',
    '/admin/pages/new',
    '/admin/integrations',
    '/admin/webhooks',
    '/admin/links',
    '/admin/posts',
    '/admin/subscribers',
  ];

  for (const [who, pages] of [
    ['anonymous', anonymousPages],
    ['writer', writerPages],
    ['admin', adminPages],
  ] as const) {
    test(`axe finds nothing on the ${who} pages, in light and dark`, { skip: skipBrowser }, async () => {
      const user = who === 'anonymous' ? null : who === 'writer' ? site.author : site.admin;
      const context = await contextFor(user, 1280);
      const page = await context.newPage();
      const problems: string[] = [];
      for (const path of pages()) {
        await page.goto(`${base}${path}`);
        for (const scheme of SCHEMES) {
          await page.emulateMedia({ colorScheme: scheme });
          const vs = await axe(page);
          if (vs.length) problems.push(`${path} [${scheme}]\n${describeViolations(vs)}`);
        }
      }
      await context.close();
      assert.equal(problems.length, 0, `axe violations:\n${problems.join('\n\n')}`);
    });
  }

  test('the header stays on one line at 1280 px and folds into a menu at 375 px, with no sideways scroll', { skip: skipBrowser }, async () => {
    for (const user of [null, site.admin]) {
      const wide = await contextFor(user, 1280);
      const page = await wide.newPage();
      for (const path of ['/', `/posts/${site.postSlug}`, '/admin/site']) {
        await page.goto(`${base}${path}`);
        const tops = await page.$$eval('header.site .brand, header.site nav a, header.site nav input, header.site nav button', (els) =>
          els
            .filter((e) => (e as HTMLElement).offsetParent !== null)
            .map((e) => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2)),
        );
        assert.ok(tops.length > 3, 'the header has its entries');
        assert.ok(
          Math.max(...tops) - Math.min(...tops) <= 6,
          `${path} as ${user?.username ?? 'anonymous'}: header entries are on one line (${tops.join(', ')})`,
        );
        assert.equal(await page.locator('.menu-label').isVisible(), false, 'no Menu button on a laptop');
      }
      await wide.close();

      // Without JavaScript: the menu must fold and open by CSS alone.
      const narrow = await contextFor(user, 375, false);
      const phone = await narrow.newPage();
      for (const path of ['/', `/posts/${site.postSlug}`, '/admin/site', '/admin/posts', `/galleries/${site.gallerySlug}`]) {
        await phone.goto(`${base}${path}`);
        const scroll = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.equal(scroll, 0, `${path}: nothing scrolls sideways at 375 px`);
        assert.equal(await phone.locator('header.site nav.menu').isVisible(), false, `${path}: the menu is folded`);
        const header = await phone.locator('header.site').boundingBox();
        assert.ok(header && header.height < 80, `${path}: the folded header is one compact row (${header?.height} px)`);
      }
      // Opening it needs no script: the label toggles a checkbox.
      await phone.goto(`${base}/`);
      await phone.getByText('Menu', { exact: true }).click();
      assert.equal(await phone.locator('header.site nav.menu').isVisible(), true);
      assert.equal(await phone.getByRole('link', { name: 'About' }).first().isVisible(), true);
      await narrow.close();
    }
  });

  test('no page scrolls sideways on a phone', { skip: skipBrowser }, async () => {
    for (const [user, pages] of [
      [null, anonymousPages],
      [site.author, writerPages],
      [site.admin, adminPages],
    ] as const) {
      const context = await contextFor(user, 375);
      const page = await context.newPage();
      const wide: string[] = [];
      for (const path of pages()) {
        await page.goto(`${base}${path}`);
        const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        if (over > 0) wide.push(`${path} (${over} px)`);
      }
      await context.close();
      assert.deepEqual(wide, [], 'pages wider than a 375 px screen');
    }
  });

  test('the keyboard focus is always visible: a ring of at least 2 px', { skip: skipBrowser }, async () => {
    const context = await contextFor(site.author, 1280);
    const page = await context.newPage();
    await page.goto(`${base}/posts/${site.postSlug}/edit`);
    const seen = new Set<string>();
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press('Tab');
      const focus = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const cs = getComputedStyle(el);
        return { tag: el.tagName, outline: cs.outlineStyle, width: Number.parseFloat(cs.outlineWidth) };
      });
      seen.add(focus.tag);
      if (focus.tag === 'BODY') continue;
      assert.notEqual(focus.outline, 'none', `${focus.tag} shows where the focus is`);
      assert.ok(focus.width >= 2, `${focus.tag}'s focus ring is at least 2 px`);
    }
    for (const tag of ['A', 'INPUT', 'TEXTAREA']) assert.ok(seen.has(tag), `tabbed through a ${tag}`);
    await context.close();
  });

  test('post cards show the featured image and the reading time; the post page its reading time and comment times', { skip: skipBrowser }, async () => {
    const context = await contextFor(null, 1280);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    const card = page.locator('.post-list > li').filter({ hasText: 'Rigging the Kittiwake' });
    assert.equal(await card.locator('a.thumb img').count(), 1);
    assert.match(await card.locator('.reading-time').innerText(), /^\d+ min read$/);
    const long = page.locator('.post-list > li').filter({ hasText: 'Reading the weather' });
    assert.equal(await long.locator('.reading-time').innerText(), '2 min read', '560 words at 230 a minute');
    await page.goto(`${base}/posts/${site.postSlug}`);
    assert.match(await page.locator('article.post .meta .reading-time').innerText(), /^\d+ min read$/);
    assert.match(await page.locator('#comments .comment time').first().innerText(), /\d{1,2} \w+ \d{4}, \d{2}:\d{2} UTC/);
    // The reading column keeps a comfortable measure.
    const measure = await page.evaluate(() => {
      const body = document.querySelector('article.post .body') as HTMLElement;
      const probe = document.createElement('span');
      probe.textContent = '0'.repeat(10);
      body.appendChild(probe);
      const perCh = probe.getBoundingClientRect().width / 10;
      probe.remove();
      return body.getBoundingClientRect().width / perCh;
    });
    assert.ok(measure >= 60 && measure <= 76, `line length ~68ch (${measure.toFixed(1)})`);
    await context.close();
  });

  test('screenshots of the main pages at 375 and 1280 px, light and dark', {
    skip: skipBrowser || (dialect !== 'sqlite' && 'screenshots come from the SQLite run'),
  }, async () => {
    // name, who, path, and what to scroll to (the top when absent)
    const shots: [string, TestUser | null, string, string?][] = [
      ['front', null, '/'],
      ['post', null, `/posts/${site.postSlug}`],
      ['post-body', null, `/posts/${site.postSlug}`, '.body blockquote'],
      ['post-comments', null, `/posts/${site.postSlug}`, '#comments'],
      ['profile', null, `/@${site.author.username}`],
      ['editor', site.author, `/posts/${site.postSlug}/edit`],
      ['admin', site.admin, '/admin/site'],
    ];
    if (updateShots) mkdirSync(SHOTS, { recursive: true });
    for (const width of [375, 1280]) {
      for (const [name, user, path, scrollTo] of shots) {
        const context = await contextFor(user, width);
        const page = await context.newPage();
        await page.goto(`${base}${path}`);
        // Lazy images load before the picture is taken.
        await page.evaluate(async () => {
          for (const img of document.images) img.loading = 'eager';
          await Promise.all([...document.images].map((img) => (img.complete ? null : img.decode().catch(() => null))));
        });
        if (scrollTo) {
          await page.locator(scrollTo).evaluate((el) => {
            el.scrollIntoView({ block: 'start' });
            window.scrollBy(0, -Math.round(window.innerHeight / 4));
          });
        }
        for (const scheme of SCHEMES) {
          await page.emulateMedia({ colorScheme: scheme });
          const png = await page.screenshot({ type: 'png' });
          assert.ok(png.length > 1000);
          // A 128-colour palette keeps each picture small enough to commit.
          if (updateShots)
            writeFileSync(new URL(`${name}-${width}-${scheme}.png`, SHOTS), await sharp(png).png({ palette: true, colours: 128, effort: 10 }).toBuffer());
        }
        await context.close();
      }
    }
  });
});
