import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../../test/support/smtp.ts';
import { apiRequest } from '../../../test/support/request.ts';

eachDatabase('follows, favourites and the personal feed', (dialect) => {
  let t: TestApp;
  let smtp: SmtpCatcher;
  let ann: TestUser, bob: TestUser, cat: TestUser;
  const tokens = new Map<number, string>();

  before(async () => {
    smtp = await startSmtpCatcher();
    t = await buildTestApp(dialect, { env: { SMTP_URL: smtp.url, SITE_URL: 'http://blog.test' } });
    [ann, bob, cat] = await Promise.all([buildUser(t, { role: 'author' }), buildUser(t, { role: 'author' }), buildUser(t, { role: 'reader' })]);
    for (const u of [ann, bob, cat]) tokens.set(u.id, await buildToken(t, u));
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const api = (u: TestUser | null, method: string, url: string, body?: unknown) =>
    apiRequest(t.app, method, url, { token: u ? tokens.get(u.id) : undefined, body });
  async function settle() {
    await t.queue.drain();
  }
  async function publish(u: TestUser, title: string) {
    const res = await api(u, 'POST', '/api/v1/posts', { title, body: `Body of ${title}`, status: 'published' });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: number; slug: string };
  }
  const notificationsOf = async (u: TestUser) =>
    (await api(u, 'GET', '/api/v1/notifications')).json().notifications as { kind: string; actor: { username: string }; message: string; url: string }[];
  async function browserFor(u: TestUser) {
    const c = new Client(t.app);
    assert.equal((await c.login(u.username, u.password)).status, 303);
    return c;
  }

  test('following is idempotent, counted, reversible, and tells the person followed once', async () => {
    let res = await api(cat, 'PUT', `/api/v1/users/${ann.username}/follow`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { username: ann.username, following: true, followers: 1, followingCount: 0 });
    res = await api(cat, 'PUT', `/api/v1/users/${ann.username}/follow`);
    assert.equal(res.json().followers, 1, 'a second follow changes nothing');
    assert.equal((await api(null, 'GET', `/api/v1/users/${ann.username}/follow`)).json().following, false);

    await settle();
    const mine = (await notificationsOf(ann)).filter((n) => n.kind === 'new_follower');
    assert.equal(mine.length, 1);
    assert.equal(mine[0].actor.username, cat.username);
    assert.match(mine[0].message, /started following you/);
    assert.equal(mine[0].url, `http://blog.test/@${cat.username}`);
    const mail = await smtp.waitFor((m) => m.to.includes(ann.email) && /started following you/.test(m.subject));
    assert.match(mail.text, new RegExp(`/@${cat.username}`));

    res = await api(cat, 'DELETE', `/api/v1/users/${ann.username}/follow`);
    assert.deepEqual(res.json(), { username: ann.username, following: false, followers: 0, followingCount: 0 });
    // Unfollowing and following again is no way to ping someone twice.
    await api(cat, 'PUT', `/api/v1/users/${ann.username}/follow`);
    await settle();
    assert.equal((await notificationsOf(ann)).filter((n) => n.kind === 'new_follower').length, 1);
    await api(cat, 'DELETE', `/api/v1/users/${ann.username}/follow`);
  });

  test('bad follows: yourself is a 422, nobody is a 404, anonymous is a 401', async () => {
    const self = await api(ann, 'PUT', `/api/v1/users/${ann.username}/follow`);
    assert.equal(self.statusCode, 422);
    assert.equal(self.json().errors[0].field, 'username');
    assert.equal((await api(ann, 'PUT', '/api/v1/users/nobody_here/follow')).statusCode, 404);
    assert.equal((await api(null, 'PUT', `/api/v1/users/${bob.username}/follow`)).statusCode, 401);
  });

  test("the feed holds followed authors' published posts only, newest first, by cursor", async () => {
    const reader = await buildUser(t, { role: 'reader' });
    tokens.set(reader.id, await buildToken(t, reader));
    const annPosts = [];
    for (let i = 1; i <= 3; i++) annPosts.push(await publish(ann, `Ann feed ${i}`));
    await publish(bob, 'Bob is not followed');
    await api(ann, 'POST', '/api/v1/posts', { title: 'Ann draft', body: 'secret', status: 'draft' });

    assert.deepEqual((await api(reader, 'GET', '/api/v1/feed')).json().posts, [], 'empty before following anyone');
    await api(reader, 'PUT', `/api/v1/users/${ann.username}/follow`);

    const first = (await api(reader, 'GET', '/api/v1/feed?limit=2')).json();
    assert.deepEqual(first.posts.map((p: { title: string }) => p.title).slice(0, 2), ['Ann feed 3', 'Ann feed 2']);
    assert.ok(first.nextCursor);
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { posts: { title: string }[]; nextCursor: string | null } = (
        await api(reader, 'GET', `/api/v1/feed?limit=2${cursor ? `&before=${cursor}` : ''}`)
      ).json();
      all.push(...page.posts.map((p: { title: string }) => p.title));
      cursor = page.nextCursor;
    } while (cursor);
    assert.ok(
      all.every((title) => title.startsWith('Ann ') && title !== 'Ann draft'),
      all.join(', '),
    );
    assert.equal(new Set(all).size, all.length, 'no post twice across pages');
    assert.ok(!all.includes('Bob is not followed'));

    assert.equal((await api(null, 'GET', '/api/v1/feed')).statusCode, 401);
    assert.equal((await api(reader, 'GET', '/api/v1/feed?before=nonsense')).statusCode, 400);
  });

  test('favourites: counted on the post, idempotent, shown per viewer, and the author hears once', async () => {
    const post = await publish(ann, 'Worth a favourite');
    let res = await api(cat, 'PUT', `/api/v1/posts/${post.id}/favorite`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().favoritesCount, 1);
    assert.equal(res.json().favorited, true);
    await api(cat, 'PUT', `/api/v1/posts/${post.slug}/favorite`);
    await api(bob, 'PUT', `/api/v1/posts/${post.slug}/favorite`);

    const seenByCat = (await api(cat, 'GET', `/api/v1/posts/${post.id}`)).json();
    assert.equal(seenByCat.favoritesCount, 2);
    assert.equal(seenByCat.favorited, true);
    const seenByAnon = (await api(null, 'GET', `/api/v1/posts/${post.id}`)).json();
    assert.equal(seenByAnon.favoritesCount, 2);
    assert.equal(seenByAnon.favorited, false);
    const listed = (await api(null, 'GET', '/api/v1/posts?limit=50')).json().posts.find((p: { id: number }) => p.id === post.id);
    assert.equal(listed.favoritesCount, 2);

    await settle();
    const favs = (await notificationsOf(ann)).filter((n) => n.kind === 'post_favorited');
    assert.deepEqual(favs.map((n) => n.actor.username).sort(), [bob.username, cat.username].sort());
    assert.match(favs[0].message, /favourited your post “Worth a favourite”/);

    res = await api(cat, 'DELETE', `/api/v1/posts/${post.id}/favorite`);
    assert.equal(res.json().favoritesCount, 1);
    assert.equal(res.json().favorited, false);
    await api(cat, 'PUT', `/api/v1/posts/${post.id}/favorite`);
    await settle();
    assert.equal((await notificationsOf(ann)).filter((n) => n.kind === 'post_favorited').length, 2, 'no second notice for a re-favourite');

    // Your own favourite is counted but is no news to you.
    await api(ann, 'PUT', `/api/v1/posts/${post.id}/favorite`);
    await settle();
    assert.equal((await notificationsOf(ann)).filter((n) => n.kind === 'post_favorited').length, 2);
  });

  test('drafts cannot be favourited, and nobody learns they exist', async () => {
    const draft = (await api(ann, 'POST', '/api/v1/posts', { title: 'Unfinished', body: 'x', status: 'draft' })).json();
    assert.equal((await api(cat, 'PUT', `/api/v1/posts/${draft.id}/favorite`)).statusCode, 404);
    assert.equal((await api(ann, 'PUT', `/api/v1/posts/${draft.id}/favorite`)).statusCode, 404);
    assert.equal((await api(null, 'PUT', `/api/v1/posts/${draft.id}/favorite`)).statusCode, 401);
  });

  test('notification preferences apply: "off" means no email for new followers', async () => {
    const quiet = await buildUser(t, { role: 'author' });
    tokens.set(quiet.id, await buildToken(t, quiet));
    assert.equal((await api(quiet, 'PUT', '/api/v1/me/notification-preferences', { new_follower: 'off' })).statusCode < 300, true);
    await api(cat, 'PUT', `/api/v1/users/${quiet.username}/follow`);
    await settle();
    assert.equal((await notificationsOf(quiet)).filter((n) => n.kind === 'new_follower').length, 1, 'still in the app');
    assert.equal(smtp.messages.filter((m) => m.to.includes(quiet.email)).length, 0, 'but no email');
  });

  test('HTML: follow from a profile, favourite from a post, read the feed; all plain forms', async () => {
    const post = await publish(bob, 'Bob writes in HTML land');
    const c = await browserFor(cat);

    let page = await c.get(`/@${bob.username}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /0 followers/);
    let res = await c.postForm(`/@${bob.username}/follow`, {});
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, `/@${bob.username}`);
    page = await c.get(`/@${bob.username}`);
    assert.match(page.body, /1 follower\b/);
    assert.match(page.body, /You follow @/);
    assert.match(page.body, /action="\/@[a-z0-9_]+\/unfollow"/);

    page = await c.get('/feed');
    assert.equal(page.status, 200);
    assert.match(page.body, /Bob writes in HTML land/);

    page = await c.get(`/posts/${post.slug}`);
    assert.match(page.body, /♥ 0 favourites/);
    res = await c.postForm(`/posts/${post.slug}/favorite`, {});
    assert.equal(res.status, 303);
    page = await c.get(`/posts/${post.slug}`);
    assert.match(page.body, /♥ 1 favourite\b/);
    assert.match(page.body, /aria-pressed="true"/);
    assert.match((await c.get('/posts')).body, /♥ 1/);

    await c.get(`/@${bob.username}`);
    await c.postForm(`/@${bob.username}/unfollow`, {});
    assert.doesNotMatch((await c.get('/feed')).body, /Bob writes in HTML land/);

    // Without the form's CSRF token nothing changes.
    const forged = await c.request('POST', `/posts/${post.slug}/unfavorite`, { form: {} });
    assert.equal(forged.status, 403);
    assert.match((await c.get(`/posts/${post.slug}`)).body, /♥ 1 favourite\b/);

    // Anonymous readers see counts and a way to log in, and /feed sends them to log in.
    const anon = new Client(t.app);
    assert.match((await anon.get(`/posts/${post.slug}`)).body, /Log in to favourite/);
    const feed = await anon.get('/feed');
    assert.equal(feed.status, 303);
    assert.match(String(feed.headers.location), /^\/login/);
  });
});
