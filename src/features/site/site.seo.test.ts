import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse, type HTMLElement } from 'node-html-parser';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, setSite, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

const SITE = 'https://blog.example.test';

function meta(doc: HTMLElement, key: string): string | undefined {
  return (doc.querySelector(`meta[property="${key}"]`) ?? doc.querySelector(`meta[name="${key}"]`))?.getAttribute('content');
}

function jsonLd(doc: HTMLElement): Record<string, any>[] {
  return doc.querySelectorAll('script[type="application/ld+json"]').map((s) => JSON.parse(s.textContent));
}

eachDatabase('sharing and search-engine metadata', (dialect) => {
  let t: TestApp;
  let author: TestUser;
  let token: string;

  before(async () => {
    t = await buildTestApp(dialect, { env: { SITE_URL: SITE } });
    await setSite(t, { name: 'Seaside', description: 'Tides and <things>' });
    author = await buildUser(t, { role: 'author' });
    await t.db.kysely.updateTable('users').set({ bio: 'Writes about tides.' }).where('id', '=', author.id).execute();
    token = await buildToken(t, author);
    await apiRequest(t.app, 'POST', '/api/v1/posts', {
      token,
      body: { title: 'High </script> tide', body: 'The sea came in.\n\n![A wave](https://img.example/wave.jpg)', status: 'published', tags: ['sea'] },
    });
    await apiRequest(t.app, 'POST', '/api/v1/posts', { token, body: { title: 'Unfinished', body: 'Not yet.', status: 'draft' } });
  });
  after(() => t.close());

  const page = async (url: string, c?: Client) => parse(c ? (await c.get(url)).body : (await t.app.inject({ url })).body);

  test('every public page has a title, a description, an absolute canonical URL and sharing cards', async () => {
    for (const url of ['/', '/posts/high-script-tide', `/@${author.username}`, '/tags/sea', '/posts?x=1']) {
      const doc = await page(url);
      assert.ok(doc.querySelector('title')?.text, `${url}: <title>`);
      assert.ok(meta(doc, 'description'), `${url}: meta description`);
      const canonical = doc.querySelector('link[rel=canonical]')?.getAttribute('href') ?? '';
      assert.ok(canonical.startsWith(`${SITE}/`), `${url}: canonical ${canonical} is absolute`);
      assert.doesNotMatch(canonical, /\?/, `${url}: canonical has no query`);
      for (const key of ['og:title', 'og:description', 'og:type', 'og:url', 'og:site_name', 'twitter:card', 'twitter:title'])
        assert.ok(meta(doc, key), `${url}: ${key}`);
      assert.equal(meta(doc, 'robots'), undefined, `${url} is indexable`);
    }
  });

  test("the front page: the blog's name and description, WebSite JSON-LD", async () => {
    const doc = await page('/');
    assert.equal(doc.querySelector('title')!.text, 'Seaside');
    assert.equal(meta(doc, 'description'), 'Tides and <things>');
    assert.equal(doc.querySelector('link[rel=canonical]')!.getAttribute('href'), `${SITE}/`);
    const [site] = jsonLd(doc);
    assert.equal(site['@type'], 'WebSite');
    assert.equal(site.name, 'Seaside');
    assert.equal(site.url, `${SITE}/`);
  });

  test('a post: article card with its image, BlogPosting JSON-LD that survives a </script> in the title', async () => {
    const doc = await page('/posts/high-script-tide');
    assert.equal(meta(doc, 'og:type'), 'article');
    assert.equal(meta(doc, 'og:image'), 'https://img.example/wave.jpg');
    assert.equal(meta(doc, 'twitter:card'), 'summary_large_image');
    assert.match(meta(doc, 'description')!, /The sea came in/);
    const [post] = jsonLd(doc);
    assert.equal(post['@type'], 'BlogPosting');
    assert.equal(post.headline, 'High </script> tide');
    assert.equal(post.url, `${SITE}/posts/high-script-tide`);
    assert.equal(post.author['@type'], 'Person');
    assert.ok(!Number.isNaN(Date.parse(post.datePublished)));
  });

  test('a profile: Person JSON-LD', async () => {
    const doc = await page(`/@${author.username}`);
    assert.equal(meta(doc, 'og:type'), 'profile');
    assert.equal(meta(doc, 'description'), 'Writes about tides.');
    const [profile] = jsonLd(doc);
    assert.equal(profile.mainEntity['@type'], 'Person');
    assert.equal(profile.mainEntity.url, `${SITE}/@${author.username}`);
  });

  test('noindex on drafts, search results and admin pages', async () => {
    const c = new Client(t.app);
    await c.login(author.username, author.password);
    assert.equal(meta(await page('/posts/unfinished', c), 'robots'), 'noindex');
    assert.equal(meta(await page('/search?q=tide'), 'robots'), 'noindex');
    const admin = await buildUser(t, { role: 'admin' });
    const a = new Client(t.app);
    await a.login(admin.username, admin.password);
    assert.equal(meta(await page('/admin', a), 'robots'), 'noindex');
    assert.equal(meta(await page('/admin/site', a), 'robots'), 'noindex');
  });

  test('robots.txt names the sitemap and keeps crawlers out of private areas', async () => {
    const res = await t.app.inject({ url: '/robots.txt' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.body, new RegExp(`^Sitemap: ${SITE}/sitemap.xml$`, 'm'));
    assert.match(res.body, /^Disallow: \/admin$/m);
  });
});
