import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseFeed } from '@rowanmanning/feed-parser';
import { parse } from 'node-html-parser';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

const SITE = 'https://blog.example.test';

eachDatabase('static pages and the navigation menu', (dialect) => {
  let t: TestApp;
  let editor: TestUser;
  let editorToken: string;
  let authorToken: string;
  let adminToken: string;

  before(async () => {
    t = await buildTestApp(dialect, { env: { SITE_URL: SITE } });
    editor = await buildUser(t, { role: 'editor' });
    editorToken = await buildToken(t, editor);
    authorToken = await buildToken(t, await buildUser(t, { role: 'author' }));
    adminToken = await buildToken(t, await buildUser(t, { role: 'admin' }));
    await apiRequest(t.app, 'POST', '/api/v1/posts', { token: authorToken, body: { title: 'An ordinary post', body: 'Posty.', status: 'published' } });
  });
  after(() => t.close());

  test('editors write pages through the API; they live at /pages/:slug', async () => {
    const res = await apiRequest(t.app, 'POST', '/api/v1/pages', {
      token: editorToken,
      body: { title: 'About this blog', slug: 'about', body: 'We write about **boats**.', status: 'published' },
    });
    assert.equal(res.statusCode, 201, res.body);
    const { page } = res.json();
    assert.equal(page.url, `${SITE}/pages/about`);
    assert.match(page.bodyHtml, /<strong>boats<\/strong>/);
    assert.equal(res.headers.location, `/api/v1/pages/${page.id}`);

    const doc = parse((await t.app.inject({ url: '/pages/about' })).body);
    assert.equal(doc.querySelector('h1')!.text, 'About this blog');
    assert.equal(doc.querySelector('title')!.text, 'About this blog · Inkwell');
    assert.equal(doc.querySelector('link[rel=canonical]')!.getAttribute('href'), `${SITE}/pages/about`);
    assert.match(doc.querySelector('meta[name=description]')!.getAttribute('content')!, /We write about boats/);
    assert.equal(JSON.parse(doc.querySelector('script[type="application/ld+json"]')!.textContent)['@type'], 'WebPage');

    assert.equal((await apiRequest(t.app, 'GET', '/api/v1/pages/about')).json().page.title, 'About this blog');
    assert.deepEqual(
      (await apiRequest(t.app, 'GET', '/api/v1/pages')).json().pages.map((p: { slug: string }) => p.slug),
      ['about'],
    );
  });

  test('authors and strangers may not write pages; bad input names its fields; a taken slug is a conflict', async () => {
    assert.equal((await apiRequest(t.app, 'POST', '/api/v1/pages', { token: authorToken, body: { title: 'Mine' } })).statusCode, 403);
    assert.equal((await apiRequest(t.app, 'POST', '/api/v1/pages', { body: { title: 'Mine' } })).statusCode, 401);
    const bad = await apiRequest(t.app, 'POST', '/api/v1/pages', { token: editorToken, body: { title: ' ', slug: 'Not A Slug', imageId: 'missing' } });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(
      bad
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
      ['slug', 'title'],
    );
    // The schema speaks first; whether the image exists is asked of well-formed input.
    const noImage = await apiRequest(t.app, 'POST', '/api/v1/pages', { token: editorToken, body: { title: 'Fine', imageId: 'missing' } });
    assert.equal(noImage.statusCode, 422);
    assert.deepEqual(
      noImage.json().errors.map((e: { field: string }) => e.field),
      ['imageId'],
    );
    const dup = await apiRequest(t.app, 'POST', '/api/v1/pages', { token: adminToken, body: { title: 'Again', slug: 'about' } });
    assert.equal(dup.statusCode, 409);
  });

  test('pages are not posts: not on the front page, in post lists, the posts API, search or the feeds; they are in the sitemap', async () => {
    for (const url of ['/', '/posts']) assert.doesNotMatch((await t.app.inject({ url })).body, /About this blog/, url);
    const api = (await apiRequest(t.app, 'GET', '/api/v1/posts')).json();
    assert.ok(!JSON.stringify(api).includes('About this blog'));
    assert.doesNotMatch((await t.app.inject({ url: '/search?q=boats' })).body, /About this blog/);
    for (const url of ['/feed.xml', '/atom.xml']) {
      const feed = parseFeed((await t.app.inject({ url })).body);
      assert.ok(feed.items.some((i) => i.title === 'An ordinary post'));
      assert.ok(!feed.items.some((i) => i.title === 'About this blog'), url);
    }
    assert.match((await t.app.inject({ url: '/sitemap.xml' })).body, new RegExp(`<loc>${SITE}/pages/about</loc>`));
  });

  test('a draft page: not found for others, noindex for its editors, not in the sitemap', async () => {
    await apiRequest(t.app, 'POST', '/api/v1/pages', { token: editorToken, body: { title: 'Now', body: 'What I do now.' } });
    assert.equal((await t.app.inject({ url: '/pages/now' })).statusCode, 404);
    assert.equal((await apiRequest(t.app, 'GET', '/api/v1/pages/now')).statusCode, 404);
    const c = new Client(t.app);
    await c.login(editor.username, editor.password);
    const doc = parse((await c.get('/pages/now')).body);
    assert.equal(doc.querySelector('meta[name=robots]')?.getAttribute('content'), 'noindex');
    assert.doesNotMatch((await t.app.inject({ url: '/sitemap.xml' })).body, /pages\/now/);
    const pub = await apiRequest(t.app, 'PATCH', '/api/v1/pages/now', { token: editorToken, body: { status: 'published' } });
    assert.equal(pub.statusCode, 200, pub.body);
    assert.equal((await t.app.inject({ url: '/pages/now' })).statusCode, 200);
    assert.equal((await apiRequest(t.app, 'DELETE', '/api/v1/pages/now', { token: editorToken })).statusCode, 204);
    assert.equal((await t.app.inject({ url: '/pages/now' })).statusCode, 404);
  });

  test('the HTML editor: CSRF, the form again with input kept, then the page', async () => {
    const c = new Client(t.app);
    await c.login(editor.username, editor.password);
    await c.get('/admin/pages/new');
    const noCsrf = await c.request('POST', '/admin/pages', { form: { title: 'Sneaky' }, headers: { origin: SITE } });
    assert.equal(noCsrf.status, 403);
    await c.get('/admin/pages/new');
    const bad = await c.postForm('/admin/pages', { title: 'Contact', slug: 'Bad Slug!', body: 'Write to us.', status: 'published' });
    assert.equal(bad.status, 422);
    const doc = parse(bad.body);
    assert.equal(doc.querySelector('#title')!.getAttribute('value'), 'Contact');
    assert.equal(doc.querySelector('#body')!.text, 'Write to us.');
    assert.equal(doc.querySelector('#slug')!.getAttribute('aria-invalid'), 'true');
    const good = await c.postForm('/admin/pages', { title: 'Contact', slug: '', body: 'Write to us.', status: 'published' });
    assert.equal(good.status, 303);
    assert.equal(good.headers.location, '/pages/contact');
    assert.match((await c.get('/admin/pages')).body, /\/pages\/contact/);
  });

  test("the admin's menu shows in every page's header, in order, with a compact toggle", async () => {
    const res = await apiRequest(t.app, 'PATCH', '/api/v1/site', {
      token: adminToken,
      body: {
        navigation: [
          { label: 'About', url: '/pages/about' },
          { label: 'Boats', url: '/tags/boats' },
          { label: 'Shop', url: 'https://shop.example/' },
        ],
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    for (const url of ['/', '/pages/contact', '/posts/an-ordinary-post']) {
      const doc = parse((await t.app.inject({ url })).body);
      const links = doc.querySelectorAll('header .site-menu a').map((a) => [a.text, a.getAttribute('href')]);
      assert.deepEqual(
        links,
        [
          ['About', '/pages/about'],
          ['Boats', '/tags/boats'],
          ['Shop', 'https://shop.example/'],
        ],
        url,
      );
      assert.ok(doc.querySelector('header input.menu-toggle#menu-toggle'));
      assert.equal(doc.querySelector('header label.menu-label')!.getAttribute('for'), 'menu-toggle');
    }
    // That it folds on a phone and opens without script: test/e2e/theme.browser.test.ts, in Chromium.
  });
});
