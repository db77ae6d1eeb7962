import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

eachDatabase('posts JSON API', (dialect) => {
  let t: TestApp;
  let author: TestUser, other: TestUser, editor: TestUser, reader: TestUser;
  let authorToken: string, otherToken: string, editorToken: string, readerToken: string;

  before(async () => {
    t = await buildTestApp(dialect);
    [author, other, editor, reader] = await Promise.all([
      buildUser(t, { role: 'author' }),
      buildUser(t, { role: 'author' }),
      buildUser(t, { role: 'editor' }),
      buildUser(t, { role: 'reader' }),
    ]);
    [authorToken, otherToken, editorToken, readerToken] = await Promise.all([author, other, editor, reader].map((u) => buildToken(t, u)));
  });
  after(() => t.close());

  const call = (method: string, url: string, token?: string, body?: unknown, headers: Record<string, string> = {}) =>
    apiRequest(t.app, method, url, { token, body, headers });

  test('a created post is answered exactly as it reads back', async () => {
    const writer = await buildToken(t, await buildUser(t, { role: 'author' }));
    // An existing tag keeps its stored spelling; the answer is built from what was written.
    assert.equal((await call('POST', '/api/v1/posts', writer, { title: 'Tag owner', body: 'x', tags: ['Kitchen Sink'] })).statusCode, 201);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const inputs = [
      {
        title: 'Round trip published',
        body: 'Line one\r\n\r\nA **second** paragraph that is long enough to pad the excerpt out nicely.',
        tags: ['kitchen sink', 'Zed', 'alpha'],
        status: 'published',
      },
      { title: 'Round trip draft', body: 'Draft body', excerpt: '  My own excerpt  ' },
      { title: 'Round trip scheduled', body: 'Later', status: 'scheduled', publishedAt: future, tags: ['one', 'Two'] },
    ];
    for (const input of inputs) {
      const created = await call('POST', '/api/v1/posts', writer, input);
      assert.equal(created.statusCode, 201, created.body);
      const read = await call('GET', `/api/v1/posts/${created.json().id}`, writer);
      assert.deepEqual(created.json(), read.json(), input.title);
    }
  });

  test('create, read, replace, patch and delete a post', async () => {
    const created = await call('POST', '/api/v1/posts', authorToken, {
      title: 'Hello API',
      body: '# Hi\n\nSome *text*.',
      tags: ['News', 'Tech Talk'],
      status: 'published',
    });
    assert.equal(created.statusCode, 201);
    const post = created.json();
    assert.equal(created.headers.location, `/api/v1/posts/${post.id}`);
    assert.equal(post.slug, 'hello-api');
    assert.equal(post.status, 'published');
    assert.match(post.bodyHtml, /<em>text<\/em>/);
    assert.deepEqual(post.tags, [
      { name: 'News', slug: 'news' },
      { name: 'Tech Talk', slug: 'tech-talk' },
    ]);
    assert.equal(post.author.username, author.username);
    assert.ok(post.publishedAt);
    assert.equal(post.url, `${t.config.siteUrl}/posts/hello-api`);

    const bySlug = await call('GET', '/api/v1/posts/hello-api');
    assert.equal(bySlug.statusCode, 200);
    assert.equal(bySlug.json().id, post.id);
    assert.equal((await call('GET', `/api/v1/posts/${post.id}`)).json().slug, 'hello-api');

    const replaced = await call('PUT', `/api/v1/posts/${post.id}`, authorToken, { title: 'Hello again', body: 'New body', status: 'published' });
    assert.equal(replaced.statusCode, 200);
    assert.equal(replaced.json().title, 'Hello again');
    assert.equal(replaced.json().slug, 'hello-api', 'PUT without slug keeps the address');
    assert.deepEqual(replaced.json().tags, [], 'PUT without tags clears them');
    assert.equal(replaced.json().publishedAt, post.publishedAt, 'first publication date is kept');

    const patched = await call('PATCH', '/api/v1/posts/hello-api', authorToken, { excerpt: 'Short', tags: ['x'] });
    assert.equal(patched.statusCode, 200);
    assert.equal(patched.json().title, 'Hello again');
    assert.equal(patched.json().excerpt, 'Short');
    assert.deepEqual(
      patched.json().tags.map((x: { slug: string }) => x.slug),
      ['x'],
    );

    const deleted = await call('DELETE', `/api/v1/posts/${post.id}`, authorToken);
    assert.equal(deleted.statusCode, 204);
    assert.equal(deleted.body, '');
    assert.equal((await call('GET', `/api/v1/posts/${post.id}`)).statusCode, 404);
  });

  test('derived slugs stay unique; a given slug that is taken is 409', async () => {
    const a = (await call('POST', '/api/v1/posts', authorToken, { title: 'Same Title', body: 'a' })).json();
    const b = (await call('POST', '/api/v1/posts', authorToken, { title: 'Same Title', body: 'b' })).json();
    assert.equal(a.slug, 'same-title');
    assert.equal(b.slug, 'same-title-2');
    const clash = await call('POST', '/api/v1/posts', authorToken, { title: 'Other', body: 'c', slug: 'same-title' });
    assert.equal(clash.statusCode, 409);
    assert.equal(clash.json().code, 'slug_taken');
    assert.equal(clash.json().errors[0].field, 'slug');
    const patchClash = await call('PATCH', `/api/v1/posts/${b.id}`, authorToken, { slug: 'same-title' });
    assert.equal(patchClash.statusCode, 409);
  });

  test('errors are problem+json with the right status', async () => {
    const malformed = await call('POST', '/api/v1/posts', authorToken, '{"title": ');
    assert.equal(malformed.statusCode, 400);
    assert.match(String(malformed.headers['content-type']), /^application\/problem\+json/);
    assert.equal(malformed.json().code, 'malformed_json');

    assert.equal((await call('POST', '/api/v1/posts', undefined, { title: 'x', body: 'y' })).statusCode, 401);
    const badToken = await call('GET', '/api/v1/posts', 'iwk_nope');
    assert.equal(badToken.statusCode, 401);
    assert.equal(badToken.json().code, 'unauthenticated');

    const readerCreate = await call('POST', '/api/v1/posts', readerToken, { title: 'x', body: 'y' });
    assert.equal(readerCreate.statusCode, 403);
    assert.equal(readerCreate.json().code, 'forbidden');

    assert.equal((await call('GET', '/api/v1/posts/no-such-post')).statusCode, 404);

    const big = await call('POST', '/api/v1/posts', authorToken, { title: 'big', body: 'x'.repeat(1_100_000) });
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().code, 'payload_too_large');

    const text = await call('POST', '/api/v1/posts', authorToken, undefined, { 'content-type': 'text/plain' });
    assert.equal(text.statusCode, 415);

    const invalid = await call('POST', '/api/v1/posts', authorToken, { title: 42, status: 'live', color: 'red' });
    assert.equal(invalid.statusCode, 422);
    const body = invalid.json();
    assert.equal(body.code, 'validation_failed');
    const fields = body.errors.map((e: { field: string }) => e.field).sort();
    assert.deepEqual(fields, ['body', 'color', 'status', 'title']);

    const blank = await call('POST', '/api/v1/posts', authorToken, { title: '   ', body: 'ok', slug: 'Bad Slug!' });
    assert.equal(blank.statusCode, 422);
    assert.deepEqual(
      blank
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
      ['slug', 'title'],
    );

    const badLimit = await call('GET', '/api/v1/posts?limit=1000');
    assert.equal(badLimit.statusCode, 422);
    assert.equal(badLimit.json().errors[0].field, 'limit');
    assert.equal((await call('GET', '/api/v1/posts?before=garbage')).statusCode, 400);
  });

  test('authors touch only their own posts; editors touch all', async () => {
    const mine = (await call('POST', '/api/v1/posts', authorToken, { title: 'Mine', body: 'm', status: 'published' })).json();
    const patch = await call('PATCH', `/api/v1/posts/${mine.id}`, otherToken, { title: 'Stolen' });
    assert.equal(patch.statusCode, 403);
    assert.equal((await call('DELETE', `/api/v1/posts/${mine.id}`, otherToken)).statusCode, 403);
    assert.equal((await call('GET', `/api/v1/posts/${mine.id}`)).json().title, 'Mine', 'nothing changed');
    const byEditor = await call('PATCH', `/api/v1/posts/${mine.id}`, editorToken, { title: 'Edited by editor' });
    assert.equal(byEditor.statusCode, 200);
    assert.equal(byEditor.json().title, 'Edited by editor');
    assert.equal(byEditor.json().author.username, author.username, 'the author stays');
  });

  test('drafts are visible only to their author and editors', async () => {
    const draft = (await call('POST', '/api/v1/posts', authorToken, { title: 'Secret draft', body: 's' })).json();
    assert.equal(draft.status, 'draft');
    assert.equal(draft.publishedAt, null);
    assert.equal((await call('GET', `/api/v1/posts/${draft.id}`)).statusCode, 404);
    assert.equal((await call('GET', `/api/v1/posts/${draft.id}`, otherToken)).statusCode, 404);
    assert.equal((await call('GET', `/api/v1/posts/${draft.id}`, readerToken)).statusCode, 404);
    assert.equal((await call('GET', `/api/v1/posts/${draft.id}`, authorToken)).statusCode, 200);
    assert.equal((await call('GET', `/api/v1/posts/${draft.id}`, editorToken)).statusCode, 200);

    const publicList = (await call('GET', '/api/v1/posts?limit=100')).json();
    assert.ok(!publicList.posts.some((p: { id: number }) => p.id === draft.id));
    const myDrafts = (await call('GET', '/api/v1/posts?status=draft&limit=100', authorToken)).json();
    assert.ok(myDrafts.posts.some((p: { id: number }) => p.id === draft.id));
    assert.ok(myDrafts.posts.every((p: { status: string; author: { id: number } }) => p.status === 'draft' && p.author.id === author.id));
    const othersDrafts = (await call('GET', '/api/v1/posts?status=draft&limit=100', otherToken)).json();
    assert.ok(!othersDrafts.posts.some((p: { id: number }) => p.id === draft.id));
    assert.equal((await call('GET', '/api/v1/posts?status=draft')).statusCode, 401);
    assert.equal((await call('GET', '/api/v1/posts?status=draft', readerToken)).statusCode, 403);
    const editorAll = (await call('GET', '/api/v1/posts?status=all&limit=100', editorToken)).json();
    assert.ok(editorAll.posts.some((p: { id: number }) => p.id === draft.id));
  });

  test('cursor pagination walks every published post once, newest first; filters by tag and author', async () => {
    const titles: string[] = [];
    for (let i = 0; i < 7; i++) {
      const title = `Paged ${i}`;
      titles.push(title);
      const token = i % 2 ? otherToken : authorToken;
      await call('POST', '/api/v1/posts', token, { title, body: 'p', status: 'published', tags: ['paged'] });
    }
    const seen: string[] = [];
    let url = '/api/v1/posts?tag=paged&limit=3';
    for (let pages = 0; pages < 10; pages++) {
      const page = (await call('GET', url)).json();
      assert.ok(page.posts.length <= 3);
      seen.push(...page.posts.map((p: { title: string }) => p.title));
      if (!page.nextCursor) break;
      url = `/api/v1/posts?tag=paged&limit=3&before=${page.nextCursor}`;
    }
    assert.deepEqual(seen, [...titles].reverse());
    const byOther = (await call('GET', `/api/v1/posts?tag=paged&author=${other.username}&limit=100`)).json();
    assert.deepEqual(
      byOther.posts.map((p: { title: string }) => p.title),
      ['Paged 5', 'Paged 3', 'Paged 1'],
    );
  });

  test('token scopes: a read-only token cannot write', async () => {
    const readOnly = await buildToken(t, author, ['read']);
    assert.equal((await call('GET', '/api/v1/posts', readOnly)).statusCode, 200);
    const res = await call('POST', '/api/v1/posts', readOnly, { title: 'x', body: 'y' });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'insufficient_scope');
  });

  test('Markdown is sanitized: no script, event handlers or javascript: links', async () => {
    const body = [
      '<script>alert(1)</script>',
      '[click](javascript:alert(2))',
      '<img src=x onerror="alert(3)">',
      '![pic](javascript:alert(4))',
      '<a href="https://ok.example" onclick="alert(5)">ok</a>',
    ].join('\n\n');
    const post = (await call('POST', '/api/v1/posts', authorToken, { title: '<b>Bold</b> & "quoted"', body, status: 'published' })).json();
    // Mentions of these as visible text are fine; as markup they must never appear.
    // The only script on a page is our own file; none comes from content.
    const unsafe = [/<script(?! src="\/assets\/live\.js" defer><\/script>)/i, /<[^>]+\son\w+\s*=/i, /(href|src)\s*=\s*["']?\s*javascript:/i];
    for (const re of unsafe) assert.doesNotMatch(post.bodyHtml, re);
    assert.match(post.bodyHtml, /&lt;script&gt;/, 'raw HTML is shown as text');
    const page = await t.app.inject({ url: `/posts/${post.slug}` });
    assert.equal(page.statusCode, 200);
    for (const re of unsafe) assert.doesNotMatch(page.body, re);
    assert.match(page.body, /&#60;b&#62;Bold&#60;\/b&#62; &#38; &#34;quoted&#34;/);
  });

  test('hostile input gets a 4xx, never a 500', async () => {
    const cursor = (text: string) => Buffer.from(text).toString('base64url');
    const cases: [string, string, unknown?][] = [
      ['GET', '/api/v1/posts/99999999999999999999'],
      ['GET', `/api/v1/posts?before=${cursor('2026-01-01T00:00:00.000Z|99999999999')}`],
      ['GET', `/api/v1/posts?before=${cursor('2026-99-99T00:00:00.000Z|1')}`],
      ['GET', '/api/v1/posts?tag=%00'],
      ['GET', '/api/v1/posts/%00'],
      ['GET', `/api/v1/posts?tag=${'x'.repeat(5000)}`],
      ['GET', '/api/v1/posts?limit=-1'],
      ['GET', '/api/v1/posts?status=secret'],
      ['POST', '/api/v1/posts', { title: 'nul\u0000title', body: 'x' }],
      ['POST', '/api/v1/posts', []],
      ['POST', '/api/v1/posts', 'null'],
      ['POST', '/api/v1/posts', { title: 'x', body: 'y', tags: 'a,b' }],
      ['POST', '/api/v1/posts', { title: 'x', body: 'y', tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }],
      ['POST', '/api/v1/posts', { title: 'x', body: 'y', tags: ['!!!'] }],
      ['POST', '/api/v1/posts', { title: 'x'.repeat(201), body: 'y' }],
      ['POST', '/api/v1/posts', { title: 'x', body: 'y', slug: 'new' }],
      ['PATCH', '/api/v1/posts/welcome-to-inkwell', { status: 'draft' }],
    ];
    for (const [method, url, body] of cases) {
      const res = await call(method, url, authorToken, body);
      assert.ok(
        res.statusCode >= 400 && res.statusCode < 500,
        `${method} ${url.slice(0, 60)} ${JSON.stringify(body)?.slice(0, 60)} -> ${res.statusCode} ${res.body.slice(0, 200)}`,
      );
      assert.match(String(res.headers['content-type']), /problem\+json/);
    }
  });

  test('CORS is off by default', async () => {
    const res = await call('OPTIONS', '/api/v1/posts', undefined, undefined, { origin: 'https://app.example', 'access-control-request-method': 'POST' });
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });
  test('editors and admins keep a past publishedAt (imports keep their dates); authors are told they may not', async () => {
    const at = '2019-05-06T09:30:00.000Z';
    const created = await call('POST', '/api/v1/posts', editorToken, { title: 'From 2019', body: 'Old news', status: 'published', publishedAt: at });
    assert.equal(created.statusCode, 201);
    assert.equal(created.json().publishedAt, at);
    assert.equal((await call('GET', `/api/v1/posts/${created.json().id}`)).json().publishedAt, at);
    // Changing the date of a published post, and publishing a draft with a date.
    const moved = await call('PATCH', `/api/v1/posts/${created.json().id}`, editorToken, { status: 'published', publishedAt: '2018-01-01T00:00:00Z' });
    assert.equal(moved.json().publishedAt, '2018-01-01T00:00:00.000Z');
    const draft = (await call('POST', '/api/v1/posts', editorToken, { title: 'Draft from 2017', body: 'x' })).json();
    const put = await call('PUT', `/api/v1/posts/${draft.id}`, editorToken, {
      title: 'Draft from 2017',
      body: 'x',
      status: 'published',
      publishedAt: '2017-03-04T05:06:07Z',
    });
    assert.equal(put.json().publishedAt, '2017-03-04T05:06:07.000Z');

    const byAuthor = await call('POST', '/api/v1/posts', authorToken, { title: 'Backdated', body: 'x', status: 'published', publishedAt: at });
    assert.equal(byAuthor.statusCode, 403);
    assert.equal(byAuthor.json().errors[0].field, 'publishedAt');
    // An author sending back the date their post already has (a whole post round-tripped) is fine.
    const own = (await call('POST', '/api/v1/posts', authorToken, { title: 'Mine', body: 'x', status: 'published' })).json();
    const roundTrip = await call('PUT', `/api/v1/posts/${own.id}`, authorToken, {
      title: 'Mine, edited',
      body: 'x',
      status: 'published',
      publishedAt: own.publishedAt,
    });
    assert.equal(roundTrip.statusCode, 200);
    assert.equal(roundTrip.json().publishedAt, own.publishedAt);
    const future = await call('POST', '/api/v1/posts', editorToken, {
      title: 'Future',
      body: 'x',
      status: 'published',
      publishedAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    assert.equal(future.statusCode, 422);
    assert.equal(future.json().errors[0].field, 'publishedAt');
  });
});

eachDatabase('posts API with CORS_ORIGINS', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp(dialect, { env: { CORS_ORIGINS: 'https://app.example' } });
  });
  after(() => t.close());

  test('an allowed origin gets CORS headers; others do not', async () => {
    const pre = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/posts',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
    assert.match(String(pre.headers['access-control-allow-headers']), /authorization/i);
    const get = await t.app.inject({ url: '/api/v1/posts', headers: { origin: 'https://evil.example' } });
    assert.equal(get.headers['access-control-allow-origin'], undefined);
  });
});

eachDatabase('CORS with two allowed origins and the response cache', (dialect) => {
  let t: TestApp;
  const A = 'https://a.example',
    B = 'http://localhost:5173';
  before(async () => {
    t = await buildTestApp(dialect, { env: { CORS_ORIGINS: `${A}, ${B}`, REALWORLD_CORS_ORIGINS: `${A}, ${B}` } });
  });
  after(() => t.close());

  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ url, headers: { 'content-type': 'application/json', ...headers } });
  const varies = (res: { headers: Record<string, unknown> }) =>
    String(res.headers.vary ?? '')
      .toLowerCase()
      .split(/\s*,\s*/);

  test('each caller gets its own Access-Control-Allow-Origin, and answers vary on Origin', async () => {
    for (const url of ['/api/v1/posts', '/api/v1/posts/welcome-to-inkwell']) {
      const a = await get(url, { origin: A });
      assert.equal(a.statusCode, 200);
      assert.equal(a.headers['access-control-allow-origin'], A);
      assert.ok(varies(a).includes('origin'), `vary: ${a.headers.vary}`);
      // Served from the response cache now: the second origin must not get the first one's header.
      const b = await get(url, { origin: B });
      assert.equal(b.statusCode, 200);
      assert.equal(b.headers['access-control-allow-origin'], B, `${url} from the second origin`);
      assert.ok(varies(b).includes('origin'), `vary: ${b.headers.vary}`);
      assert.ok(varies(b).includes('cookie'), 'still varies on Cookie');
      assert.equal(b.body, a.body);
      const evil = await get(url, { origin: 'https://evil.example' });
      assert.equal(evil.headers['access-control-allow-origin'], undefined);
      const none = await get(url);
      assert.equal(none.headers['access-control-allow-origin'], undefined);
      assert.ok(varies(none).includes('origin'));
      // A revalidation from the second origin: 304 with that origin's header.
      const revalidated = await get(url, { origin: B, 'if-none-match': String(a.headers.etag) });
      assert.equal(revalidated.statusCode, 304);
      assert.equal(revalidated.headers['access-control-allow-origin'], B);
      assert.ok(varies(revalidated).includes('origin'));
    }
  });

  test('RealWorld: REALWORLD_CORS_ORIGINS answers each allowed origin with its own header, varying on Origin', async () => {
    for (const origin of [A, B]) {
      const res = await get('/realworld/api/tags', { origin });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['access-control-allow-origin'], origin);
      assert.ok(varies(res).includes('origin'), `vary: ${res.headers.vary}`);
    }
    assert.equal((await get('/realworld/api/tags', { origin: 'https://evil.example' })).headers['access-control-allow-origin'], undefined);
  });
});
