// Galleries through the API, on their own pages (plain links: keyboard and no
// JavaScript), embedded in a post with [gallery:slug], and protecting their images.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'node-html-parser';
import sharp from 'sharp';
import type { Dialect } from '../../platform/db/index.ts';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser } from '../../../test/support/factories.ts';

eachDatabase('galleries', (dialect: Dialect) => {
  let t: TestApp;
  let dir: string;
  let token: string;
  let other: string;
  let reader: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-galleries-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: dir } });
    token = await buildToken(t, await buildUser(t, { role: 'author' }));
    other = await buildToken(t, await buildUser(t, { role: 'author' }));
    reader = await buildToken(t, await buildUser(t, { role: 'reader' }));
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = (method: 'POST' | 'PUT' | 'GET' | 'DELETE', url: string, payload?: unknown, as = token) =>
    t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json' },
      payload: payload === undefined ? undefined : JSON.stringify(payload),
    });
  async function upload(alt: string, background: string) {
    const fd = new FormData();
    fd.append('alt', alt);
    const data = await sharp({ create: { width: 900, height: 600, channels: 3, background } })
      .jpeg()
      .toBuffer();
    fd.append('file', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), `${alt}.jpg`);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { authorization: `Bearer ${token}` }, payload: fd });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string };
  }

  test('made through the API, shown as a grid of links to each large image, embedded in a post, protecting its images', async () => {
    const a = await upload('Red roof', '#a33');
    const b = await upload('Green door', '#3a3');
    const c = await upload('Blue sky', '#33a');
    await t.queue.drain();

    const created = await api('POST', '/api/v1/galleries', {
      title: 'Village walk',
      description: 'A Sunday afternoon.',
      items: [
        { mediaId: a.id, caption: 'The old house' },
        { mediaId: b.id, caption: '' },
        { mediaId: c.id, caption: 'Looking up' },
      ],
    });
    assert.equal(created.statusCode, 201, created.body);
    const g = created.json();
    assert.equal(g.slug, 'village-walk');
    assert.deepEqual(
      g.items.map((i: { mediaId: string }) => i.mediaId),
      [a.id, b.id, c.id],
    );
    assert.equal((await api('GET', '/api/v1/galleries/village-walk')).json().title, 'Village walk');
    assert.equal((await api('GET', '/api/v1/galleries')).json().galleries.length, 1);

    // The page: a grid where each image is a plain link (Tab and Enter, no script needed).
    const pageRes = await t.app.inject({ method: 'GET', url: '/galleries/village-walk' });
    assert.equal(pageRes.statusCode, 200);
    const page = parse(pageRes.body);
    assert.equal(page.querySelectorAll('script[src*="gallery"]').length, 0);
    const links = page.querySelectorAll('ul.gallery-grid li a');
    assert.deepEqual(
      links.map((l) => l.getAttribute('href')),
      ['/galleries/village-walk/1', '/galleries/village-walk/2', '/galleries/village-walk/3'],
    );
    const imgs = page.querySelectorAll('ul.gallery-grid picture img');
    assert.equal(imgs[0].getAttribute('alt'), 'Red roof');
    assert.equal(imgs[0].getAttribute('width'), '900');
    assert.equal(imgs[0].getAttribute('height'), '600');
    assert.equal(imgs[0].getAttribute('loading'), undefined);
    assert.equal(imgs[1].getAttribute('loading'), 'lazy');
    assert.match(imgs[1].getAttribute('srcset')!, / 320w/);
    assert.deepEqual(
      page.querySelectorAll('ul.gallery-grid figcaption').map((f) => f.text),
      ['The old house', 'Looking up'],
    );

    // Each image opens large on its own page, with the way back and on.
    const large = parse((await t.app.inject({ method: 'GET', url: '/galleries/village-walk/2' })).body);
    assert.equal(large.querySelector('.gallery-image picture img')!.getAttribute('alt'), 'Green door');
    assert.equal(large.querySelector('a[rel=prev]')!.getAttribute('href'), '/galleries/village-walk/1');
    assert.equal(large.querySelector('a[rel=next]')!.getAttribute('href'), '/galleries/village-walk/3');
    assert.equal((await t.app.inject({ method: 'GET', url: '/galleries/village-walk/4' })).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'GET', url: '/galleries/nowhere' })).statusCode, 404);

    // Embedded in a post by a line of its own; an unknown name stays visible as typed.
    const post = await api('POST', '/api/v1/posts', {
      title: 'Our walk',
      body: 'We walked.\n\n[gallery:village-walk]\n\nAnd then:\n\n[gallery:no-such-gallery]',
      status: 'published',
    });
    assert.equal(post.statusCode, 201, post.body);
    const postPage = parse((await t.app.inject({ method: 'GET', url: `/posts/${post.json().slug}` })).body);
    const embedded = postPage.querySelector('article .body ul.gallery-grid')!;
    assert.ok(embedded, 'the gallery is in the post');
    assert.equal(embedded.querySelectorAll('picture').length, 3);
    assert.equal(embedded.querySelectorAll('picture picture').length, 0, 'each image wrapped once');
    assert.match(postPage.querySelector('article .body')!.text, /\[gallery:no-such-gallery\]/);

    // Its images cannot be deleted while it shows them; the refusal names it.
    const refused = await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${b.id}`, headers: { authorization: `Bearer ${token}` } });
    assert.equal(refused.statusCode, 409);
    assert.match(refused.json().detail, /gallery "Village walk" \(\/galleries\/village-walk\)/);

    // Someone else's gallery is not theirs to change; a reader cannot make one.
    assert.equal((await api('PUT', '/api/v1/galleries/village-walk', { title: 'Mine', items: [] }, other)).statusCode, 403);
    assert.equal((await api('POST', '/api/v1/galleries', { title: 'R', items: [] }, reader)).statusCode, 403);

    // Replacing drops the image from the gallery: now it may go.
    const replaced = await api('PUT', '/api/v1/galleries/village-walk', { title: 'Village walk', items: [{ mediaId: a.id }, { mediaId: c.id }] });
    assert.equal(replaced.statusCode, 200, replaced.body);
    assert.equal(replaced.json().items.length, 2);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${b.id}`, headers: { authorization: `Bearer ${token}` } })).statusCode, 204);
    assert.equal((await api('DELETE', '/api/v1/galleries/village-walk')).statusCode, 204);
    assert.equal((await api('GET', '/api/v1/galleries/village-walk')).statusCode, 404);
  });

  test('the API is in the OpenAPI document, with the Post featured-image fields', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    assert.deepEqual(Object.keys(doc.paths['/api/v1/galleries'] ?? doc.paths['/galleries'] ?? {}).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(doc.paths['/api/v1/galleries/{slug}'] ?? doc.paths['/galleries/{slug}'] ?? {}).sort(), ['delete', 'get', 'put']);
    assert.ok(JSON.stringify(doc).includes('featureImageAlt'));
  });

  test('bad input is a 4xx naming the field', async () => {
    const m = await upload('Grey', '#777');
    const cases: [unknown, number, RegExp][] = [
      [{ title: '', items: [] }, 422, /title/],
      [{ title: 'X', slug: 'Not A Slug', items: [] }, 422, /slug/],
      [{ title: 'X', items: [{ mediaId: 'nosuchimage1' }] }, 422, /items\[0\]\.mediaId/],
      [{ title: 'X', items: [{ mediaId: '../../etc' }] }, 422, /items\[0\]\.mediaId/],
      [{ title: 'X' }, 422, /items/],
    ];
    for (const [body, status, field] of cases) {
      const res = await api('POST', '/api/v1/galleries', body);
      assert.equal(res.statusCode, status, `${JSON.stringify(body)}: ${res.body}`);
      assert.match(res.body, field);
    }
    assert.equal((await api('POST', '/api/v1/galleries', { title: 'Twice', items: [{ mediaId: m.id }] })).statusCode, 201);
    const again = await api('POST', '/api/v1/galleries', { title: 'Twice', items: [] });
    assert.equal(again.statusCode, 409);
    assert.match(again.body, /slug/);
  });
});
