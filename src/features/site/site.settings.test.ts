import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseFeed } from '@rowanmanning/feed-parser';
import { parse } from 'node-html-parser';
import sharp from 'sharp';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

eachDatabase('site settings', (dialect) => {
  let t: TestApp;
  let admin: TestUser;
  let adminToken: string;
  let authorToken: string;
  let logoId: string;

  before(async () => {
    t = await buildTestApp(dialect, { env: { SITE_URL: 'https://blog.example.test' } });
    admin = await buildUser(t, { role: 'admin' });
    adminToken = await buildToken(t, admin);
    authorToken = await buildToken(t, await buildUser(t, { role: 'author' }));
    await apiRequest(t.app, 'POST', '/api/v1/posts', { token: authorToken, body: { title: 'A settled post', body: 'Some words.', status: 'published' } });
    const fd = new FormData();
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    fd.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'logo.png');
    fd.append('alt', 'The logo');
    const up = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { authorization: `Bearer ${adminToken}` }, payload: fd });
    assert.equal(up.statusCode, 201, up.body);
    logoId = up.json().id;
  });
  after(() => t.close());

  const patch = (body: unknown, token = adminToken) => apiRequest(t.app, 'PATCH', '/api/v1/site', { token, body });

  test('admins read and change the settings through the API; others may not', async () => {
    const got = await apiRequest(t.app, 'GET', '/api/v1/site', { token: adminToken });
    assert.equal(got.statusCode, 200);
    assert.equal(got.json().name, 'Inkwell');
    assert.equal(got.json().signupRole, 'reader', 'new accounts are readers unless the admin says otherwise');
    assert.equal(got.json().commenting, 'verified');
    assert.equal((await apiRequest(t.app, 'GET', '/api/v1/site', { token: authorToken })).statusCode, 403);
    assert.equal((await apiRequest(t.app, 'GET', '/api/v1/site')).statusCode, 401);
    assert.equal((await patch({ name: 'Mine' }, authorToken)).statusCode, 403);

    const res = await patch({
      name: 'The Lighthouse',
      description: 'Notes from the coast & beyond',
      logoId,
      faviconId: logoId,
      accentColor: '#AA3300',
      language: 'de-at',
      timeZone: 'Europe/Berlin',
      postsPerPage: 5,
      footerText: 'Written by the sea',
      socialLinks: [{ label: 'Mastodon', url: 'https://social.example/@light' }],
    });
    assert.equal(res.statusCode, 200, res.body);
    const s = res.json();
    assert.equal(s.name, 'The Lighthouse');
    assert.equal(s.accentColor, '#aa3300');
    assert.equal(s.language, 'de-AT');
    assert.equal(s.logo.id, logoId);
    assert.match(s.logo.url, /^https:\/\/blog\.example\.test\/media\//);
  });

  test('bad values are a 422 naming each field, and nothing is stored', async () => {
    const res = await patch({
      name: '  ',
      accentColor: 'red',
      language: 'not a tag!',
      timeZone: 'Mars/Olympus',
      logoId: 'nope',
      socialLinks: [{ label: 'x', url: 'javascript:alert(1)' }],
    });
    assert.equal(res.statusCode, 422);
    assert.match(String(res.headers['content-type']), /problem\+json/);
    const fields = res
      .json()
      .errors.map((e: { field: string }) => e.field)
      .sort();
    assert.deepEqual(fields, ['accentColor', 'language', 'logoId', 'name', 'socialLinks', 'timeZone']);
    assert.equal((await apiRequest(t.app, 'GET', '/api/v1/site', { token: adminToken })).json().name, 'The Lighthouse');
    const unknown = await patch({ colour: '#fff' });
    assert.equal(unknown.statusCode, 422, 'an unknown field is refused');
    // Each link's problem names the list and the link, as the form shows it beside its textarea.
    const long = await patch({ navigation: [{ label: 'x'.repeat(61), url: '/a' }], postsPerPage: 0 });
    assert.deepEqual(long.json().errors, [
      { field: 'postsPerPage', message: 'must be at least 1' },
      { field: 'navigation', message: 'link 1 needs a label of 1 to 60 characters' },
    ]);
  });

  test('pages show the settings: title, header, language, accent, icon, footer and social links', async () => {
    const doc = parse((await t.app.inject({ url: '/' })).body);
    assert.equal(doc.querySelector('html')!.getAttribute('lang'), 'de-AT');
    assert.equal(doc.querySelector('title')!.text, 'The Lighthouse');
    assert.match(doc.querySelector('header .brand')!.text, /The Lighthouse/);
    assert.match(doc.querySelector('header .brand img')!.getAttribute('src')!, /\/media\//);
    assert.match(doc.querySelector('link[rel=icon]')!.getAttribute('href')!, /\/media\//);
    assert.match(
      doc
        .querySelectorAll('style')
        .map((s) => s.text)
        .join(''),
      /--accent: #aa3300/,
    );
    assert.equal(doc.querySelector('footer .footer-text')!.text, 'Written by the sea');
    const social = doc.querySelector('footer .social a')!;
    assert.equal(social.getAttribute('href'), 'https://social.example/@light');
    assert.equal(social.text, 'Mastodon');
    const post = parse((await t.app.inject({ url: '/posts/a-settled-post' })).body);
    assert.equal(post.querySelector('title')!.text, 'A settled post · The Lighthouse');
  });

  test('feeds carry the name, description, language, icon and logo', async () => {
    const rssRes = await t.app.inject({ url: '/feed.xml' });
    const rss = parseFeed(rssRes.body);
    assert.equal(rss.title, 'The Lighthouse');
    assert.equal(rss.description, 'Notes from the coast & beyond');
    assert.equal(rss.language, 'de-AT');
    assert.match(rss.image?.url ?? '', /^https:\/\/blog\.example\.test\/media\//);
    const atomRes = await t.app.inject({ url: '/atom.xml' });
    const atom = parseFeed(atomRes.body);
    assert.equal(atom.title, 'The Lighthouse');
    assert.equal(atom.description, 'Notes from the coast & beyond');
    assert.match(atom.image?.url ?? '', /^https:\/\/blog\.example\.test\/media\//);
    assert.match(atomRes.body, /<icon>https:\/\/blog\.example\.test\/media\//);
    assert.match(atomRes.body, /xml:lang="de-AT"/);
  });

  test('the OpenAPI document is titled after the blog and lists /site', async () => {
    const doc = (await t.app.inject({ url: '/api/v1/openapi.json' })).json();
    assert.equal(doc.info.title, 'The Lighthouse API');
    assert.match(doc.info.description, /Notes from the coast/);
    assert.ok(doc.paths['/api/v1/site']?.get && doc.paths['/api/v1/site']?.patch);
  });

  test('a second instance on the same database shows a change at its next request', async () => {
    const other = await buildTestApp(dialect, { sameDbAs: t, env: { SITE_URL: 'https://blog.example.test' } });
    try {
      assert.match((await other.app.inject({ url: '/' })).body, /<title>The Lighthouse<\/title>/);
      assert.equal((await patch({ name: 'The Second Lighthouse' })).statusCode, 200);
      assert.match((await other.app.inject({ url: '/' })).body, /<title>The Second Lighthouse<\/title>/);
    } finally {
      await other.close();
    }
  });

  test('the logo counts as a use of its image: the library will not delete it', async () => {
    const res = await apiRequest(t.app, 'DELETE', `/api/v1/media/${logoId}`, { token: adminToken });
    assert.equal(res.statusCode, 409, res.body);
    assert.match(res.body, /logo/);
  });

  test('/admin/site: a plain form with CSRF; bad input shows the form again with the input kept', async () => {
    const c = new Client(t.app);
    await c.login(admin.username, admin.password);
    const form = await c.get('/admin/site');
    assert.equal(form.status, 200);
    const page = parse(form.body);
    assert.equal(page.querySelector('meta[name=robots]')?.getAttribute('content'), 'noindex');
    assert.equal(page.querySelector('#name')!.getAttribute('value'), 'The Second Lighthouse');

    const noCsrf = await c.request('POST', '/admin/site', { form: { name: 'Sneaky' }, headers: { origin: 'https://blog.example.test' } });
    assert.equal(noCsrf.status, 403);

    await c.get('/admin/site');
    const bad = await c.postForm('/admin/site', {
      name: 'Kept name',
      accentColor: 'blue',
      postsPerPage: '0',
      timeZone: 'Mars/Olympus',
      socialLinks: 'Home | ftp://x',
      navigation: 'About | /pages/about',
    });
    assert.equal(bad.status, 422);
    const again = parse(bad.body);
    // Every wrong field at once, in the form's order: the schema's refusals and the service's.
    assert.deepEqual(
      again.querySelectorAll('.error-summary li').map((li) => li.text),
      [
        'Accent colour must be a colour like #2451b7',
        'Time zone must be an IANA time zone such as UTC or Europe/Berlin',
        'Posts per page must be at least 1',
        'Social links link 1 needs an http(s) address',
      ],
    );
    assert.equal(again.querySelector('#socialLinks')!.getAttribute('aria-invalid'), 'true');
    assert.equal(again.querySelector('#socialLinks')!.text, 'Home | ftp://x');
    assert.equal(again.querySelector('#timeZone')!.getAttribute('value'), 'Mars/Olympus');
    assert.equal(again.querySelector('#name')!.getAttribute('value'), 'Kept name');
    assert.equal(again.querySelector('#accentColor')!.getAttribute('value'), 'blue');
    assert.equal(again.querySelector('#accentColor')!.getAttribute('aria-invalid'), 'true');
    assert.equal(again.querySelector('#navigation')!.text, 'About | /pages/about');
    assert.ok(again.querySelector('.error-summary'));

    await c.get('/admin/site');
    const good = await c.postForm('/admin/site', {
      name: 'Harbour Notes',
      description: 'Boats.',
      accentColor: '#114477',
      language: 'en-GB',
      timeZone: 'UTC',
      postsPerPage: '10',
      footerText: '',
      socialLinks: '',
      navigation: 'About | /pages/about\r\n\r\nNews | Views | /tags/news',
      signupMode: 'open',
      signupRole: 'author',
      commenting: 'signed-in',
      logoId: '',
      faviconId: '',
    });
    assert.equal(good.status, 303);
    const s = (await apiRequest(t.app, 'GET', '/api/v1/site', { token: adminToken })).json();
    assert.equal(s.name, 'Harbour Notes');
    assert.equal(s.signupRole, 'author');
    assert.equal(s.logo, null);
    assert.deepEqual(s.navigation, [
      { label: 'About', url: '/pages/about' },
      { label: 'News | Views', url: '/tags/news' },
    ]);
    await patch({ signupRole: 'reader', commenting: 'verified' });
  });
});

eachDatabase('who may sign up as what, and who may comment', (dialect) => {
  let t: TestApp;
  let adminToken: string;
  let postId: number;

  before(async () => {
    t = await buildTestApp(dialect, { env: { SITE_URL: 'https://blog.example.test' } });
    adminToken = await buildToken(t, await buildUser(t, { role: 'admin' }));
    const author = await buildToken(t, await buildUser(t, { role: 'author' }));
    postId = (await apiRequest(t.app, 'POST', '/api/v1/posts', { token: author, body: { title: 'Open for comments', body: 'x', status: 'published' } })).json()
      .id;
  });
  after(() => t.close());

  const signup = async (name: string) => {
    const res = await apiRequest(t.app, 'POST', '/api/v1/users', {
      body: { email: `${name}@example.test`, username: name, password: 'a long passphrase' },
      ip: '203.0.113.9',
    });
    assert.equal(res.statusCode, 201, res.body);
  };
  const roleOf = async (name: string) => (await t.db.kysely.selectFrom('users').select('role').where('username', '=', name).executeTakeFirstOrThrow()).role;

  test('an open sign-up makes a reader, who cannot publish; the admin may choose author', async () => {
    await signup('newreader');
    assert.equal(await roleOf('newreader'), 'reader');
    assert.equal((await apiRequest(t.app, 'PATCH', '/api/v1/site', { token: adminToken, body: { signupRole: 'author' } })).statusCode, 200);
    await signup('newauthor');
    assert.equal(await roleOf('newauthor'), 'author');
  });

  test("emails carry the blog's name as it is now, even when another instance renamed it", async () => {
    const other = await buildTestApp(dialect, { sameDbAs: t, env: { SITE_URL: 'https://blog.example.test' } });
    try {
      assert.equal((await apiRequest(other.app, 'PATCH', '/api/v1/site', { token: adminToken, body: { name: 'Renamed Elsewhere' } })).statusCode, 200);
    } finally {
      await other.close();
    }
    await signup('mailedreader');
    const mail = await t.db.kysely.selectFrom('mail_outbox').select('subject').where('to_address', '=', 'mailedreader@example.test').executeTakeFirstOrThrow();
    assert.equal(mail.subject, 'Confirm your email address for Renamed Elsewhere');
  });

  test('posts per page applies to the front page', async () => {
    const author = await buildToken(t, await buildUser(t, { role: 'author' }));
    await apiRequest(t.app, 'POST', '/api/v1/posts', { token: author, body: { title: 'Second post', body: 'x', status: 'published' } });
    const count = async () => parse((await t.app.inject({ url: '/' })).body).querySelectorAll('.post-list > li').length;
    assert.ok((await count()) >= 2);
    await apiRequest(t.app, 'PATCH', '/api/v1/site', { token: adminToken, body: { postsPerPage: 1 } });
    assert.equal(await count(), 1);
    await apiRequest(t.app, 'PATCH', '/api/v1/site', { token: adminToken, body: { postsPerPage: 20 } });
  });

  test('the RealWorld adapter still registers writers', async () => {
    await apiRequest(t.app, 'PATCH', '/api/v1/site', { token: adminToken, body: { signupRole: 'reader' } });
    const res = await apiRequest(t.app, 'POST', '/realworld/api/users', {
      body: { user: { email: 'rw@example.test', username: 'rwwriter', password: 'a long passphrase' } },
      ip: '203.0.113.10',
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(await roleOf('rwwriter'), 'author');
  });

  test('who may comment: verified accounts by default, everyone signed in, or nobody', async () => {
    const unverified = await buildUser(t, { role: 'reader' });
    await t.db.kysely.updateTable('users').set({ email_verified_at: null }).where('id', '=', unverified.id).execute();
    const token = await buildToken(t, unverified);
    const verified = await buildToken(t, await buildUser(t, { role: 'reader' }));
    const comment = (tk: string) => apiRequest(t.app, 'POST', `/api/v1/posts/${postId}/comments`, { token: tk, body: { body: 'Hello there' } });
    assert.equal((await comment(token)).json().code, 'email_unverified');
    await apiRequest(t.app, 'PATCH', '/api/v1/site', { token: adminToken, body: { commenting: 'signed-in' } });
    assert.equal((await comment(token)).statusCode, 201);
    await apiRequest(t.app, 'PATCH', '/api/v1/site', { token: adminToken, body: { commenting: 'nobody' } });
    const closed = await comment(verified);
    assert.equal(closed.statusCode, 403);
    assert.match(closed.json().detail, /closed/);
    const page = await t.app.inject({ url: '/posts/open-for-comments' });
    assert.match(page.body, /Comments are closed\./, 'the post page offers no form');
    await apiRequest(t.app, 'PATCH', '/api/v1/site', { token: adminToken, body: { commenting: 'verified' } });
  });
});
