// A post that shows one of our images gets a responsive <picture> on its page,
// read back with a real HTML parser.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type HTMLElement, parse } from 'node-html-parser';
import sharp from 'sharp';
import type { Dialect } from '../../platform/db/index.ts';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser } from '../../../test/support/factories.ts';

const jpeg = (width: number, height: number, background = '#c33') =>
  sharp({ create: { width, height, channels: 3, background } })
    .jpeg()
    .toBuffer();

function form(data: Buffer, name: string, fields: Record<string, string> = {}): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), name);
  return fd;
}

eachDatabase('responsive images in posts', (dialect: Dialect) => {
  let t: TestApp;
  let dir: string;
  let token: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-pictures-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: dir } });
    token = await buildToken(t, await buildUser(t, { role: 'author' }));
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = () => ({ authorization: `Bearer ${token}` });
  async function upload(data: Buffer, name: string, alt = '') {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: auth(), payload: form(data, name, { alt }) });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string; url: string; width: number; height: number };
  }
  async function publish(title: string, body: string) {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/posts', headers: auth(), payload: { title, body, status: 'published' } });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { slug: string };
  }
  async function page(slug: string): Promise<HTMLElement> {
    const res = await t.app.inject({ method: 'GET', url: `/posts/${slug}` });
    assert.equal(res.statusCode, 200);
    return parse(res.body);
  }

  test('Markdown images of our media become <picture> with AVIF and WebP sources, srcset, size, lazy loading and alt', async () => {
    const a = await upload(await jpeg(1400, 700), 'wide.jpg', 'The library alt');
    const b = await upload(await jpeg(800, 600, '#3a7'), 'small.jpg', 'Green field');
    await t.queue.drain();
    const path = new URL(a.url).pathname;
    const post = await publish('With pictures', `Intro.\n\n![Red band](${path})\n\nMiddle.\n\n![](${b.url})\n\n![Elsewhere](https://example.com/x.jpg)`);

    const doc = await page(post.slug);
    const pictures = doc.querySelectorAll('article .body picture');
    assert.equal(pictures.length, 2);

    const [first, second] = pictures;
    const types = first.querySelectorAll('source').map((s) => s.getAttribute('type'));
    assert.deepEqual(types, ['image/avif', 'image/webp']);
    for (const s of first.querySelectorAll('source')) {
      const widths = s
        .getAttribute('srcset')!
        .split(', ')
        .map((c) => Number(/ (\d+)w$/.exec(c)![1]));
      assert.deepEqual(widths, [320, 640, 960, 1280, 1400], 'up to the image itself, never upscaled');
      assert.ok(s.getAttribute('sizes'));
    }
    const img = first.querySelector('img')!;
    assert.equal(img.getAttribute('alt'), 'Red band', 'the Markdown alt wins');
    assert.equal(img.getAttribute('width'), '1400');
    assert.equal(img.getAttribute('height'), '700');
    assert.equal(img.getAttribute('loading'), undefined, 'the first image is not lazy');
    assert.equal(img.getAttribute('decoding'), 'async');
    assert.match(img.getAttribute('srcset')!, /\/media\/\S+-320w-\S+\.jpg 320w/);
    assert.ok(img.getAttribute('sizes'));
    // Every URL offered is served.
    for (const candidate of img.getAttribute('srcset')!.split(', ')) {
      const url = new URL(candidate.split(' ')[0], t.config.siteUrl);
      assert.equal((await t.app.inject({ method: 'GET', url: url.pathname })).statusCode, 200, url.pathname);
    }

    const img2 = second.querySelector('img')!;
    assert.equal(img2.getAttribute('alt'), 'Green field', "no Markdown alt: the image's own");
    assert.equal(img2.getAttribute('loading'), 'lazy');
    assert.equal(img2.getAttribute('width'), '800');
    assert.equal(img2.getAttribute('height'), '600');

    const foreign = doc.querySelectorAll('article .body img').find((i) => i.getAttribute('src') === 'https://example.com/x.jpg');
    assert.ok(foreign, 'an image from elsewhere stays a plain <img>');
    assert.equal(foreign.parentNode?.tagName, 'P');
  });

  test('before its variants exist, an image falls back to the stored image, still with its size', async () => {
    const m = await upload(await jpeg(600, 400), 'fresh.jpg');
    const post = await publish('Fresh picture', `![Fresh](${new URL(m.url).pathname})`);
    const img = (await page(post.slug)).querySelector('article .body picture img')!;
    const path = new URL(m.url).pathname;
    assert.equal(img.getAttribute('src'), path, 'our own files by path: the page origin serves them');
    assert.equal(img.getAttribute('srcset'), `${path} 600w`);
    assert.equal(img.getAttribute('width'), '600');
    assert.equal(img.getAttribute('height'), '400');
    assert.equal(img.getAttribute('alt'), 'Fresh');
  });

  test('alt text stays text: markup in it is escaped, not run', async () => {
    const m = await upload(await jpeg(300, 200), 'alt.jpg', '"><script>alert(1)</script>');
    await t.queue.drain();
    const post = await publish('Tricky alt', `![](${new URL(m.url).pathname}) and ![a "quoted" <b>alt</b>](${new URL(m.url).pathname})`);
    const res = await t.app.inject({ method: 'GET', url: `/posts/${post.slug}` });
    assert.doesNotMatch(res.body, /<script>alert/);
    const imgs = parse(res.body).querySelectorAll('article .body picture img');
    assert.equal(imgs[0].getAttribute('alt'), '"><script>alert(1)</script>');
    assert.equal(imgs[1].getAttribute('alt'), 'a "quoted" <b>alt</b>');
  });
});
