// The RealWorld (Conduit) API contract, part 1: users, authentication, profiles, CORS.
// Written from the spec (../shared/realworld/openapi.yml) and issue 7; articles are in
// realworld.articles.test.ts, comments and tags in realworld.comments.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { assertExact, assertFieldError, assertProfile, BASE, CREDENTIALS_INVALID, RealWorldClient, TOKEN_MISSING, uniq } from './realworld.test-client.ts';

eachDatabase('RealWorld API: users, auth and profiles', (dialect) => {
  let t: TestApp;
  let rw: RealWorldClient;

  before(async () => {
    t = await buildTestApp(dialect);
    rw = new RealWorldClient(t);
  });
  after(() => t.close());

  test('registration answers 201 with {"user":…}, bio and image empty strings (never null), and a token that works', async () => {
    const username = `reg${uniq()}`;
    const email = `${username}@example.test`;
    const res = await rw.registerRaw({ username, email, password: 'a-long-Passw0rd!' });
    assert.equal(res.status, 201, res.text);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const user = res.body.user;
    assert.equal(user.username, username);
    assert.equal(user.email, email);
    assert.equal(user.bio, '');
    assert.equal(user.image, '');
    assert.equal(typeof user.token, 'string');
    assert.ok(user.token.length > 0);

    const me = await rw.get('/user', user.token);
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.user.username, username);
    assert.equal(me.body.user.email, email);
    assert.equal(me.body.user.bio, '');
    assert.equal(me.body.user.image, '');
    assert.equal(typeof me.body.user.token, 'string');
  });

  test('login answers 200 with a working token; wrong credentials are 401 credentials invalid', async () => {
    const u = await rw.register();
    const ok = await rw.login(u.email, u.password);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.user.username, u.username);
    assert.equal(ok.body.user.email, u.email);
    assert.equal(ok.body.user.bio, '');
    assert.equal(ok.body.user.image, '');
    const me = await rw.get('/user', ok.body.user.token);
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.user.username, u.username);

    assertExact(await rw.login(u.email, `${u.password}-wrong`), 401, CREDENTIALS_INVALID);
    assertExact(await rw.login(`nobody-${uniq()}@example.test`, u.password), 401, CREDENTIALS_INVALID);
  });

  test('login with a blank email or password is 422 naming the field', async () => {
    const u = await rw.register();
    assertFieldError(await rw.login('', u.password), 422, 'email', "can't be blank");
    assertFieldError(await rw.login(u.email, ''), 422, 'password', "can't be blank");
  });

  test('a taken email or username is 409 naming the field', async () => {
    const u = await rw.register();
    const other = `tk${uniq()}`;
    const sameEmail = await rw.registerRaw({ username: other, email: u.email, password: 'another-Passw0rd!' });
    assertFieldError(sameEmail, 409, 'email');
    const sameUsername = await rw.registerRaw({ username: u.username, email: `${other}@example.test`, password: 'another-Passw0rd!' });
    assertFieldError(sameUsername, 409, 'username');
    // Neither attempt created an account.
    assert.equal((await rw.login(`${other}@example.test`, 'another-Passw0rd!')).status, 401);
  });

  test('blank or missing registration fields are 422 keyed by field', async () => {
    const n = uniq();
    const good = { username: `bl${n}`, email: `bl${n}@example.test`, password: 'a-long-Passw0rd!' };
    assertExact(await rw.registerRaw({ ...good, email: '' }), 422, { errors: { email: ["can't be blank"] } });
    assertFieldError(await rw.registerRaw({ ...good, username: '' }), 422, 'username', "can't be blank");
    assertFieldError(await rw.registerRaw({ ...good, password: '' }), 422, 'password', "can't be blank");
    const { email: _e, ...noEmail } = good;
    assertFieldError(await rw.registerRaw(noEmail), 422, 'email');
    const { username: _u, ...noUsername } = good;
    assertFieldError(await rw.registerRaw(noUsername), 422, 'username');
    const all = await rw.registerRaw({ username: '', email: '', password: '' });
    assert.equal(all.status, 422, all.text);
    for (const f of ['username', 'email', 'password']) assertFieldError(all, 422, f);
    // None of these made an account: the good one still registers.
    assert.equal((await rw.registerRaw(good)).status, 201);
  });

  test('PUT /user updates bio, image and username (email once confirmed); "" comes back as "" (never null)', async () => {
    const u = await rw.register();
    const image = 'https://images.example.test/me.png';
    const res = await rw.call('PUT', '/user', { token: u.token, body: { user: { bio: 'I write things.', image } } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.user.bio, 'I write things.');
    assert.equal(res.body.user.image, image);
    assert.equal(res.body.user.username, u.username);
    assert.equal(res.body.user.email, u.email);
    const token = res.body.user.token as string;
    assert.equal(typeof token, 'string');

    const me = (await rw.get('/user', token)).body.user;
    assert.equal(me.bio, 'I write things.');
    assert.equal(me.image, image);
    const profile = (await rw.get(`/profiles/${u.username}`)).body.profile;
    assert.equal(profile.bio, 'I write things.');
    assert.equal(profile.image, image);

    const cleared = await rw.call('PUT', '/user', { token, body: { user: { bio: '', image: '' } } });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.body.user.bio, '');
    assert.equal(cleared.body.user.image, '');
    const again = (await rw.get('/user', cleared.body.user.token)).body.user;
    assert.equal(again.bio, '');
    assert.equal(again.image, '');

    const n = uniq();
    const renamed = await rw.call('PUT', '/user', { token: cleared.body.user.token, body: { user: { username: `nu${n}`, email: `nu${n}@example.test` } } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.user.username, `nu${n}`);
    // A new email waits for confirmation from that address (a token alone must not move the account).
    assert.equal(renamed.body.user.email, u.email, 'the current email stays until the new one is confirmed');
    const now = await rw.get('/user', renamed.body.user.token);
    assert.equal(now.status, 200, now.text);
    assert.equal(now.body.user.username, `nu${n}`);
    assert.equal((await rw.get(`/profiles/nu${n}`)).status, 200);
    assert.equal((await rw.login(u.email, u.password)).status, 200, 'the current email still logs in');
  });

  test('PUT /user: a taken email or username is 409', async () => {
    const [a, b] = [await rw.register(), await rw.register()];
    assertFieldError(await rw.call('PUT', '/user', { token: a.token, body: { user: { email: b.email } } }), 409, 'email');
    assertFieldError(await rw.call('PUT', '/user', { token: a.token, body: { user: { username: b.username } } }), 409, 'username');
    const me = (await rw.get('/user', a.token)).body.user;
    assert.equal(me.email, a.email);
    assert.equal(me.username, a.username);
  });

  test('PUT /user: a new password needs 8+ characters, then logs in and the old one does not', async () => {
    const u = await rw.register();
    const short = await rw.call('PUT', '/user', { token: u.token, body: { user: { password: 'Sh0rt!x' } } });
    assertFieldError(short, 422, 'password');
    assert.equal((await rw.login(u.email, 'Sh0rt!x')).status, 401, 'the short password was not set');
    assert.equal((await rw.login(u.email, u.password)).status, 200, 'the old password still works');

    const fresh = `N3w-pass-${uniq()}`;
    const ok = await rw.call('PUT', '/user', { token: u.token, body: { user: { password: fresh } } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.user.username, u.username);
    assert.equal(ok.body.user.password, undefined, 'no password in the answer');
    const login = await rw.login(u.email, fresh);
    assert.equal(login.status, 200, login.text);
    assert.equal((await rw.get('/user', login.body.user.token)).status, 200);
    assertExact(await rw.login(u.email, u.password), 401, CREDENTIALS_INVALID);
    // The token handed back by the update keeps working, as front ends store it.
    assert.equal((await rw.get('/user', ok.body.user.token)).status, 200);
  });

  test('protected endpoints without a token are 401 token is missing', async () => {
    const author = await rw.register();
    const created = await rw.createArticle(author.token);
    const slug = created.slug;
    const comment = await rw.comment(author.token, slug, 'A comment to not delete');
    const calls: [string, string, unknown?][] = [
      ['GET', '/user'],
      ['PUT', '/user', { user: { bio: 'x' } }],
      ['POST', `/profiles/${author.username}/follow`],
      ['DELETE', `/profiles/${author.username}/follow`],
      ['GET', '/articles/feed'],
      ['POST', '/articles', { article: { title: 'x', description: 'y', body: 'z' } }],
      ['PUT', `/articles/${slug}`, { article: { title: 'changed' } }],
      ['DELETE', `/articles/${slug}`],
      ['POST', `/articles/${slug}/favorite`],
      ['DELETE', `/articles/${slug}/favorite`],
      ['POST', `/articles/${slug}/comments`, { comment: { body: 'x' } }],
      ['DELETE', `/articles/${slug}/comments/${comment.id}`],
    ];
    for (const [method, path, body] of calls) {
      const res = await rw.call(method, path, { body });
      assert.equal(res.status, 401, `${method} ${path}: ${res.text}`);
      assert.deepEqual(res.body, TOKEN_MISSING, `${method} ${path}`);
    }
    const still = await rw.article(slug);
    assert.equal(still.title, created.title, 'nothing changed');
    assert.equal(still.favoritesCount, 0);
    assert.ok((await rw.get(`/articles/${slug}/comments`)).body.comments.some((c: { id: number }) => c.id === comment.id));
  });

  test('an invalid or malformed token is 401', async () => {
    const u = await rw.register();
    for (const token of ['not-a-token', `${u.token}x`, 'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MX0.c2lnbmF0dXJl']) {
      const me = await rw.get('/user', token);
      assert.equal(me.status, 401, `${token}: ${me.text}`);
      assert.ok(me.body && typeof me.body.errors === 'object', me.text);
      const create = await rw.call('POST', '/articles', { token, body: { article: { title: 't', description: 'd', body: 'b' } } });
      assert.equal(create.status, 401, create.text);
    }
    // The header must name the Token scheme with a value.
    const empty = await rw.call('GET', '/user', { headers: { authorization: 'Token ' } });
    assert.equal(empty.status, 401, empty.text);
  });

  test('profiles: 200 with the profile, 404 for an unknown user, follow and unfollow toggle following', async () => {
    const [star, fan] = [await rw.register(), await rw.register()];
    const anon = await rw.get(`/profiles/${star.username}`);
    assert.equal(anon.status, 200, anon.text);
    assertProfile(anon.body.profile, star.username);
    assert.deepEqual(anon.body.profile, { username: star.username, bio: '', image: '', following: false });
    assert.equal((await rw.get(`/profiles/${star.username}`, fan.token)).body.profile.following, false);

    const unknown = await rw.get(`/profiles/nobody${uniq()}`);
    assertFieldError(unknown, 404, 'profile');
    assertFieldError(await rw.call('POST', `/profiles/nobody${uniq()}/follow`, { token: fan.token }), 404, 'profile');
    assertFieldError(await rw.call('DELETE', `/profiles/nobody${uniq()}/follow`, { token: fan.token }), 404, 'profile');

    const followed = await rw.call('POST', `/profiles/${star.username}/follow`, { token: fan.token });
    assert.equal(followed.status, 200, followed.text);
    assert.deepEqual(followed.body.profile, { username: star.username, bio: '', image: '', following: true });
    assert.equal((await rw.get(`/profiles/${star.username}`, fan.token)).body.profile.following, true);
    assert.equal((await rw.get(`/profiles/${star.username}`)).body.profile.following, false, 'anonymous viewers follow nobody');
    assert.equal((await rw.get(`/profiles/${fan.username}`, star.token)).body.profile.following, false, 'following is one way');
    // Following twice is harmless.
    assert.equal((await rw.follow(fan.token, star.username)).following, true);

    const unfollowed = await rw.call('DELETE', `/profiles/${star.username}/follow`, { token: fan.token });
    assert.equal(unfollowed.status, 200, unfollowed.text);
    assert.deepEqual(unfollowed.body.profile, { username: star.username, bio: '', image: '', following: false });
    assert.equal((await rw.get(`/profiles/${star.username}`, fan.token)).body.profile.following, false);
    const twice = await rw.call('DELETE', `/profiles/${star.username}/follow`, { token: fan.token });
    assert.equal(twice.status, 200, twice.text);
    assert.equal(twice.body.profile.following, false);
  });

  test('CORS: a preflight from a front end origin is allowed, with the Authorization header', async () => {
    const origin = 'http://localhost:4200';
    const pre = await t.app.inject({
      method: 'OPTIONS',
      url: `${BASE}/articles`,
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    assert.ok(pre.statusCode === 204 || pre.statusCode === 200, `preflight: ${pre.statusCode} ${pre.body}`);
    const allowOrigin = pre.headers['access-control-allow-origin'];
    assert.ok(allowOrigin === '*' || allowOrigin === origin, `access-control-allow-origin: ${allowOrigin}`);
    // "*" in Access-Control-Allow-Headers never covers Authorization, so it must be named.
    const allowHeaders = String(pre.headers['access-control-allow-headers'] ?? '')
      .toLowerCase()
      .split(/\s*,\s*/);
    assert.ok(allowHeaders.includes('authorization'), `access-control-allow-headers: ${pre.headers['access-control-allow-headers']}`);
    const methods = String(pre.headers['access-control-allow-methods'] ?? '').toUpperCase();
    for (const m of ['POST', 'PUT', 'DELETE']) assert.ok(methods.includes(m), `access-control-allow-methods has ${m}: ${methods}`);

    const other = await t.app.inject({
      method: 'OPTIONS',
      url: `${BASE}/user`,
      headers: { origin: 'https://conduit.example.test', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' },
    });
    assert.ok(other.statusCode === 204 || other.statusCode === 200, `preflight: ${other.statusCode}`);
    assert.ok(other.headers['access-control-allow-origin'] === '*' || other.headers['access-control-allow-origin'] === 'https://conduit.example.test');

    const get = await t.app.inject({ method: 'GET', url: `${BASE}/tags`, headers: { origin } });
    assert.equal(get.statusCode, 200, get.body);
    assert.ok(get.headers['access-control-allow-origin'] === '*' || get.headers['access-control-allow-origin'] === origin);
  });
});
