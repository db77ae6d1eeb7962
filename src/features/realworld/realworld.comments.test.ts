// The RealWorld (Conduit) API contract, part 3: comments and tags. Written from the
// spec (../shared/realworld/openapi.yml) and issue 7.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import {
  ARTICLE_NOT_FOUND,
  assertComment,
  assertDate,
  assertExact,
  assertFieldError,
  RealWorldClient,
  TOKEN_MISSING,
  uniq,
  type Comment,
} from './realworld.test-client.ts';

eachDatabase('RealWorld API: comments and tags', (dialect) => {
  let t: TestApp;
  let rw: RealWorldClient;

  before(async () => {
    t = await buildTestApp(dialect);
    rw = new RealWorldClient(t);
  });
  after(() => t.close());

  const ids = (res: { body: { comments: Comment[] } }) => res.body.comments.map((c) => c.id);

  test('create a comment: 201 {"comment":…}; list: {"comments":[…]}, with or without a token', async () => {
    const [author, reader] = [await rw.register(), await rw.register()];
    const a = await rw.createArticle(author.token);

    const empty = await rw.get(`/articles/${a.slug}/comments`);
    assertExact(empty, 200, { comments: [] });

    const before = Date.now();
    const res = await rw.call('POST', `/articles/${a.slug}/comments`, { token: reader.token, body: { comment: { body: 'Thank you so much!' } } });
    assert.equal(res.status, 201, res.text);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const c = res.body.comment;
    assertComment(c);
    assert.equal(c.body, 'Thank you so much!');
    assert.deepEqual(c.author, { username: reader.username, bio: '', image: '', following: false });
    assert.ok(Math.abs(assertDate(c.createdAt).getTime() - before) < 60_000, `createdAt is now: ${c.createdAt}`);
    assert.ok(new Date(c.updatedAt).getTime() >= new Date(c.createdAt).getTime());

    const byAuthor = await rw.comment(author.token, a.slug, 'Glad it helped.');
    assert.notEqual(byAuthor.id, c.id);

    for (const viewer of [undefined, reader.token, author.token]) {
      const list = await rw.get(`/articles/${a.slug}/comments`, viewer);
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(Object.keys(list.body), ['comments']);
      assert.deepEqual(new Set(ids(list)), new Set([c.id, byAuthor.id]));
      for (const item of list.body.comments) assertComment(item);
      const mine = list.body.comments.find((x: Comment) => x.id === c.id)!;
      assert.equal(mine.body, 'Thank you so much!');
      assert.equal(mine.author.username, reader.username);
      assert.equal(new Date(mine.createdAt).getTime(), new Date(c.createdAt).getTime());
    }

    // The commenter's profile says whether the viewer follows them.
    await rw.follow(author.token, reader.username);
    const followed = (await rw.get(`/articles/${a.slug}/comments`, author.token)).body.comments.find((x: Comment) => x.id === c.id)!;
    assert.equal(followed.author.following, true);
    const anon = (await rw.get(`/articles/${a.slug}/comments`)).body.comments.find((x: Comment) => x.id === c.id)!;
    assert.equal(anon.author.following, false);
  });

  test('a blank comment is 422 naming body; a comment without a token is 401', async () => {
    const u = await rw.register();
    const a = await rw.createArticle(u.token);
    const post = (body: unknown) => rw.call('POST', `/articles/${a.slug}/comments`, { token: u.token, body });
    assertFieldError(await post({ comment: { body: '' } }), 422, 'body', "can't be blank");
    assertFieldError(await post({ comment: { body: '   ' } }), 422, 'body');
    assertFieldError(await post({ comment: {} }), 422, 'body');
    assertExact(await rw.call('POST', `/articles/${a.slug}/comments`, { body: { comment: { body: 'hi' } } }), 401, TOKEN_MISSING);
    assertExact(await rw.get(`/articles/${a.slug}/comments`), 200, { comments: [] });
  });

  test("delete: own comment 204, someone else's 403, unknown comment 404, unknown article 404", async () => {
    const [author, commenter, stranger] = [await rw.register(), await rw.register(), await rw.register()];
    const a = await rw.createArticle(author.token);
    const c1 = await rw.comment(commenter.token, a.slug, 'First thought');
    const c2 = await rw.comment(commenter.token, a.slug, 'Second thought');

    assertFieldError(await rw.call('DELETE', `/articles/${a.slug}/comments/${c1.id}`, { token: stranger.token }), 403, 'comment');
    assert.ok(ids(await rw.get(`/articles/${a.slug}/comments`)).includes(c1.id), 'still there');

    const del = await rw.call('DELETE', `/articles/${a.slug}/comments/${c1.id}`, { token: commenter.token });
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '');
    assert.deepEqual(ids(await rw.get(`/articles/${a.slug}/comments`)), [c2.id]);

    assertFieldError(await rw.call('DELETE', `/articles/${a.slug}/comments/${c1.id}`, { token: commenter.token }), 404, 'comment');
    assertFieldError(await rw.call('DELETE', `/articles/${a.slug}/comments/987654321`, { token: commenter.token }), 404, 'comment');

    // A comment is addressed under its own article.
    const b = await rw.createArticle(author.token);
    assertFieldError(await rw.call('DELETE', `/articles/${b.slug}/comments/${c2.id}`, { token: commenter.token }), 404, 'comment');
    assert.deepEqual(ids(await rw.get(`/articles/${a.slug}/comments`)), [c2.id]);

    const missing = `no-such-article-${uniq()}`;
    assertExact(await rw.get(`/articles/${missing}/comments`), 404, ARTICLE_NOT_FOUND);
    assertExact(await rw.call('POST', `/articles/${missing}/comments`, { token: commenter.token, body: { comment: { body: 'x' } } }), 404, ARTICLE_NOT_FOUND);
    assertExact(await rw.call('DELETE', `/articles/${missing}/comments/${c2.id}`, { token: commenter.token }), 404, ARTICLE_NOT_FOUND);
  });

  test('tags: {"tags":[…]} holds every tag, once each, alphabetical', async () => {
    const u = await rw.register();
    const n = uniq();
    // Lower-case letters and digits only, so every collation sorts them alike.
    const names = Array.from({ length: 24 }, (_, i) => `tg${n}${String.fromCharCode(97 + i)}`);
    const shared = `shared${n}`;
    await rw.createArticle(u.token, { tagList: [shared, ...names.slice(0, 9)] });
    await rw.createArticle(u.token, { tagList: [shared, ...names.slice(9, 18)] });
    await rw.createArticle(u.token, { tagList: [shared, ...names.slice(18)] });

    const res = await rw.get('/tags');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body), ['tags']);
    const tags = res.body.tags as string[];
    assert.ok(Array.isArray(tags) && tags.every((x) => typeof x === 'string'));
    for (const name of [...names, shared]) assert.equal(tags.filter((x) => x === name).length, 1, `${name} appears once`);
    assert.equal(new Set(tags).size, tags.length, 'no duplicates');
    const ours = tags.filter((x) => x.startsWith(`tg${n}`));
    assert.deepEqual(ours, names, 'alphabetical');
    assert.deepEqual(
      tags,
      [...tags].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
      'the whole list is alphabetical',
    );
    assert.ok(tags.length >= 25, 'all tags, not the top 20');

    // Tags are public: the same answer with a token.
    const withToken = await rw.get('/tags', u.token);
    assert.equal(withToken.status, 200);
    assert.deepEqual(withToken.body.tags, tags);
  });
});
