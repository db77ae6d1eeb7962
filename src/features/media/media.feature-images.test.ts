// Featured images: chosen in the editor or through the API, shown on the post page
// and in lists, attached to feed entries, and protected from deletion while used.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'node-html-parser';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import sharp from 'sharp';
import type { Dialect } from '../../platform/db/index.ts';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';

/** Every element of a feed, read by a strict, namespace-aware XML parser (it throws on anything malformed). */
function xmlElements(xml: string): { uri: string; local: string; attrs: Record<string, string> }[] {
  const out: { uri: string; local: string; attrs: Record<string, string> }[] = [];
  const parser = new SaxesParser({ xmlns: true });
  parser.on('error', (e) => {
    throw e;
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    out.push({ uri: tag.uri, local: tag.local, attrs: Object.fromEntries(Object.values(tag.attributes).map((a) => [a.local, a.value])) });
  });
  parser.write(xml).close();
  return out;
}

eachDatabase('featured images', (dialect: Dialect) => {
  let t: TestApp;
  let dir: string;
  let author: TestUser;
  let token: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-feature-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: dir } });
    author = await buildUser(t, { role: 'author' });
    token = await buildToken(t, author);
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = () => ({ authorization: `Bearer ${token}` });
  async function upload(name: string, alt: string, width = 1000, height = 500) {
    const fd = new FormData();
    fd.append('alt', alt);
    const data = await sharp({ create: { width, height, channels: 3, background: '#468' } })
      .jpeg()
      .toBuffer();
    fd.append('file', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), name);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: auth(), payload: fd });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string; url: string; bytes: number; mime: string };
  }
  const api = (method: 'POST' | 'PATCH' | 'GET' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({
      method,
      url,
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: payload === undefined ? undefined : JSON.stringify(payload),
    });

  test('through the API: featureImage and featureImageAlt are kept, shown on the page, in lists and in both feeds', async () => {
    const m = await upload('cover.jpg', 'Blue cover');
    const inline = await upload('inline.jpg', 'Inline');
    await t.queue.drain();
    const created = await api('POST', '/api/v1/posts', {
      title: 'Covered',
      body: `Text.\n\n![](${inline.url})`,
      status: 'published',
      featureImage: m.id,
      featureImageAlt: 'A blue cover',
    });
    assert.equal(created.statusCode, 201, created.body);
    const post = created.json();
    assert.equal(post.featureImage, m.id);
    assert.equal(post.featureImageAlt, 'A blue cover');
    assert.deepEqual((await api('GET', `/api/v1/posts/${post.id}`)).json().featureImage, m.id);

    const doc = parse((await t.app.inject({ method: 'GET', url: `/posts/${post.slug}` })).body);
    const cover = doc.querySelector('article figure.feature-image picture img')!;
    assert.ok(cover, 'the featured image is on the page');
    assert.equal(cover.getAttribute('alt'), 'A blue cover');
    assert.equal(cover.getAttribute('width'), '1000');
    assert.equal(cover.getAttribute('height'), '500');
    assert.equal(cover.getAttribute('loading'), undefined, 'the cover is in view: not lazy');
    assert.match(cover.getAttribute('srcset')!, / 640w/);
    assert.equal(doc.querySelector('article .body picture img')!.getAttribute('loading'), 'lazy', 'below a cover, body images are lazy');

    const list = parse((await t.app.inject({ method: 'GET', url: '/' })).body);
    const thumb = list.querySelectorAll('.post-list article').find((a) => a.querySelector('h2')?.text === 'Covered')!;
    const thumbImg = thumb.querySelector('a.thumb picture img')!;
    assert.ok(thumbImg, 'the list shows a thumbnail');
    assert.equal(thumbImg.getAttribute('loading'), 'lazy');
    assert.equal(thumbImg.getAttribute('width'), '1000');

    const rss = xmlElements((await t.app.inject({ method: 'GET', url: '/feed.xml' })).body);
    const enclosure = rss.find((e) => e.local === 'enclosure')!;
    assert.deepEqual(enclosure.attrs, { url: m.url, length: String(m.bytes), type: 'image/jpeg' });
    const media = rss.find((e) => e.uri === 'http://search.yahoo.com/mrss/' && e.local === 'content')!;
    assert.equal(media.attrs.url, m.url);
    assert.equal(media.attrs.medium, 'image');
    const atom = xmlElements((await t.app.inject({ method: 'GET', url: '/atom.xml' })).body);
    const link = atom.find((e) => e.local === 'link' && e.attrs.rel === 'enclosure')!;
    assert.deepEqual(link.attrs, { rel: 'enclosure', type: 'image/jpeg', length: String(m.bytes), href: m.url });

    // In use: the image cannot be deleted, and the refusal names the post.
    const refused = await api('DELETE', `/api/v1/media/${m.id}`);
    assert.equal(refused.statusCode, 409);
    assert.match(refused.json().detail, /Covered \(featured image\)/);
    assert.match(refused.json().detail, new RegExp(`/posts/${post.slug}`));

    // A PATCH without the field keeps it; null removes it, and then the image may go.
    assert.equal((await api('PATCH', `/api/v1/posts/${post.id}`, { title: 'Covered still' })).json().featureImage, m.id);
    const cleared = await api('PATCH', `/api/v1/posts/${post.id}`, { featureImage: null });
    assert.equal(cleared.json().featureImage, null);
    assert.equal(cleared.json().featureImageAlt, '');
    assert.equal((await api('DELETE', `/api/v1/media/${m.id}`)).statusCode, 204);
  });

  test('an unknown featured image is a 422 naming the field; a malformed one too', async () => {
    for (const featureImage of ['nosuchimage', '../etc', 42]) {
      const res = await api('POST', '/api/v1/posts', { title: 'Bad cover', body: 'x', featureImage });
      assert.ok([400, 422].includes(res.statusCode), `${featureImage}: ${res.statusCode} ${res.body}`);
      assert.match(res.body, /featureImage/);
    }
  });

  test('the editor offers recent uploads as a choice and as Markdown to copy, without JavaScript', async () => {
    const m = await upload('form-cover.jpg', 'Form [cover]', 400, 300);
    const c = new Client(t.app);
    assert.equal((await c.login(author.username, author.password)).status, 303);
    const form = parse((await c.get('/posts/new')).body);
    const option = form.querySelectorAll('select[name=featureImage] option').find((o) => o.getAttribute('value') === m.id);
    assert.equal(option?.text, 'Form [cover]');
    const snippet = form.querySelectorAll('input.snippet').find((i) => i.getAttribute('value')?.includes(m.id));
    assert.equal(snippet?.getAttribute('value'), `![Form \\[cover\\]](${new URL(m.url).pathname})`);

    const res = await c.postForm('/posts', {
      title: 'Form cover',
      body: `Look:\n\n${snippet!.getAttribute('value')}`,
      status: 'published',
      featureImage: m.id,
      featureImageAlt: '',
    });
    assert.equal(res.status, 303, res.body);
    const page = parse((await c.get(String(res.headers.location))).body);
    assert.equal(page.querySelector('figure.feature-image img')!.getAttribute('alt'), 'Form [cover]', "empty alt: the image's own");
    assert.equal(page.querySelector('.body picture img')!.getAttribute('alt'), 'Form [cover]');

    // The edit form has it selected; a bad id comes back as the form, input kept.
    const edit = parse((await c.get('/posts/form-cover/edit')).body);
    assert.equal(edit.querySelector('select[name=featureImage] option[selected]')?.getAttribute('value'), m.id);
    const bad = await c.postForm('/posts/form-cover', { _method: 'PUT', title: 'Form cover', body: 'x', status: 'published', featureImage: 'missing1' });
    assert.equal(bad.status, 422);
    assert.match(bad.body, /Featured image is not an uploaded image/);
    assert.match(bad.body, /value="missing1" selected/);
  });
});
