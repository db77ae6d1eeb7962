import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser } from '../../../test/support/factories.ts';

eachDatabase('feeds, health, OpenAPI and error pages', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp(dialect, { env: { SITE_URL: 'https://blog.example.test' } });
    const author = await buildUser(t, { role: 'author' });
    const token = await buildToken(t, author);
    for (const [title, status] of [
      ['Feed post one', 'published'],
      ['Feed post two', 'published'],
      ['Hidden draft', 'draft'],
    ]) {
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/posts',
        headers: { authorization: `Bearer ${token}` },
        payload: { title, body: `Body of ${title} & more`, status, tags: ['feeds'] },
      });
    }
  });
  after(() => t.close());

  test('RSS 2.0 lists published posts with absolute links', async () => {
    const res = await t.app.inject({ url: '/feed.xml' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/rss\+xml/);
    assert.match(res.body, /<rss version="2.0"/);
    assert.match(res.body, /<link>https:\/\/blog\.example\.test\/posts\/feed-post-two<\/link>/);
    assert.ok(res.body.indexOf('Feed post two') < res.body.indexOf('Feed post one'), 'newest first');
    assert.doesNotMatch(res.body, /Hidden draft/);
  });

  test('Atom lists the same posts', async () => {
    const res = await t.app.inject({ url: '/atom.xml' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/atom\+xml/);
    assert.match(res.body, /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom"/);
    assert.match(res.body, /href="https:\/\/blog\.example\.test\/posts\/feed-post-one"/);
    assert.doesNotMatch(res.body, /Hidden draft/);
  });

  test('the sitemap lists published posts only', async () => {
    const res = await t.app.inject({ url: '/sitemap.xml' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<urlset xmlns="http:\/\/www.sitemaps.org\/schemas\/sitemap\/0.9">/);
    assert.match(res.body, /<loc>https:\/\/blog\.example\.test\/posts\/feed-post-one<\/loc>/);
    assert.doesNotMatch(res.body, /hidden-draft/);
  });

  test('health and readiness', async () => {
    const health = await t.app.inject({ url: '/healthz' });
    assert.equal(health.statusCode, 200);
    assert.equal(health.json().status, 'ok');
    const ready = await t.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().database, 'reachable');
  });

  test('OpenAPI 3.1 document generated from the route schemas, and a readable reference', async () => {
    const res = await t.app.inject({ url: '/api/v1/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.openapi, '3.1.0');
    for (const [path, methods] of Object.entries({ '/api/v1/posts': ['get', 'post'], '/api/v1/posts/{idOrSlug}': ['get', 'put', 'patch', 'delete'] })) {
      for (const m of methods) assert.ok(doc.paths[path]?.[m], `${m.toUpperCase()} ${path} is documented`);
    }
    assert.ok(doc.paths['/api/v1/posts'].post.requestBody.content['application/json'].schema.properties.title.description);
    assert.ok(doc.components.securitySchemes.bearerAuth);
    assert.ok(!doc.paths['/posts/new'], 'HTML pages are not in the API document');

    const page = await t.app.inject({ url: '/api/docs' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<code>POST \/api\/v1\/posts<\/code>/);
    assert.match(page.body, /Create a post/);
  });

  test('unknown URLs: a 404 page for HTML, problem+json for the API', async () => {
    const html = await t.app.inject({ url: '/no/such/page' });
    assert.equal(html.statusCode, 404);
    assert.match(String(html.headers['content-type']), /^text\/html/);
    assert.match(html.body, /404/);
    const api = await t.app.inject({ url: '/api/v1/nothing' });
    assert.equal(api.statusCode, 404);
    assert.match(String(api.headers['content-type']), /^application\/problem\+json/);
    assert.equal(api.json().code, 'not_found');
  });

  test('every response has a request id and security headers', async () => {
    const res = await t.app.inject({ url: '/posts', headers: { 'x-request-id': 'trace-123' } });
    assert.equal(res.headers['x-request-id'], 'trace-123');
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    const generated = await t.app.inject({ url: '/posts' });
    assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });
});

eachDatabase('HTTP caching', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp(dialect);
  });
  after(() => t.close());

  test('strong ETags and 304 for pages, feeds and API reads; private answers stay private', async () => {
    for (const url of ['/posts', '/feed.xml', '/atom.xml', '/api/v1/posts', '/api/v1/posts/welcome-to-inkwell', '/posts/welcome-to-inkwell']) {
      const first = await t.app.inject({ url });
      assert.equal(first.statusCode, 200, url);
      const tag = String(first.headers.etag);
      assert.match(tag, /^"[^"]+"$/, `${url} has a strong ETag`);
      assert.match(String(first.headers['cache-control']), /public|max-age/, url);
      assert.match(String(first.headers.vary), /Cookie/);
      const again = await t.app.inject({ url, headers: { 'if-none-match': tag } });
      assert.equal(again.statusCode, 304, `${url} answers 304 when unchanged`);
      assert.equal(again.body, '');
    }
    const author = await buildUser(t, { role: 'author' });
    const token = await buildToken(t, author);
    const mine = await t.app.inject({ url: '/api/v1/posts?status=draft', headers: { authorization: `Bearer ${token}` } });
    assert.equal(mine.headers['cache-control'], 'private, no-cache');
    const login = await t.app.inject({ url: '/login' });
    assert.equal(login.headers['cache-control'], 'private, no-store', 'a page that sets a cookie is never shared');
  });
});
