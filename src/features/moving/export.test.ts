import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { after, before, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser } from '../../../test/support/factories.ts';
import { createSettings } from '../../platform/settings.ts';
import sharp from 'sharp';
import { createExporter, ImportRefused, standaloneServices } from './index.ts';

// Nobody should trust a platform they cannot leave: the export must hold the
// whole blog, and importing it into a fresh Inkwell must give the same blog back.
eachDatabase('export and import inkwell', (dialect) => {
  let a: TestApp, b: TestApp;
  let adminToken: string;
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-export-'));

  const exporterFor = (t: TestApp) =>
    createExporter({
      ...standaloneServices({ db: t.db, events: t.events, queue: t.queue, media: t.config.media, siteUrl: t.config.siteUrl }),
      site: { url: t.config.siteUrl },
    });

  before(async () => {
    a = await buildTestApp(dialect, { env: { MEDIA_DIR: join(dir, 'media-a') } });
    b = await buildTestApp(dialect, { env: { MEDIA_DIR: join(dir, 'media-b') } });
    const admin = await buildUser(a, { role: 'admin', username: 'the_admin', email: 'admin@blog.test' });
    const author = await buildUser(a, { role: 'author', username: 'writer', email: 'writer@blog.test' });
    adminToken = await buildToken(a, admin);
    const authorToken = await buildToken(a, author);
    const call = (token: string, method: string, url: string, body?: unknown) =>
      a.app.inject({
        method: method as 'POST',
        url,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        payload: body ? JSON.stringify(body) : undefined,
      });
    const p1 = (
      await call(adminToken, 'POST', '/api/v1/posts', {
        title: 'Old news',
        body: 'From **2019**.',
        status: 'published',
        publishedAt: '2019-05-06T09:00:00Z',
        tags: ['History', 'Zürich'],
        excerpt: 'Custom',
      })
    ).json();
    await call(authorToken, 'POST', '/api/v1/posts', { title: 'A draft', body: 'Unfinished' });
    await call(authorToken, 'POST', '/api/v1/posts', { title: 'Later', body: 'Soon', status: 'scheduled', publishedAt: '2099-01-01T00:00:00Z' });
    const c1 = (await call(authorToken, 'POST', `/api/v1/posts/${p1.id}/comments`, { body: 'First!' })).json();
    await call(adminToken, 'POST', `/api/v1/posts/${p1.id}/comments`, { body: 'A reply', parentId: c1.id });
    await call(adminToken, 'POST', '/api/v1/redirects', { from: '/old-home', to: '/posts/old-news', status: 302 });
    // An image in the library, with its words, used by a post (by its absolute URL and by its path).
    const fd = new FormData();
    const png = await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 0, g: 90, b: 200 } } })
      .png()
      .toBuffer();
    fd.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'harbour.png');
    const m = (await a.app.inject({ method: 'POST', url: '/api/v1/media', headers: { authorization: `Bearer ${authorToken}` }, payload: fd })).json();
    await call(authorToken, 'PATCH', `/api/v1/media/${m.id}`, { alt: 'The harbour at dawn', caption: 'Looking east', credit: 'Writer' });
    await call(authorToken, 'POST', '/api/v1/posts', {
      title: 'With a picture',
      body: `![The harbour](${m.url})\n\nAgain: ![again](${new URL(m.url).pathname})`,
      status: 'published',
    });
    // A page with the image as its sharing card, and a gallery of it, embedded in a post.
    await call(adminToken, 'POST', '/api/v1/pages', {
      title: 'About us',
      body: `We sail. ![boat](${m.url})`,
      description: 'Who we are',
      imageId: m.id,
      status: 'published',
    });
    await call(adminToken, 'POST', '/api/v1/pages', { title: 'Secret plans', body: 'Not yet', status: 'draft' });
    const g = await call(authorToken, 'POST', '/api/v1/galleries', {
      title: 'Harbour trip',
      description: 'One morning',
      items: [{ mediaId: m.id, caption: 'First light' }],
    });
    assert.equal(g.statusCode, 201, g.body);
    await call(authorToken, 'POST', '/api/v1/posts', {
      title: 'Trip report',
      body: 'Look:\n\n[gallery:harbour-trip]',
      status: 'published',
      featureImage: m.id,
      featureImageAlt: 'Boats at dawn',
    });
    await createSettings(a.db.kysely).set('site_name', 'Round Trip Blog');
  });
  after(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function snapshot(t: TestApp) {
    const db = t.db.kysely;
    const users = await db.selectFrom('users').select(['id', 'username', 'email', 'role', 'display_name']).orderBy('username').execute();
    const name = new Map(users.map((u) => [u.id, u.username]));
    const posts = await db.selectFrom('posts').selectAll().orderBy('slug').execute();
    const slugOf = new Map(posts.map((p) => [p.id, p.slug]));
    const tags = await db.selectFrom('post_tags').innerJoin('tags', 'tags.id', 'post_tags.tag_id').select(['post_id', 'name']).execute();
    const comments = await db.selectFrom('comments').selectAll().orderBy('created_at').orderBy('id').execute();
    // Images are stored again under new keys: a body names each by its file name, to compare.
    const media = await db.selectFrom('media').select(['id', 'storage_key', 'original_name']).execute();
    const mediaName = new Map(media.map((x) => [x.id, x.original_name]));
    const named = (text: string) => media.reduce((s, x) => s.split(x.storage_key).join(`<${x.original_name}>`), text);
    const bodyOf = new Map(comments.map((c) => [c.id, c.body]));
    return {
      users: users.map(({ id: _id, ...u }) => u),
      posts: posts.map((p) => ({
        slug: p.slug,
        title: p.title,
        body: named(p.body),
        bodyHtml: named(p.body_html),
        excerpt: p.custom_excerpt,
        status: p.status,
        created: p.created_at,
        updated: p.updated_at,
        published: p.published_at,
        publishAt: p.publish_at,
        featureImage: p.feature_image === null ? null : mediaName.get(p.feature_image),
        featureImageAlt: p.feature_image_alt,
        author: p.author_id === null ? null : name.get(p.author_id),
        tags: tags
          .filter((x) => x.post_id === p.id)
          .map((x) => x.name)
          .sort(),
      })),
      comments: comments.map((c) => ({
        post: slugOf.get(c.post_id),
        parent: c.parent_id === null ? null : bodyOf.get(c.parent_id),
        author: c.author_id === null ? c.author_name : name.get(c.author_id),
        body: c.body,
        status: c.status,
        created: c.created_at,
      })),
      pages: (await db.selectFrom('pages').selectAll().orderBy('slug').execute()).map((p) => ({
        slug: p.slug,
        title: p.title,
        body: named(p.body),
        description: p.description,
        status: p.status,
        image: p.image_id === null ? null : mediaName.get(p.image_id),
        author: p.author_id === null ? null : name.get(p.author_id),
        created: p.created_at,
        updated: p.updated_at,
      })),
      galleries: await Promise.all(
        (await db.selectFrom('galleries').selectAll().orderBy('slug').execute()).map(async (x) => ({
          slug: x.slug,
          title: x.title,
          description: x.description,
          owner: x.owner_id === null ? null : name.get(x.owner_id),
          created: x.created_at,
          updated: x.updated_at,
          items: (await db.selectFrom('gallery_items').selectAll().where('gallery_id', '=', x.id).orderBy('position').execute()).map((i) => ({
            image: mediaName.get(i.media_id),
            caption: i.caption,
          })),
        })),
      ),
      redirects: await db.selectFrom('redirects').select(['from_path', 'to_path', 'status']).orderBy('from_path').execute(),
      siteName: await createSettings(db).get('site_name'),
      media: (
        await db
          .selectFrom('media')
          .leftJoin('users', 'users.id', 'media.owner_id')
          .select(['original_name', 'alt', 'caption', 'credit', 'mime', 'width', 'height', 'media.created_at', 'users.username'])
          .orderBy('original_name')
          .execute()
      ).map((x) => ({ ...x })),
    };
  }

  test('GET /api/v1/export: admins only, a tar.gz with inkwell.json (no secrets) and Markdown per post', async () => {
    const author = await buildToken(a, await buildUser(a, { role: 'editor' }));
    assert.equal((await a.app.inject({ method: 'GET', url: '/api/v1/export', headers: { authorization: `Bearer ${author}` } })).statusCode, 403);
    assert.equal((await a.app.inject({ method: 'GET', url: '/api/v1/export' })).statusCode, 401);
    const res = await a.app.inject({ method: 'GET', url: '/api/v1/export', headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/gzip');
    assert.match(String(res.headers['content-disposition']), /attachment; filename="round-trip-blog-|attachment; filename="inkwell-/);
    writeFileSync(join(dir, 'blog.tar.gz'), res.rawPayload);
    const tarText = gunzipSync(res.rawPayload).toString('utf8');
    assert.match(tarText, /"format":"inkwell-export","version":2/);
    assert.match(tarText, /"pages":\[\{[^\]]*"title":"About us"/);
    assert.match(tarText, /"galleries":\[\{[^\]]*"items":\[\{"mediaId":"[A-Za-z0-9]+","caption":"First light"\}\]/);
    const gallery = await a.db.kysely.selectFrom('galleries').selectAll().executeTakeFirstOrThrow();
    const galleryImage = (await a.db.kysely.selectFrom('gallery_items').select('media_id').executeTakeFirstOrThrow()).media_id;
    const galleryJson = JSON.stringify({
      id: gallery.id,
      ownerId: gallery.owner_id,
      title: 'Harbour trip',
      slug: 'harbour-trip',
      description: 'One morning',
      items: [{ mediaId: galleryImage, caption: 'First light' }],
      createdAt: gallery.created_at,
      updatedAt: gallery.updated_at,
    });
    assert.ok(tarText.includes(`"galleries":[${galleryJson}],"redirects"`), 'the gallery, field for field');
    assert.match(tarText, /---\ntitle: About us\n[\s\S]*?---\n\nWe sail/, 'markdown/pages/about-us.md');
    const key = (await a.db.kysely.selectFrom('media').select('storage_key').executeTakeFirstOrThrow()).storage_key;
    assert.ok(tarText.includes(`media/${key}`), 'the image file is in the archive');
    assert.match(tarText, /"alt":"The harbour at dawn","caption":"Looking east","credit":"Writer"/);
    assert.doesNotMatch(tarText, /password_?hash|"password"|scrypt\$|session_secret|token_hash/i, 'no password hashes, tokens or secrets');
    const md = /---\ntitle: Old news\n[\s\S]*?---\n\nFrom \*\*2019\*\*\.\n/.exec(tarText);
    assert.ok(md, 'markdown/old-news.md with front matter');
    const front = parseYaml(md[0].split('---\n')[1]);
    assert.equal(front.date, '2019-05-06T09:00:00.000Z');
    assert.deepEqual(front.tags, ['History', 'Zürich']);
    assert.equal(front.draft, false);
  });

  test("inkwell.json's users, tags, posts, comments, pages and redirects, field for field and in order", async () => {
    const res = await a.app.inject({ method: 'GET', url: '/api/v1/export', headers: { authorization: `Bearer ${adminToken}` } });
    const tarText = gunzipSync(res.rawPayload).toString('utf8');
    const db = a.db.kysely;
    const users = await db.selectFrom('users').selectAll().orderBy('id').execute();
    const usersJson = JSON.stringify(
      users.map((u) => ({ id: u.id, email: u.email, username: u.username, displayName: u.display_name, role: u.role, bio: u.bio, createdAt: u.created_at })),
    );
    const tagsJson = JSON.stringify(await db.selectFrom('tags').select(['name', 'slug']).orderBy('slug').execute());
    assert.ok(tarText.includes(`"users":${usersJson},"tags":${tagsJson},"media":[`), 'users and tags');
    const postTags = await db.selectFrom('post_tags').innerJoin('tags', 'tags.id', 'post_tags.tag_id').select(['post_tags.post_id', 'tags.slug']).execute();
    const posts = (await db.selectFrom('posts').selectAll().orderBy('id').execute()).map((r) => ({
      id: r.id,
      authorId: r.author_id,
      title: r.title,
      slug: r.slug,
      body: r.body,
      customExcerpt: r.custom_excerpt,
      status: r.status,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      publishedAt: r.published_at,
      publishAt: r.publish_at,
      featureImage: r.feature_image,
      featureImageAlt: r.feature_image_alt,
      tags: postTags.filter((t) => t.post_id === r.id).map((t) => t.slug),
    }));
    const comments = (await db.selectFrom('comments').selectAll().orderBy('id').execute()).map((c) => ({
      id: c.id,
      postId: c.post_id,
      parentId: c.parent_id,
      authorId: c.author_id,
      authorName: c.author_name,
      body: c.body,
      status: c.status,
      createdAt: c.created_at,
    }));
    const pages = (await db.selectFrom('pages').selectAll().orderBy('id').execute()).map((r) => ({
      id: r.id,
      authorId: r.author_id,
      title: r.title,
      slug: r.slug,
      body: r.body,
      description: r.description,
      imageId: r.image_id,
      status: r.status,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
    assert.ok(comments.length >= 2 && pages.length === 2 && posts.length >= 2);
    const postsJson = JSON.stringify(posts).slice(1, -1);
    assert.ok(
      tarText.includes(`"posts":[${postsJson}],"comments":${JSON.stringify(comments)},"pages":${JSON.stringify(pages)},"galleries":[`),
      'posts, comments, pages',
    );
    const redirects = (await db.selectFrom('redirects').selectAll().orderBy('id').execute()).map((r) => ({
      from: r.from_path,
      to: r.to_path,
      status: r.status,
      source: r.source,
    }));
    assert.ok(redirects.length >= 1);
    assert.ok(tarText.includes(`],"redirects":${JSON.stringify(redirects)}}\n`), 'redirects, last');
  });

  test('importing the archive into a fresh Inkwell reproduces the blog', async () => {
    const exporter = exporterFor(b);
    const report = await exporter.importArchive(join(dir, 'blog.tar.gz'));
    assert.equal(report.counts.comments.imported, 2);
    assert.deepEqual(report.counts.media, { imported: 1, updated: 0, skipped: 0 });
    const [was, is] = [await snapshot(a), await snapshot(b)];
    assert.deepEqual(is.media, was.media, 'the image with its words and owner');
    assert.equal(is.media.length, 1);
    // The post's references lead to the image on the new blog.
    const post = await b.db.kysely.selectFrom('posts').select('body').where('slug', '=', 'with-a-picture').executeTakeFirstOrThrow();
    const newKey = (await b.db.kysely.selectFrom('media').select('storage_key').executeTakeFirstOrThrow()).storage_key;
    const paths = [...post.body.matchAll(/\]\(([^)]+)\)/g)].map((x) => new URL(x[1], 'http://x').pathname);
    assert.deepEqual(paths, [`/media/${newKey}`, `/media/${newKey}`]);
    const served = await b.app.inject({ method: 'GET', url: paths[0] });
    assert.equal(served.statusCode, 200);
    assert.equal(served.headers['content-type'], 'image/png');
    assert.deepEqual(is.posts, was.posts);
    assert.deepEqual(is.comments, was.comments);
    assert.deepEqual(is.redirects, was.redirects);
    assert.equal(is.pages.length, 2);
    assert.deepEqual(is.pages, was.pages, 'pages, drafts too, with their sharing image');
    assert.equal(is.galleries[0]?.items[0]?.image, 'harbour.png');
    assert.equal(is.posts.find((p) => p.slug === 'trip-report')?.featureImage, 'harbour.png', 'the featured image too');
    assert.deepEqual(is.galleries, was.galleries, 'the gallery with its image and caption');
    assert.deepEqual(report.counts.pages, { imported: 2, updated: 0, skipped: 0 });
    assert.deepEqual(report.counts.galleries, { imported: 1, updated: 0, skipped: 0 });
    // The embed shows the restored gallery; the page is served.
    assert.match((await b.app.inject({ method: 'GET', url: '/posts/trip-report' })).body, /First light/);
    assert.match((await b.app.inject({ method: 'GET', url: '/pages/about-us' })).body, /We sail/);
    assert.deepEqual(is.users, was.users);
    assert.equal(is.siteName, 'Round Trip Blog');
    const pw = await b.db.kysely.selectFrom('users').select('password_hash').where('username', '=', 'writer').executeTakeFirstOrThrow();
    assert.equal(pw.password_hash, null, 'people choose a new password on the new blog');
    // Again: nothing doubles.
    const again = await exporter.importArchive(join(dir, 'blog.tar.gz'));
    assert.deepEqual(again.counts.media, { imported: 0, updated: 1, skipped: 0 });
    assert.deepEqual((await snapshot(b)).posts, was.posts);
    assert.deepEqual(again.counts.pages, { imported: 0, updated: 2, skipped: 0 });
    assert.deepEqual((await snapshot(b)).pages, was.pages);
    assert.deepEqual((await snapshot(b)).galleries, was.galleries);
    assert.equal((await snapshot(b)).media.length, 1);
  });

  test('a version 1 archive (before media) is still read; a media entry outside media/<key> is ignored', async () => {
    const pack = tar.pack();
    const doc = { format: 'inkwell-export', version: 1, exportedAt: new Date().toISOString(), users: [], tags: [], posts: [], comments: [], redirects: [] };
    pack.entry({ name: 'inkwell.json' }, JSON.stringify(doc));
    pack.entry({ name: 'media/../escape.png' }, 'not here');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    writeFileSync(join(dir, 'v1.tar.gz'), gzipSync(Buffer.concat(chunks)));
    const report = await exporterFor(b).importArchive(join(dir, 'v1.tar.gz'));
    assert.deepEqual(report.counts.media, { imported: 0, updated: 0, skipped: 0 });
    assert.deepEqual(report.warnings, []);
    assert.equal(existsSync(join(tmpdir(), 'escape.png')), false);
  });

  test('anything but an export archive is refused', async () => {
    const exporter = exporterFor(b);
    writeFileSync(join(dir, 'not.tar.gz'), 'plain text');
    await assert.rejects(
      exporter.importArchive(join(dir, 'not.tar.gz')),
      (e: Error) => e instanceof ImportRefused && /not an Inkwell export archive/.test(e.message),
    );
  });
});
