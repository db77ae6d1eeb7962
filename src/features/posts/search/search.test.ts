import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../../test/support/app.ts';
import { buildToken, buildUser } from '../../../../test/support/factories.ts';
import { createPostsService } from '../posts.service.ts';
import { down, up } from '../../../../migrations/2026-11-23-0006-search.ts';
import { apiRequest } from '../../../../test/support/request.ts';

eachDatabase('search', (dialect) => {
  let t: TestApp;
  let token: string;
  let now = new Date();
  const clock = { now: () => now };

  before(async () => {
    t = await buildTestApp(dialect, { clock });
    token = await buildToken(t, await buildUser(t, { role: 'author' }));
  });
  after(() => t.close());

  const api = (method: string, url: string, body?: unknown) => apiRequest(t.app, method, url, { token, body });
  const publish = async (fields: Record<string, unknown>) => {
    const res = await api('POST', '/api/v1/posts', { status: 'published', ...fields });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: number; slug: string };
  };
  // Anonymous, like a reader.
  const search = async (q: string, extra = '') => {
    const res = await t.app.inject({ url: `/api/v1/posts?q=${encodeURIComponent(q)}${extra}` });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { posts: { id: number; slug: string; title: string; highlight?: string; url: string; body: string }[]; nextCursor: string | null };
  };
  const ids = async (q: string) => (await search(q)).posts.map((p) => p.id);

  test('a title match ranks above a body-only match, with highlights', async () => {
    const inBody = await publish({ title: 'Gardening notes', body: 'Last spring the zephyrine winds came early.' });
    const inTitle = await publish({ title: 'Zephyrine weather', body: 'A short note about the season.' });
    const found = await search('zephyrine');
    assert.deepEqual(
      found.posts.map((p) => p.id),
      [inTitle.id, inBody.id],
    );
    assert.match(found.posts[1].highlight!, /<mark>zephyrine<\/mark> winds/i);
    assert.equal(found.posts[0].url, `${t.config.siteUrl}/posts/${inTitle.slug}`);
    assert.ok(found.posts[0].body, 'items have the same shape as the plain list');
    assert.equal(found.nextCursor, null);
    const plain = await t.app.inject({ url: '/api/v1/posts' });
    assert.equal(plain.json().posts[0].highlight, undefined, 'no highlight without q');
  });

  test('every word must match; case, word endings and operators do not matter', async () => {
    const a = await publish({ title: 'Café culture', body: 'Brioche and espresso in Montmartre, baking daily.' });
    await publish({ title: 'Tea culture', body: 'Scones and espresso elsewhere.' });
    assert.deepEqual(await ids('montmartre ESPRESSO'), [a.id]);
    assert.deepEqual(await ids('CAFÉ brioche'), [a.id]);
    assert.deepEqual(await ids('baked'), [a.id], 'stemmed');
    assert.deepEqual(await ids('"brioche AND montmartre'), [a.id]);
  });

  test('tags are searchable and follow tag changes', async () => {
    const post = await publish({ title: 'Marsupials', body: 'Small and cheerful.', tags: ['Quokkafacts'] });
    assert.deepEqual(await ids('quokkafacts'), [post.id]);
    assert.equal((await api('PATCH', `/api/v1/posts/${post.id}`, { tags: ['Wombatlore'] })).statusCode, 200);
    assert.deepEqual(await ids('quokkafacts'), []);
    assert.deepEqual(await ids('wombatlore'), [post.id]);
    assert.deepEqual(
      (await search('wombatlore', '&tag=wombatlore')).posts.map((p) => p.id),
      [post.id],
      'combines with tag',
    );
    assert.deepEqual((await search('wombatlore', '&tag=other')).posts, []);
  });

  test('drafts and scheduled posts are never found; search is for published posts only', async () => {
    await api('POST', '/api/v1/posts', { title: 'Xylograph draft', body: 'xylograph secret' });
    await api('POST', '/api/v1/posts', {
      title: 'Xylograph later',
      body: 'xylograph soon',
      status: 'scheduled',
      publishedAt: new Date(now.getTime() + 3600_000).toISOString(),
    });
    assert.deepEqual(await ids('xylograph'), []);
    const asAuthor = await api('GET', '/api/v1/posts?q=xylograph');
    assert.deepEqual(asAuthor.json().posts, [], 'not even for their author');
    const drafts = await api('GET', '/api/v1/posts?q=xylograph&status=draft');
    assert.equal(drafts.statusCode, 422);
    assert.equal(drafts.json().errors[0].field, 'status');
  });

  test('the index follows updates, unpublishing, republishing and deletes', async () => {
    const post = await publish({ title: 'Marmalade', body: 'Seville oranges.' });
    assert.deepEqual(await ids('marmalade'), [post.id]);
    await api('PUT', `/api/v1/posts/${post.id}`, { title: 'Chutney', body: 'Green tomatoes.', status: 'published' });
    assert.deepEqual(await ids('marmalade'), []);
    assert.deepEqual(await ids('chutney'), [post.id]);
    assert.deepEqual(await ids('tomatoes'), [post.id]);
    await api('PATCH', `/api/v1/posts/${post.id}`, { status: 'draft' });
    assert.deepEqual(await ids('chutney'), [], 'unpublished');
    await api('PATCH', `/api/v1/posts/${post.id}`, { status: 'published' });
    assert.deepEqual(await ids('chutney'), [post.id], 'published again');
    assert.equal((await api('DELETE', `/api/v1/posts/${post.id}`)).statusCode, 204);
    assert.deepEqual(await ids('chutney'), []);
    const left = await t.db.kysely.selectFrom('post_search').select('post_id').where('post_id', '=', post.id).execute();
    assert.deepEqual(left, []);
  });

  test('a scheduled post is found once it goes live', async () => {
    const at = new Date(now.getTime() + 10 * 60_000);
    const res = await api('POST', '/api/v1/posts', { title: 'Gazpacho', body: 'Cold soup.', status: 'scheduled', publishedAt: at.toISOString() });
    assert.equal(res.statusCode, 201);
    const posts = createPostsService({ db: t.db.kysely, clock });
    assert.equal(await posts.publishDue(), 0);
    assert.deepEqual(await ids('gazpacho'), []);
    now = new Date(at.getTime() + 1000);
    assert.equal(await posts.publishDue(), 1);
    assert.deepEqual(await ids('gazpacho'), [res.json().id]);
  });

  test('highlights are escaped HTML: only <mark> is markup', async () => {
    await publish({ title: 'Careful', body: 'Beware <script>alert("pwned")</script> & <img src=x onerror=alert(1)> the snarkbait "quotes".' });
    const [hit] = (await search('snarkbait')).posts;
    assert.match(hit.highlight!, /<mark>snarkbait<\/mark>/);
    const rest = hit.highlight!.replace(/<\/?mark>/g, '');
    assert.doesNotMatch(rest, /[<>"]/, 'no raw markup or quotes besides <mark>');
    assert.match(rest, /&amp;/);
    const page = await t.app.inject({ url: '/search?q=snarkbait' });
    assert.equal(page.statusCode, 200);
    assert.doesNotMatch(page.body, /<script>alert|<img src=x/);
    assert.match(page.body, /<mark>snarkbait<\/mark>/);
  });

  test('hostile queries get results or a 4xx, never a 500', async () => {
    await publish({ title: 'Hostile target', body: 'near and not or the quick brown fox, title body tags.' });
    const hostile = [
      '"',
      '"unbalanced',
      'foo"bar"baz',
      "'",
      "it's",
      '""',
      'AND',
      'OR',
      'NOT',
      'fox AND',
      'OR fox',
      'NOT fox',
      'fox NOT',
      'NEAR(fox quick)',
      'fox NEAR quick',
      'NEAR/2',
      '*',
      'fox*',
      '*fox',
      '^fox',
      'title:fox',
      'body:fox',
      '{title body}: fox',
      '-fox',
      '+fox',
      '-',
      '(fox',
      'fox)',
      '()',
      '((((',
      'fox & quick | !brown',
      'fox <-> quick',
      'fox:*',
      '!!fox',
      '\\',
      '\\"',
      "'; DROP TABLE posts; --",
      "1' OR '1'='1",
      'select * from post_search',
      '%',
      '_',
      '%_%',
      '$1',
      '?',
      ':name',
      '@x',
      'héllo wörld',
      '日本語のテキスト',
      'Ελληνικά',
      'عربى',
      '🔥🦊',
      'e\u0301',
      '\u0301',
      '\u200b',
      '\uE000fox\uE001',
      '\uFFFF',
      '\u{10FFFF}',
      'x'.repeat(200),
      Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '),
    ];
    for (const q of hostile) {
      const res = await t.app.inject({ url: `/api/v1/posts?q=${encodeURIComponent(q)}` });
      assert.ok(res.statusCode === 200 || res.statusCode === 422, `API ${JSON.stringify(q)} gave ${res.statusCode}: ${res.body}`);
      if (res.statusCode === 422) assert.equal(res.json().errors[0].field, 'q', JSON.stringify(q));
      const page = await t.app.inject({ url: `/search?q=${encodeURIComponent(q)}` });
      assert.ok(page.statusCode === 200 || page.statusCode === 422, `page ${JSON.stringify(q)} gave ${page.statusCode}`);
    }
    assert.ok((await ids('"fox')).length > 0, 'operators are read as spaces, the words still match');
    assert.ok((await ids('title:fox')).length > 0);
    assert.ok((await ids("'; DROP TABLE posts; --")).length >= 0);
    assert.equal((await t.app.inject({ url: '/api/v1/posts' })).statusCode, 200, 'posts are still there');
  });

  test('empty, wordless and over-long queries are a 422 naming q, as problem+json', async () => {
    for (const q of ['', '   ', '\t\n', '***', '"" ()', 'x'.repeat(201), 'a'.repeat(10 * 1024)]) {
      const res = await t.app.inject({ url: `/api/v1/posts?q=${encodeURIComponent(q)}` });
      assert.equal(res.statusCode, 422, `${JSON.stringify(q.slice(0, 20))}: ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.json().errors[0].field, 'q');
    }
    const two = await t.app.inject({ url: '/api/v1/posts?q=a&q=b' });
    assert.ok(two.statusCode >= 400 && two.statusCode < 500);
    const nul = await t.app.inject({ url: '/api/v1/posts?q=fox%00' });
    assert.equal(nul.statusCode, 400);
  });

  test('paging: limit and an opaque cursor, without repeats', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await publish({ title: `Pagination ${i}`, body: 'Same body each time.' })).id);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await search('pagination', `&limit=2${cursor ? `&before=${cursor}` : ''}`);
      seen.push(...page.posts.map((p) => p.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), [...made].sort());
    const bad = await t.app.inject({ url: '/api/v1/posts?q=pagination&before=nonsense' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].field, 'before');
    const html = await t.app.inject({ url: '/search?q=pagination' });
    assert.equal((html.body.match(/<article>/g) ?? []).length, 5);
  });

  test('the HTML page: form keeps the query, shows results, and refuses bad queries with the form again', async () => {
    await publish({ title: 'Limerick corner', body: 'There once was a poem.' });
    const empty = await t.app.inject({ url: '/search' });
    assert.equal(empty.statusCode, 200);
    assert.match(empty.body, /<form method="get" action="\/search" role="search" class="search-form">/);
    assert.match(empty.body, /<meta name="robots" content="noindex">/);

    const page = await t.app.inject({ url: `/search?q=${encodeURIComponent('limerick "<>')}` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /value="limerick &#34;&#60;&#62;"/, 'the query stays in the box, escaped');
    assert.match(page.body, /<a href="\/posts\/limerick-corner">Limerick corner<\/a>/);

    const none = await t.app.inject({ url: '/search?q=nothingmatchesthis' });
    assert.equal(none.statusCode, 200);
    assert.match(none.body, /No published posts match/);

    for (const q of ['***', 'y'.repeat(10 * 1024)]) {
      const refused = await t.app.inject({ url: `/search?q=${encodeURIComponent(q)}` });
      assert.equal(refused.statusCode, 422);
      assert.match(refused.body, /class="field-error" id="q-error" role="alert">Your search /);
      assert.match(refused.body, /aria-invalid="true"/);
    }
    assert.equal((await t.app.inject({ url: '/search?q=limerick&page=abc' })).statusCode, 200);
    assert.equal((await t.app.inject({ url: '/search?q=limerick&page=99999' })).statusCode, 200);
    assert.equal((await t.app.inject({ url: '/search?q=limerick&q=other' })).statusCode, 200);

    const home = await t.app.inject({ url: '/' });
    assert.match(
      home.body,
      /<form method="get" action="\/search" role="search" class="site-search" aria-label="Search this site">/,
      'a search box in the header',
    );
  });

  test('the OpenAPI document describes q and highlight', async () => {
    const doc = (await t.app.inject({ url: '/api/v1/openapi.json' })).json();
    const params = doc.paths['/api/v1/posts'].get.parameters as { name: string; description: string }[];
    assert.match(params.find((p) => p.name === 'q')!.description, /Full-text search/);
  });
});

eachDatabase('search migration', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp(dialect);
  });
  after(() => t.close());

  test('backfills published posts that existed before it', async () => {
    const token = await buildToken(t, await buildUser(t, { role: 'author' }));
    const post = async (body: Record<string, unknown>) =>
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/posts',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        })
      ).json();
    const old = await post({ title: 'Antique words', body: 'Some **vellum** &amp; ink.', tags: ['Parchment'], status: 'published' });
    await post({ title: 'Antique draft', body: 'vellum too' });
    // As if the posts were written before search existed.
    await down(t.db.kysely);
    await up(t.db.kysely);
    const found = (q: string) => t.app.inject({ url: `/api/v1/posts?q=${q}` }).then((r) => r.json().posts.map((p: { id: number }) => p.id));
    assert.deepEqual(await found('vellum'), [old.id]);
    assert.deepEqual(await found('parchment'), [old.id]);
    assert.deepEqual(await found('welcome'), [(await t.app.inject({ url: '/api/v1/posts/welcome-to-inkwell' })).json().id], 'the seeded welcome post too');
  });
});
