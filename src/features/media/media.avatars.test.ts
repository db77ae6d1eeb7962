// Avatars: anyone signed in uploads one from /settings with a plain form; the
// profile shows it; the image is in use while it is the avatar.
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
import { buildToken, buildUser } from '../../../test/support/factories.ts';

/** What a browser keeps from a response: the flash message travels in a cookie. */
function keepCookies(c: Client, cookies: { name: string; value: string }[]) {
  for (const k of cookies) c.cookies.set(k.name, k.value);
}

eachDatabase('avatars', (dialect: Dialect) => {
  let t: TestApp;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-avatars-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: dir } });
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a reader uploads an avatar on /settings; the profile shows it; it cannot be deleted while used', async () => {
    const reader = await buildUser(t, { role: 'reader' });
    const c = new Client(t.app);
    assert.equal((await c.login(reader.username, reader.password)).status, 303);
    const settings = parse((await c.get('/settings')).body);
    const form = settings.querySelector('form[action="/media/avatar"]')!;
    assert.ok(form, 'the settings page has the avatar form');
    assert.equal(form.getAttribute('enctype'), 'multipart/form-data');

    const fd = new FormData();
    fd.append('_csrf', c.csrf());
    const data = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#fa0' } })
      .png()
      .toBuffer();
    fd.append('file', new Blob([new Uint8Array(data)], { type: 'image/png' }), 'me.png');
    const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await t.app.inject({ method: 'POST', url: '/media/avatar', headers: { cookie, origin: t.config.siteUrl }, payload: fd });
    assert.equal(res.statusCode, 303, res.body);
    keepCookies(c, res.cookies);
    const after = (await c.get('/settings')).body;
    assert.match(after, /Avatar updated/, /class="flash[^<]*/.exec(after)?.[0]);

    const profile = parse((await c.get(`/@${reader.username}`)).body);
    const src = profile.querySelector('img.avatar')?.getAttribute('src') ?? '';
    assert.match(src, /\/media\/[A-Za-z0-9]+-[0-9a-f]{16}\.png$/);
    const id = /\/media\/([A-Za-z0-9]+)-/.exec(src)![1];

    // Beside the reader's comments too.
    const writer = await buildToken(t, await buildUser(t, { role: 'author' }));
    const post = await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ title: 'Talk to me', body: 'Hello.', status: 'published' }),
    });
    await c.get(`/posts/${post.json().slug}`);
    assert.equal((await c.postForm(`/posts/${post.json().slug}/comments`, { body: 'Nice one.', website: '' })).status, 303);
    const thread = parse((await c.get(`/posts/${post.json().slug}`)).body);
    assert.equal(thread.querySelector('li.comment img.avatar-small')?.getAttribute('src'), src);

    const admin = await buildToken(t, await buildUser(t, { role: 'admin' }));
    const refused = await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: { authorization: `Bearer ${admin}` } });
    assert.equal(refused.statusCode, 409);
    assert.match(refused.json().detail, new RegExp(`avatar of "@${reader.username}"`));

    // A typed address replaces the uploaded avatar, which is then free to go.
    await c.get('/settings');
    const typed = await c.postForm('/settings/profile', { displayName: reader.username, bio: '', avatarUrl: 'https://example.com/me.png' });
    assert.equal(typed.status, 303, typed.body);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: { authorization: `Bearer ${admin}` } })).statusCode, 204);
  });

  test('a bad avatar file leaves the avatar as it was and says why', async () => {
    const user = await buildUser(t, { role: 'reader' });
    const c = new Client(t.app);
    await c.login(user.username, user.password);
    await c.get('/settings');
    const fd = new FormData();
    fd.append('_csrf', c.csrf());
    fd.append('file', new Blob([new Uint8Array(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))], { type: 'image/png' }), 'x.png');
    const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await t.app.inject({ method: 'POST', url: '/media/avatar', headers: { cookie, origin: t.config.siteUrl }, payload: fd });
    assert.equal(res.statusCode, 303);
    keepCookies(c, res.cookies);
    const page = (await c.get('/settings')).body;
    assert.match(page, /Avatar not changed: .*SVG/);
    assert.equal(parse((await c.get(`/@${user.username}`)).body).querySelector('img.avatar'), null);
  });
});
