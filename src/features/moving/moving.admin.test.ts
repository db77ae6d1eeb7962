import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildUser, type TestUser } from '../../../test/support/factories.ts';

const FIXTURE = new URL('../../../test/fixtures/wordpress/blog.xml', import.meta.url).pathname;
const GHOST_IMAGES = new URL('../../../test/fixtures/ghost/images.json', import.meta.url).pathname;

// The admin page is how most people will move in: upload the export, watch the
// job, read the report. A refused file must say why and import nothing.
eachDatabase('/admin/import', (dialect) => {
  let t: TestApp;
  let admin: TestUser;
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-admin-import-'));

  before(async () => {
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: join(dir, 'media') } });
    admin = await buildUser(t, { role: 'admin' });
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // What a browser sends for <form enctype="multipart/form-data">.
  async function upload(c: Client, fields: Record<string, string>, file?: { name: string; text: string }, headers: Record<string, string> = {}) {
    const fd = new FormData();
    for (const [k, v] of Object.entries(fields)) fd.append(k, v);
    if (file) fd.append('file', new Blob([file.text], { type: 'text/xml' }), file.name);
    const req = new Request('http://blog.test/admin/import', { method: 'POST', body: fd });
    const payload = Buffer.from(await req.arrayBuffer());
    const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return t.app.inject({ method: 'POST', url: '/admin/import', payload, headers: { 'content-type': req.headers.get('content-type')!, cookie, ...headers } });
  }
  const loggedIn = async () => {
    const c = new Client(t.app);
    await c.login(admin.username, admin.password);
    await c.get('/admin/import');
    return c;
  };
  const postCount = async () =>
    Number(
      (
        await t.db.kysely
          .selectFrom('posts')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  test('upload, the job runs, the page shows the report', async () => {
    const c = await loggedIn();
    assert.match((await c.get('/admin')).body, /href="\/admin\/import"/);
    const page = await c.get('/admin/import');
    assert.match(page.body, /enctype="multipart\/form-data"/);
    const res = await upload(c, { _csrf: c.csrf(), format: 'wordpress' }, { name: 'old-kitchen.xml', text: readFileSync(FIXTURE, 'utf8') });
    assert.equal(res.statusCode, 303);
    const runUrl = res.headers.location as string;
    assert.match(runUrl, /^\/admin\/import\/\d+$/);
    assert.match((await c.get(runUrl)).body, /State: <strong>queued<\/strong>/);
    await t.queue.drain();
    const done = await c.get(runUrl);
    assert.match(done.body, /State: <strong>succeeded<\/strong>/);
    assert.match(done.body, /posts\s+5 imported\s+0 updated\s+1 skipped/);
    assert.match(done.body, /pages\s+1 imported\s+0 updated\s+0 skipped/);
    assert.match(done.body, /Images: 0 imported into the media library, 0 already there, 2 failed/);
    assert.match((await c.get('/admin/import')).body, /old-kitchen\.xml<\/a><\/td><td>succeeded/);
    assert.equal((await t.app.inject({ method: 'GET', url: '/?p=123' })).headers.location, '/posts/whats-backend-development');
    assert.deepEqual(readdirSync(join(dir, 'media', 'private')), [], 'the upload is removed from the media storage once imported');
  });

  test("the old site's address from the form brings Ghost's own images into the media library", async () => {
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 9, g: 99, b: 199 } } })
      .jpeg()
      .toBuffer();
    const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg));
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const c = await loggedIn();
      const text = readFileSync(GHOST_IMAGES, 'utf8').replaceAll('http://IMAGES', base);
      const bad = await upload(c, { _csrf: c.csrf(), format: 'ghost', site_url: 'javascript:alert(1)' }, { name: 'ghost.json', text });
      assert.equal(bad.statusCode, 422);
      assert.match(bad.body, /Old site&#39;s address must be an http\(s\) address/);
      assert.match(bad.body, /value="javascript:alert\(1\)"/, 'the input is kept');
      const res = await upload(c, { _csrf: c.csrf(), format: 'ghost', site_url: base }, { name: 'ghost.json', text });
      assert.equal(res.statusCode, 303);
      await t.queue.drain();
      const done = await c.get(res.headers.location as string);
      assert.match(done.body, /State: <strong>succeeded<\/strong>/);
      assert.match(done.body, /Images: 3 imported into the media library, 0 already there, 0 failed/);
      const post = await t.db.kysely.selectFrom('posts').select('body').where('slug', '=', 'ghost-pictures').executeTakeFirstOrThrow();
      assert.doesNotMatch(post.body, /__GHOST_URL__/);
      const owner = await t.db.kysely.selectFrom('media').innerJoin('users', 'users.id', 'media.owner_id').select('users.username').execute();
      assert.deepEqual(
        owner.map((o) => o.username),
        ['gus', 'gus', 'gus'],
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('a hostile file fails with the reason, and imports nothing', async () => {
    const c = await loggedIn();
    const before = await postCount();
    const xxe = readFileSync(FIXTURE, 'utf8').replace('<rss', '<!DOCTYPE rss [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<rss').replace('Old Kitchen', '&e;');
    const res = await upload(c, { _csrf: c.csrf(), format: 'wordpress' }, { name: 'evil.xml', text: xxe });
    assert.equal(res.statusCode, 303);
    await t.queue.drain();
    const page = await c.get(res.headers.location as string);
    assert.match(page.body, /State: <strong>failed<\/strong>/);
    assert.match(page.body, /refused: the file declares a DOCTYPE/);
    assert.deepEqual(readdirSync(join(dir, 'media', 'private')), [], 'a refused upload is removed too');
    assert.match(page.body, /Nothing was imported/);
    assert.equal(await postCount(), before);
  });

  test('an upload that is gone when the job runs fails with the reason, not retried for ever', async () => {
    const c = await loggedIn();
    const res = await upload(c, { _csrf: c.csrf(), format: 'wordpress' }, { name: 'gone.xml', text: readFileSync(FIXTURE, 'utf8') });
    assert.equal(res.statusCode, 303);
    const job = await t.db.kysely.selectFrom('jobs').select('payload').where('type', '=', 'moving.import').orderBy('id', 'desc').executeTakeFirstOrThrow();
    rmSync(join(dir, 'media', JSON.parse(job.payload).key));
    await t.queue.drain();
    const page = await c.get(res.headers.location as string);
    assert.match(page.body, /State: <strong>failed<\/strong>/);
    assert.match(page.body, /uploaded file is gone/);
  });

  test('no file, no CSRF token, a claimed 2 GB body, a non-admin: refused with a clear answer', async () => {
    const c = await loggedIn();
    const missing = await upload(c, { _csrf: c.csrf(), format: 'wordpress' });
    assert.equal(missing.statusCode, 422);
    assert.match(missing.body, /File is required/);
    assert.match(missing.body, /<p class="field-error" id="file-error">File is required: choose the export file<\/p>/, 'beside its field');
    // The text fields by the command's schema: a format that is neither is named beside it, the address kept.
    const odd = await upload(c, { _csrf: c.csrf(), format: 'blogger', site_url: 'https://old.example' }, { name: 'a.xml', text: '<rss/>' });
    assert.equal(odd.statusCode, 422);
    assert.match(odd.body, /id="format-error">Format must be WordPress or Ghost/);
    assert.match(odd.body, /value="https:\/\/old.example"/);
    const ghost = await upload(c, { _csrf: c.csrf(), format: 'ghost', site_url: 'ftp://old.example' }, { name: 'a.json', text: '{}' });
    assert.equal(ghost.statusCode, 422);
    assert.match(ghost.body, /<option value="ghost" selected>/, 'the chosen format kept');
    assert.match(ghost.body, /id="site_url-error">Old site&#39;s address must be an http\(s\) address/);
    const forged = await upload(c, { format: 'wordpress' }, { name: 'a.xml', text: '<rss/>' });
    assert.equal(forged.statusCode, 403);
    const huge = await upload(c, { _csrf: c.csrf(), format: 'wordpress' }, { name: 'a.xml', text: '<rss/>' }, { 'content-length': String(2 * 1024 ** 3) });
    assert.equal(huge.statusCode, 413);
    assert.match(huge.body, /larger than 512 MB/);

    const author = await buildUser(t, { role: 'author' });
    const a = new Client(t.app);
    await a.login(author.username, author.password);
    assert.equal((await a.get('/admin/import')).status, 403);
    await a.get('/');
    const upl = await upload(a, { _csrf: a.csrf(), format: 'wordpress' }, { name: 'a.xml', text: '<rss/>' });
    assert.equal(upl.statusCode, 403);
  });
});
