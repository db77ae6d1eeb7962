// The RealWorld (Conduit) API contract, part 2: articles, lists and filters, the feed,
// favourites. Written from the spec (../shared/realworld/openapi.yml) and issue 7.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import {
  ARTICLE_NOT_FOUND,
  assertArticle,
  assertDate,
  assertExact,
  assertFieldError,
  RealWorldClient,
  sleep,
  startOfSecond,
  TOKEN_MISSING,
  uniq,
  type Article,
} from './realworld.test-client.ts';

const slugs = (list: { articles: Article[] }) => list.articles.map((a) => a.slug);
const sorted = (xs: string[]) => [...xs].sort();
const time = (iso: string) => new Date(iso).getTime();

eachDatabase('RealWorld API: articles, feed and favourites', (dialect) => {
  let t: TestApp;
  let rw: RealWorldClient;
  // Real time unless a test freezes it (to give several articles one creation instant).
  let frozen: Date | null = null;
  const clock = { now: () => (frozen ? new Date(frozen) : new Date()) };

  before(async () => {
    t = await buildTestApp(dialect, { clock });
    rw = new RealWorldClient(t);
  });
  after(() => t.close());

  test('create answers 201 {"article":…} with every spec field; GET by slug returns it', async () => {
    const u = await rw.register();
    const n = uniq();
    const tags = [`dragons${n}`, `training${n}`];
    const before = Date.now();
    const res = await rw.call('POST', '/articles', {
      token: u.token,
      body: { article: { title: `How to train your dragon ${n}`, description: 'Ever wonder how?', body: 'You have to believe', tagList: tags } },
    });
    assert.equal(res.status, 201, res.text);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const a = res.body.article;
    assertArticle(a, true);
    assert.equal(a.title, `How to train your dragon ${n}`);
    assert.equal(a.description, 'Ever wonder how?');
    assert.equal(a.body, 'You have to believe');
    assert.deepEqual(sorted(a.tagList), sorted(tags));
    assert.equal(a.favorited, false);
    assert.equal(a.favoritesCount, 0);
    assert.deepEqual(a.author, { username: u.username, bio: '', image: '', following: false });
    assert.equal(encodeURIComponent(a.slug), a.slug, 'the slug can go into a URL as is');
    const created = assertDate(a.createdAt).getTime();
    assert.ok(Math.abs(created - before) < 60_000, `createdAt is now: ${a.createdAt}`);
    assert.ok(time(a.updatedAt) >= created, 'updatedAt is not before createdAt');

    for (const viewer of [undefined, u.token]) {
      const got = await rw.article(a.slug, viewer);
      assertArticle(got, true);
      assert.equal(got.slug, a.slug);
      assert.equal(got.title, a.title);
      assert.equal(got.description, a.description);
      assert.equal(got.body, a.body);
      assert.deepEqual(sorted(got.tagList), sorted(tags));
      assert.equal(time(got.createdAt), time(a.createdAt));
      assert.equal(time(got.updatedAt), time(a.updatedAt));
      assert.equal(got.favorited, false);
      assert.equal(got.favoritesCount, 0);
      assert.deepEqual(got.author, { username: u.username, bio: '', image: '', following: false });
    }

    const untagged = await rw.createArticle(u.token, { title: `No tags ${n}` });
    assert.deepEqual(untagged.tagList, []);
  });

  test('two articles with the same title both succeed, with different slugs', async () => {
    const [u, v] = [await rw.register(), await rw.register()];
    const title = `Same title ${uniq()}`;
    const a = await rw.createArticle(u.token, { title });
    const b = await rw.createArticle(u.token, { title });
    const c = await rw.createArticle(v.token, { title });
    assert.equal(new Set([a.slug, b.slug, c.slug]).size, 3, `${a.slug} ${b.slug} ${c.slug}`);
    for (const x of [a, b, c]) {
      assert.equal(x.title, title);
      assert.equal((await rw.article(x.slug)).title, title);
    }
    assert.equal((await rw.article(c.slug)).author.username, v.username);
  });

  test('blank or missing title, description or body is 422 keyed by field', async () => {
    const u = await rw.register();
    const good = { title: `Valid ${uniq()}`, description: 'd', body: 'b' };
    const post = (article: Record<string, unknown>) => rw.call('POST', '/articles', { token: u.token, body: { article } });
    assertExact(await post({ ...good, title: '' }), 422, { errors: { title: ["can't be blank"] } });
    assertFieldError(await post({ ...good, title: '   ' }), 422, 'title', "can't be blank");
    assertFieldError(await post({ ...good, description: '' }), 422, 'description', "can't be blank");
    assertFieldError(await post({ ...good, body: '' }), 422, 'body', "can't be blank");
    const { title: _t, ...noTitle } = good;
    assertFieldError(await post(noTitle), 422, 'title');
    const { body: _b, ...noBody } = good;
    assertFieldError(await post(noBody), 422, 'body');
    const all = await post({ title: '', description: '', body: '' });
    for (const f of ['title', 'description', 'body']) assertFieldError(all, 422, f);
    assertFieldError(await post({ ...good, tagList: 'not-a-list' }), 422, 'tagList');
    assert.equal((await rw.list({ author: u.username })).articlesCount, 0, 'nothing was created');
  });

  test('an unknown slug is 404 article not found everywhere', async () => {
    const u = await rw.register();
    const slug = `no-such-article-${uniq()}`;
    assertExact(await rw.get(`/articles/${slug}`), 404, ARTICLE_NOT_FOUND);
    assertExact(await rw.get(`/articles/${slug}`, u.token), 404, ARTICLE_NOT_FOUND);
    assertExact(await rw.updateArticle(u.token, slug, { title: 'x' }), 404, ARTICLE_NOT_FOUND);
    assertExact(await rw.call('DELETE', `/articles/${slug}`, { token: u.token }), 404, ARTICLE_NOT_FOUND);
    assertExact(await rw.call('POST', `/articles/${slug}/favorite`, { token: u.token }), 404, ARTICLE_NOT_FOUND);
    assertExact(await rw.call('DELETE', `/articles/${slug}/favorite`, { token: u.token }), 404, ARTICLE_NOT_FOUND);
  });

  test('list: total count, no body, newest first with a stable tie-breaker, limit and offset', async () => {
    const u = await rw.register();
    const tag = `paged${uniq()}`;
    const created: string[] = [];
    // One creation instant for all of them: the order must still be newest first and stable.
    frozen = new Date();
    try {
      for (let i = 0; i < 21; i++) created.push((await rw.createArticle(u.token, { title: `Paged ${i} ${tag}`, tagList: [tag] })).slug);
    } finally {
      frozen = null;
    }
    const expected = [...created].reverse();
    // Editing an article does not move it in the list (lists are by creation, not by edit).
    for (const i of [2, 10, 17]) {
      const edited = await rw.updateArticle(u.token, created[i]!, { body: `Edited ${i}` });
      assert.equal(edited.status, 200, edited.text);
      assert.equal(edited.body.article.slug, created[i], 'a body edit keeps the slug');
    }

    const first = await rw.list({ tag });
    assert.equal(first.articlesCount, 21, 'articlesCount is the total, not the page size');
    assert.equal(first.articles.length, 20, 'the default limit is 20');
    assert.deepEqual(slugs(first), expected.slice(0, 20));
    assert.deepEqual(slugs(await rw.list({ tag })), slugs(first), 'the same order every time');

    const seen: string[] = [];
    for (let offset = 0; offset < 21; offset += 5) {
      const page = await rw.list({ tag, limit: 5, offset });
      assert.equal(page.articlesCount, 21);
      assert.equal(page.articles.length, Math.min(5, 21 - offset));
      seen.push(...slugs(page));
    }
    assert.deepEqual(seen, expected, 'pages walk every article once, newest first');
    const beyond = await rw.list({ tag, limit: 5, offset: 40 });
    assert.deepEqual(beyond.articles, []);
    assert.equal(beyond.articlesCount, 21);
    assert.deepEqual(slugs(await rw.list({ tag, limit: 1 })), expected.slice(0, 1));
    assert.deepEqual(slugs(await rw.list({ tag, offset: 19 })), expected.slice(19));

    // Articles written at different moments come newest first too.
    const v = await rw.register();
    const older = await rw.createArticle(v.token);
    await sleep(15);
    const newer = await rw.createArticle(v.token);
    const byV = await rw.list({ author: v.username });
    assert.deepEqual(slugs(byV), [newer.slug, older.slug]);
    const global = await rw.list({ limit: 2 });
    assert.deepEqual(slugs(global), [newer.slug, older.slug], 'the global list starts with the newest');
    assert.ok(global.articlesCount >= 23);
    const all = await rw.list({ limit: 100 });
    for (let i = 1; i < all.articles.length; i++) {
      assert.ok(time(all.articles[i - 1]!.createdAt) >= time(all.articles[i]!.createdAt), 'createdAt never increases down the list');
    }
  });

  test('filters: tag, author and favorited, alone and together, with their own counts', async () => {
    const [a, b, fan] = [await rw.register(), await rw.register(), await rw.register()];
    const tag = `filt${uniq()}`;
    const other = `othr${uniq()}`;
    const a1 = await rw.createArticle(a.token, { tagList: [tag] });
    await sleep(5);
    const a2 = await rw.createArticle(a.token, { tagList: [tag, other] });
    await sleep(5);
    const b1 = await rw.createArticle(b.token, { tagList: [tag] });
    await sleep(5);
    const b2 = await rw.createArticle(b.token, { tagList: [other] });

    const byTag = await rw.list({ tag });
    assert.deepEqual(slugs(byTag), [b1.slug, a2.slug, a1.slug]);
    assert.equal(byTag.articlesCount, 3);
    for (const item of byTag.articles) assert.ok(item.tagList.includes(tag));
    assert.deepEqual(slugs(await rw.list({ tag: other })), [b2.slug, a2.slug]);

    const byA = await rw.list({ author: a.username });
    assert.deepEqual(slugs(byA), [a2.slug, a1.slug]);
    assert.equal(byA.articlesCount, 2);
    for (const item of byA.articles) assert.equal(item.author.username, a.username);

    const bAndTag = await rw.list({ author: b.username, tag });
    assert.deepEqual(slugs(bAndTag), [b1.slug]);
    assert.equal(bAndTag.articlesCount, 1);

    const paged = await rw.list({ tag, limit: 1, offset: 1 });
    assert.deepEqual(slugs(paged), [a2.slug]);
    assert.equal(paged.articlesCount, 3);

    await rw.favorite(fan.token, a1.slug);
    await rw.favorite(fan.token, b2.slug);
    const favs = await rw.list({ favorited: fan.username });
    assert.deepEqual(sorted(slugs(favs)), sorted([a1.slug, b2.slug]));
    assert.equal(favs.articlesCount, 2);
    const favsAsFan = await rw.list({ favorited: fan.username }, fan.token);
    for (const item of favsAsFan.articles) assert.equal(item.favorited, true);
    const favsAndTag = await rw.list({ favorited: fan.username, tag });
    assert.deepEqual(slugs(favsAndTag), [a1.slug]);
    assert.equal(favsAndTag.articlesCount, 1);

    const nobody = `nobody${uniq()}`;
    for (const q of [{ author: nobody }, { favorited: nobody }, { tag: nobody }] as Record<string, string>[]) {
      const empty = await rw.list(q);
      assert.deepEqual(empty, { articles: [], articlesCount: 0 });
    }
  });

  test('feed: only followed authors, newest first, paged; 401 without a token', async () => {
    const [reader, star, stranger] = [await rw.register(), await rw.register(), await rw.register()];
    const s1 = await rw.createArticle(star.token);
    await sleep(5);
    await rw.createArticle(stranger.token);
    await sleep(5);
    const s2 = await rw.createArticle(star.token);

    assert.deepEqual(await rw.list({}, reader.token, '/articles/feed'), { articles: [], articlesCount: 0 });
    await rw.follow(reader.token, star.username);
    const feed = await rw.list({}, reader.token, '/articles/feed');
    assert.deepEqual(slugs(feed), [s2.slug, s1.slug]);
    assert.equal(feed.articlesCount, 2);
    for (const item of feed.articles) {
      assert.equal(item.author.username, star.username);
      assert.equal(item.author.following, true);
    }
    const page1 = await rw.list({ limit: 1 }, reader.token, '/articles/feed');
    assert.deepEqual(slugs(page1), [s2.slug]);
    assert.equal(page1.articlesCount, 2);
    const page2 = await rw.list({ limit: 1, offset: 1 }, reader.token, '/articles/feed');
    assert.deepEqual(slugs(page2), [s1.slug]);
    assert.equal(page2.articlesCount, 2);
    // Following shows in the article's author as well.
    assert.equal((await rw.article(s1.slug, reader.token)).author.following, true);
    assert.equal((await rw.article(s1.slug)).author.following, false);
    // The star's own feed does not hold the star's articles.
    assert.deepEqual(await rw.list({}, star.token, '/articles/feed'), { articles: [], articlesCount: 0 });

    assert.equal((await rw.call('DELETE', `/profiles/${star.username}/follow`, { token: reader.token })).status, 200);
    assert.deepEqual(await rw.list({}, reader.token, '/articles/feed'), { articles: [], articlesCount: 0 });
    assertExact(await rw.get('/articles/feed'), 401, TOKEN_MISSING);
  });

  test('update: fields change, updatedAt moves with sub-second precision, createdAt stays', async () => {
    const u = await rw.register();
    const a = await rw.createArticle(u.token, { title: `Timed ${uniq()}` });
    await sleep(20);
    await startOfSecond();
    const r1 = await rw.updateArticle(u.token, a.slug, { body: 'First edit' });
    assert.equal(r1.status, 200, r1.text);
    await sleep(30);
    const r2 = await rw.updateArticle(u.token, r1.body.article.slug, { description: 'Second edit' });
    assert.equal(r2.status, 200, r2.text);
    const u1 = r1.body.article as Article;
    const u2 = r2.body.article as Article;
    assertArticle(u1, true);
    assertArticle(u2, true);
    assert.ok(time(u1.updatedAt) > time(a.updatedAt), `updatedAt moved: ${a.updatedAt} -> ${u1.updatedAt}`);
    assert.ok(time(u2.updatedAt) > time(u1.updatedAt), `two updates within one second: ${u1.updatedAt} -> ${u2.updatedAt}`);
    assert.equal(time(u1.createdAt), time(a.createdAt), 'createdAt stays');
    assert.equal(time(u2.createdAt), time(a.createdAt), 'createdAt stays');

    const got = await rw.article(u2.slug);
    assert.equal(got.title, a.title);
    assert.equal(got.body, 'First edit');
    assert.equal(got.description, 'Second edit');
    assert.equal(time(got.updatedAt), time(u2.updatedAt), 'the stored updatedAt keeps its precision');
    assert.equal(time(got.createdAt), time(a.createdAt));
    const listed = (await rw.list({ author: u.username })).articles.find((x) => x.slug === u2.slug)!;
    assert.equal(time(listed.updatedAt), time(u2.updatedAt));

    const renamed = await rw.updateArticle(u.token, u2.slug, { title: `Renamed ${uniq()}` });
    assert.equal(renamed.status, 200, renamed.text);
    const r = renamed.body.article as Article;
    assert.match(r.title, /^Renamed /);
    assert.equal((await rw.article(r.slug)).title, r.title, 'the returned slug finds the article');
    assert.equal(r.body, 'First edit');

    assertExact(await rw.updateArticle(u.token, r.slug, { title: '' }), 422, { errors: { title: ["can't be blank"] } });
    assertFieldError(await rw.updateArticle(u.token, r.slug, { body: '' }), 422, 'body');
    assert.equal((await rw.article(r.slug)).title, r.title, 'a refused update changes nothing');
  });

  test('update: an omitted tagList keeps tags, [] clears them, null is 422', async () => {
    const u = await rw.register();
    const n = uniq();
    const tags = [`keep${n}`, `also${n}`];
    const a = await rw.createArticle(u.token, { tagList: tags });
    assert.deepEqual(sorted(a.tagList), sorted(tags));

    const kept = await rw.updateArticle(u.token, a.slug, { body: 'New body' });
    assert.equal(kept.status, 200, kept.text);
    assert.deepEqual(sorted(kept.body.article.tagList), sorted(tags));
    const slug = kept.body.article.slug as string;
    assert.deepEqual(sorted((await rw.article(slug)).tagList), sorted(tags));

    assertFieldError(await rw.updateArticle(u.token, slug, { tagList: null }), 422, 'tagList');
    assert.deepEqual(sorted((await rw.article(slug)).tagList), sorted(tags), 'a refused null changes nothing');

    const replaced = await rw.updateArticle(u.token, slug, { tagList: [`swap${n}`] });
    assert.equal(replaced.status, 200, replaced.text);
    assert.deepEqual(replaced.body.article.tagList, [`swap${n}`]);
    assert.deepEqual(slugs(await rw.list({ tag: `keep${n}` })), []);
    assert.deepEqual(slugs(await rw.list({ tag: `swap${n}` })), [slug]);

    const cleared = await rw.updateArticle(u.token, slug, { tagList: [] });
    assert.equal(cleared.status, 200, cleared.text);
    assert.deepEqual(cleared.body.article.tagList, []);
    assert.deepEqual((await rw.article(slug)).tagList, []);
    assert.equal((await rw.list({ tag: `swap${n}` })).articlesCount, 0);
  });

  test('only the author may update or delete an article: 403 otherwise', async () => {
    const [owner, intruder] = [await rw.register(), await rw.register()];
    const a = await rw.createArticle(owner.token);
    assertFieldError(await rw.updateArticle(intruder.token, a.slug, { title: 'Hijacked' }), 403, 'article');
    assertFieldError(await rw.call('DELETE', `/articles/${a.slug}`, { token: intruder.token }), 403, 'article');
    const still = await rw.article(a.slug);
    assert.equal(still.title, a.title);
    assert.equal(still.author.username, owner.username);
  });

  test('delete: 204 with no body, then 404; the article leaves lists', async () => {
    const u = await rw.register();
    const tag = `gone${uniq()}`;
    const a = await rw.createArticle(u.token, { tagList: [tag] });
    const keep = await rw.createArticle(u.token);
    const del = await rw.call('DELETE', `/articles/${a.slug}`, { token: u.token });
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '');
    assertExact(await rw.get(`/articles/${a.slug}`), 404, ARTICLE_NOT_FOUND);
    assertExact(await rw.call('DELETE', `/articles/${a.slug}`, { token: u.token }), 404, ARTICLE_NOT_FOUND);
    assertExact(await rw.get(`/articles/${a.slug}/comments`), 404, ARTICLE_NOT_FOUND);
    assert.deepEqual(await rw.list({ tag }), { articles: [], articlesCount: 0 });
    const mine = await rw.list({ author: u.username });
    assert.deepEqual(slugs(mine), [keep.slug]);
    assert.equal(mine.articlesCount, 1);
  });

  test('favourite and unfavourite: favorited and favoritesCount per viewer, and the favorited filter', async () => {
    const [author, fan1, fan2] = [await rw.register(), await rw.register(), await rw.register()];
    const a = await rw.createArticle(author.token);

    const f1 = await rw.call('POST', `/articles/${a.slug}/favorite`, { token: fan1.token });
    assert.equal(f1.status, 200, f1.text);
    assertArticle(f1.body.article, true);
    assert.equal(f1.body.article.slug, a.slug);
    assert.equal(f1.body.article.favorited, true);
    assert.equal(f1.body.article.favoritesCount, 1);
    const again = await rw.favorite(fan1.token, a.slug);
    assert.equal(again.favorited, true);
    assert.equal(again.favoritesCount, 1, 'favouriting twice counts once');

    const f2 = await rw.favorite(fan2.token, a.slug);
    assert.equal(f2.favorited, true);
    assert.equal(f2.favoritesCount, 2);
    for (const [viewer, favorited] of [
      [undefined, false],
      [author.token, false],
      [fan1.token, true],
      [fan2.token, true],
    ] as const) {
      const got = await rw.article(a.slug, viewer);
      assert.equal(got.favorited, favorited);
      assert.equal(got.favoritesCount, 2);
      const item = (await rw.list({ author: author.username }, viewer)).articles.find((x) => x.slug === a.slug)!;
      assert.equal(item.favorited, favorited, 'list items say favorited per viewer');
      assert.equal(item.favoritesCount, 2);
    }
    assert.deepEqual(slugs(await rw.list({ favorited: fan1.username })), [a.slug]);

    const un = await rw.call('DELETE', `/articles/${a.slug}/favorite`, { token: fan1.token });
    assert.equal(un.status, 200, un.text);
    assertArticle(un.body.article, true);
    assert.equal(un.body.article.favorited, false);
    assert.equal(un.body.article.favoritesCount, 1);
    const unAgain = await rw.call('DELETE', `/articles/${a.slug}/favorite`, { token: fan1.token });
    assert.equal(unAgain.status, 200, unAgain.text);
    assert.equal(unAgain.body.article.favoritesCount, 1, 'unfavouriting twice counts once');
    assert.equal((await rw.article(a.slug, fan1.token)).favorited, false);
    assert.equal((await rw.article(a.slug, fan2.token)).favorited, true);
    assert.deepEqual(await rw.list({ favorited: fan1.username }), { articles: [], articlesCount: 0 });
    assert.deepEqual(slugs(await rw.list({ favorited: fan2.username })), [a.slug]);
  });
});
