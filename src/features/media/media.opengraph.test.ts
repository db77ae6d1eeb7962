// A post's sharing cards use its featured image: an absolute URL of a JPEG variant
// about 1200 wide, its size and alt text, and the large Twitter card; without one,
// the site's logo and the small card.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type HTMLElement, parse } from 'node-html-parser';
import sharp from 'sharp';
import type { Dialect } from '../../platform/db/index.ts';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser, setSite } from '../../../test/support/factories.ts';

eachDatabase('Open Graph and Twitter cards from the featured image', (dialect: Dialect) => {
  let t: TestApp;
  let dir: string;
  let token: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-og-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: dir } });
    token = await buildToken(t, await buildUser(t, { role: 'author' }));
  });

  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = (method: 'POST', url: string, payload: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
  async function upload(alt: string): Promise<{ id: string; url: string }> {
    const fd = new FormData();
    fd.append('alt', alt);
    const data = await sharp({ create: { width: 1600, height: 900, channels: 3, background: '#c63' } })
      .jpeg()
      .toBuffer();
    fd.append('file', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), 'bay.jpg');
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { authorization: `Bearer ${token}` }, payload: fd });
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  }
  const meta = (doc: HTMLElement, key: string) =>
    doc.querySelector(`meta[property="${key}"]`)?.getAttribute('content') ?? doc.querySelector(`meta[name="${key}"]`)?.getAttribute('content');

  test('a post with a featured image: og:image is its 1280-wide JPEG, absolute, with size and alt; the large card', async () => {
    const image = await upload('The bay at sunset');
    await t.queue.drain();
    const post = await api('POST', '/api/v1/posts', {
      title: 'Evening',
      body: 'The light went orange.',
      status: 'published',
      featureImage: image.id,
      featureImageAlt: 'Orange sky over the bay',
    });
    assert.equal(post.statusCode, 201, post.body);
    const doc = parse((await t.app.inject({ method: 'GET', url: `/posts/${post.json().slug}` })).body);

    const og = meta(doc, 'og:image')!;
    const variant = (await t.app.inject({ method: 'GET', url: `/api/v1/media/${image.id}`, headers: { authorization: `Bearer ${token}` } }))
      .json()
      .variants.find((v: { width: number; format: string }) => v.width === 1280 && v.format === 'jpeg');
    assert.equal(og, variant.url);
    assert.match(og, /^https?:\/\/[^/]+\/media\/.+-1280w-[0-9a-f]{16}\.jpg$/);
    assert.equal(meta(doc, 'og:image:width'), '1280');
    assert.equal(meta(doc, 'og:image:height'), '720');
    assert.equal(meta(doc, 'og:image:alt'), 'Orange sky over the bay');
    assert.equal(meta(doc, 'twitter:card'), 'summary_large_image');
    assert.equal(meta(doc, 'twitter:image'), og);
    assert.equal(meta(doc, 'twitter:image:alt'), 'Orange sky over the bay');
    const jsonLd = JSON.parse(doc.querySelector('script[type="application/ld+json"]')!.text);
    assert.equal(jsonLd.image, og);
    // The URL is one the site serves.
    const served = await t.app.inject({ method: 'GET', url: new URL(og).pathname });
    assert.equal(served.statusCode, 200);
    assert.equal(served.headers['content-type'], 'image/jpeg');
  });

  test("an empty featured alt uses the image's own; no featured image falls back to the site's logo and the small card", async () => {
    const image = await upload('A heron on the mud');
    await t.queue.drain();
    const own = await api('POST', '/api/v1/posts', { title: 'Heron', body: 'It stood still.', status: 'published', featureImage: image.id });
    const ownDoc = parse((await t.app.inject({ method: 'GET', url: `/posts/${own.json().slug}` })).body);
    assert.equal(meta(ownDoc, 'og:image:alt'), 'A heron on the mud');

    await setSite(t, { logo: { id: image.id, url: image.url } });
    const plain = await api('POST', '/api/v1/posts', { title: 'Words only', body: 'No pictures here.', status: 'published' });
    const doc = parse((await t.app.inject({ method: 'GET', url: `/posts/${plain.json().slug}` })).body);
    assert.equal(meta(doc, 'og:image'), image.url);
    assert.equal(meta(doc, 'twitter:card'), 'summary');
    assert.equal(meta(doc, 'og:image:width'), undefined);
    assert.equal(meta(doc, 'og:image:alt'), undefined);
  });
});
