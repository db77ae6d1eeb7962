// The galleries admin: plain forms (no JavaScript) that make, change, order and
// delete galleries; bad input shows the form again with the problem and the input.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'node-html-parser';
import sharp from 'sharp';
import type { Dialect } from '../../platform/db/index.ts';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';

eachDatabase('galleries admin', (dialect: Dialect) => {
  let t: TestApp;
  let dir: string;
  let author: TestUser;
  let token: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-galleries-admin-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: dir } });
    author = await buildUser(t, { role: 'author' });
    token = await buildToken(t, author);
  });

  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function upload(alt: string, background: string): Promise<string> {
    const fd = new FormData();
    fd.append('alt', alt);
    const data = await sharp({ create: { width: 400, height: 300, channels: 3, background } })
      .jpeg()
      .toBuffer();
    fd.append('file', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), `${alt}.jpg`);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { authorization: `Bearer ${token}` }, payload: fd });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id;
  }

  const apiGallery = async (slug: string) => (await t.app.inject({ method: 'GET', url: `/api/v1/galleries/${slug}` })).json();

  test('make, reorder, caption and delete a gallery through the forms; bad input keeps what was typed', async () => {
    const boat = await upload('Boat', '#246');
    const pier = await upload('Pier', '#642');
    const gull = await upload('Gull', '#ccc');
    const c = new Client(t.app);
    await c.login(author.username, author.password);

    // Linked from the media library, and listed on /admin (for admins).
    assert.ok(parse((await c.get('/admin/media')).body).querySelector('main a[href="/admin/galleries"]'));
    const admin = await buildUser(t, { role: 'admin' });
    const ac = new Client(t.app);
    await ac.login(admin.username, admin.password);
    assert.match((await ac.get('/admin')).body, /href="\/admin\/galleries"/);
    assert.equal((await c.get('/admin/galleries')).status, 200);

    // The form offers the library: a checkbox, a place and a caption per image.
    const form = parse((await c.get('/admin/galleries/new')).body);
    for (const id of [boat, pier, gull]) {
      assert.ok(form.querySelector(`input[type=checkbox][name="use_${id}"]`), `a checkbox for ${id}`);
      assert.ok(form.querySelector(`input[name="order_${id}"]`));
      assert.ok(form.querySelector(`input[name="caption_${id}"]`));
    }

    // A place that is not a number: the form again, the problem named, everything kept.
    const typed = {
      title: 'Harbour',
      description: 'Morning at the quay.',
      [`use_${boat}`]: '1',
      [`order_${boat}`]: 'second',
      [`caption_${boat}`]: 'The blue boat',
      [`use_${gull}`]: '1',
      [`order_${gull}`]: '1',
    };
    const bad = await c.postForm('/admin/galleries', typed);
    assert.equal(bad.status, 422);
    const again = parse(bad.body);
    assert.match(again.querySelector('.error-summary')!.text, /Place of Boat must be a whole number/);
    assert.equal(again.querySelector('#title')!.getAttribute('value'), 'Harbour');
    assert.equal(again.querySelector('#description')!.text, 'Morning at the quay.');
    assert.equal(again.querySelector(`#caption_${boat}`)!.getAttribute('value'), 'The blue boat');
    assert.equal(again.querySelector(`#order_${boat}`)!.getAttribute('value'), 'second');
    assert.ok(again.querySelector(`#use_${gull}`)!.hasAttribute('checked'));
    assert.equal(again.querySelector(`#use_${pier}`)!.hasAttribute('checked'), false);

    // No title: the service's field error beside the title, input kept.
    const noTitle = await c.postForm('/admin/galleries', { ...typed, title: '  ', [`order_${boat}`]: '2' });
    assert.equal(noTitle.status, 422);
    assert.match(parse(noTitle.body).querySelector('#title-error')!.text, /Title is required/);
    assert.equal(parse(noTitle.body).querySelector(`#caption_${boat}`)!.getAttribute('value'), 'The blue boat');

    // The API's schema checks the form's command too: too long a caption is named at its image, as typed.
    const longCaption = 'c'.repeat(2001);
    const tooLong = await c.postForm('/admin/galleries', { ...typed, [`order_${boat}`]: '2', [`caption_${boat}`]: longCaption });
    assert.equal(tooLong.status, 422);
    assert.match(parse(tooLong.body).querySelector(`#image-${boat}-error`)!.text, /must be at most 2,000 characters/);
    assert.equal(parse(tooLong.body).querySelector(`#caption_${boat}`)!.getAttribute('value'), longCaption);

    // Without the CSRF token it is refused.
    assert.equal((await c.request('POST', '/admin/galleries', { form: { ...typed, [`order_${boat}`]: '2' } })).status, 403);

    // Saved: the gull first (place 1), then the boat with its caption.
    const saved = await c.postForm('/admin/galleries', { ...typed, [`order_${boat}`]: '2' });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.location, '/admin/galleries');
    let g = await apiGallery('harbour');
    assert.deepEqual(g.items, [
      { mediaId: gull, caption: '' },
      { mediaId: boat, caption: 'The blue boat' },
    ]);
    assert.equal(g.description, 'Morning at the quay.');
    const list = parse((await c.get('/admin/galleries')).body);
    assert.ok(list.querySelector('a[href="/admin/galleries/harbour/edit"]'));
    assert.match(list.text, /\[gallery:harbour\]/);

    // Editing shows the gallery's images first, ticked and in order.
    const edit = parse((await c.get('/admin/galleries/harbour/edit')).body);
    const ids = edit.querySelectorAll('ul.gallery-picker > li').map((li) => li.id.replace('image-', ''));
    assert.deepEqual(ids.slice(0, 2), [gull, boat]);
    assert.equal(edit.querySelector(`#order_${boat}`)!.getAttribute('value'), '2');
    assert.ok(edit.querySelector(`#use_${boat}`)!.hasAttribute('checked'));

    // A bad slug is named; a taken one too (409).
    const badSlug = await c.postForm('/admin/galleries/harbour', { title: 'Harbour', slug: 'Not a slug', [`use_${boat}`]: '1' });
    assert.equal(badSlug.status, 422);
    assert.match(parse(badSlug.body).querySelector('#slug-error')!.text, /lowercase letters/);
    assert.equal(parse(badSlug.body).querySelector('#slug')!.getAttribute('value'), 'Not a slug');
    await c.get('/admin/galleries/new');
    assert.equal((await c.postForm('/admin/galleries', { title: 'Quay', [`use_${pier}`]: '1' })).status, 303);
    await c.get('/admin/galleries/harbour/edit');
    const taken = await c.postForm('/admin/galleries/harbour', { title: 'Harbour', slug: 'quay' });
    assert.equal(taken.status, 409);
    assert.match(parse(taken.body).querySelector('#slug-error')!.text, /taken/);

    await c.get('/admin/galleries/harbour/edit');
    // Reordered, the gull dropped (unticked, its place left in), the pier added, a new title and slug.
    const changed = await c.postForm('/admin/galleries/harbour', {
      title: 'Harbour at dawn',
      slug: 'harbour-dawn',
      description: '',
      [`use_${pier}`]: '1',
      [`order_${pier}`]: '1',
      [`caption_${pier}`]: 'Old pier',
      [`use_${boat}`]: '1',
      [`order_${boat}`]: '2',
      [`caption_${boat}`]: '',
      [`order_${gull}`]: '3',
    });
    assert.equal(changed.status, 303);
    g = await apiGallery('harbour-dawn');
    assert.equal(g.title, 'Harbour at dawn');
    assert.deepEqual(g.items, [
      { mediaId: pier, caption: 'Old pier' },
      { mediaId: boat, caption: '' },
    ]);
    const pagePics = parse((await t.app.inject({ method: 'GET', url: '/galleries/harbour-dawn' })).body).querySelectorAll('ul.gallery-grid img');
    assert.deepEqual(
      pagePics.map((i) => i.getAttribute('alt')),
      ['Pier', 'Boat'],
    );

    // Someone else's gallery: not theirs to edit or delete; readers have no galleries admin.
    const other = await buildUser(t, { role: 'author' });
    const oc = new Client(t.app);
    await oc.login(other.username, other.password);
    assert.equal((await oc.get('/admin/galleries/harbour-dawn/edit')).status, 403);
    assert.equal((await oc.postForm('/admin/galleries/harbour-dawn/delete', {})).status, 403);
    const reader = await buildUser(t, { role: 'reader' });
    const rc = new Client(t.app);
    await rc.login(reader.username, reader.password);
    assert.equal((await rc.get('/admin/galleries')).status, 403);

    // Delete: the gallery goes, its images stay.
    await c.get('/admin/galleries');
    const deleted = await c.postForm('/admin/galleries/harbour-dawn/delete', {});
    assert.equal(deleted.status, 303);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/galleries/harbour-dawn' })).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/v1/media/${pier}` })).statusCode, 200);
  });
});
