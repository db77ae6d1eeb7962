import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest, listenOnLoopback } from '../../../test/support/request.ts';
import { launchChromium, skipBrowser } from '../../../test/support/chromium.ts';
import { startServerProcess, type ServerProcess } from '../../../test/support/server-process.ts';
import { containsNul, jsonNestsDeeper, MAX_DISCARD_BYTES, MAX_JSON_DEPTH } from './body.ts';

const RW = '/realworld/api';
const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

test('nesting is measured in one pass, ignoring brackets inside strings and escaped quotes', () => {
  const cases: [string, number, boolean][] = [
    ['[[[]]]', 3, false],
    ['[[[[]]]]', 3, true],
    ['{"a":"[[[[[["}', 1, false],
    ['{"a":"\\\\"}', 1, false],
    ['{"a":"\\"[[[["}', 1, false],
    ['{"a":"\\\\", "b":[[[]]]}', 2, true],
    ['["\\\\\\"[[[", [[]]]', 2, true],
  ];
  for (const [text, max, deeper] of cases) {
    JSON.parse(text); // each case is valid JSON
    assert.equal(jsonNestsDeeper(text, max), deeper, text);
  }
  assert.equal(jsonNestsDeeper(deep(1_000_000), MAX_JSON_DEPTH), true);
  // The NUL walk is iterative: no depth overflows it.
  let nested: unknown = 'end\u0000';
  for (let i = 0; i < 200_000; i++) nested = [nested];
  assert.equal(containsNul(nested), true);
  assert.equal(containsNul({ a: ['b', { c: 'd' }] }), false);
  assert.equal(containsNul({ 'k\u0000': 1 }), true);
});

eachDatabase('request bodies', (dialect) => {
  let t: TestApp;
  let ann: TestUser, bob: TestUser;
  let annToken: string, bobToken: string;

  before(async () => {
    t = await buildTestApp(dialect);
    [ann, bob] = await Promise.all([buildUser(t, { role: 'author' }), buildUser(t, { role: 'author' })]);
    [annToken, bobToken] = await Promise.all([buildToken(t, ann), buildToken(t, bob)]);
  });
  after(() => t.close());

  const api = (method: string, url: string, token?: string, body?: unknown, headers?: Record<string, string>) =>
    apiRequest(t.app, method, url, { token, body, headers });

  async function publish(token: string, title: string) {
    const res = await api('POST', '/api/v1/posts', token, { title, body: 'Some text.', status: 'published' });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: number; slug: string };
  }

  test('/api/v1: body-less requests that say application/json favourite, follow and delete', async () => {
    const post = await publish(annToken, 'Body-less favourites');
    // Every request here carries Content-Type: application/json and no body, as axios and generated clients send them.
    const fav = await api('PUT', `/api/v1/posts/${post.id}/favorite`, bobToken);
    assert.equal(fav.statusCode, 200, fav.body);
    assert.equal(fav.json().favoritesCount, 1);
    const unfav = await api('DELETE', `/api/v1/posts/${post.id}/favorite`, bobToken);
    assert.equal(unfav.statusCode, 200, unfav.body);
    assert.equal(unfav.json().favoritesCount, 0);
    const follow = await api('PUT', `/api/v1/users/${ann.username}/follow`, bobToken);
    assert.equal(follow.statusCode, 200, follow.body);
    const unfollow = await api('DELETE', `/api/v1/users/${ann.username}/follow`, bobToken);
    assert.equal(unfollow.statusCode, 200, unfollow.body);
    const comment = await api('POST', `/api/v1/posts/${post.id}/comments`, bobToken, { body: 'Nice one.' });
    assert.equal(comment.statusCode, 201, comment.body);
    const delComment = await api('DELETE', `/api/v1/comments/${comment.json().id}`, bobToken);
    assert.equal(delComment.statusCode, 204, delComment.body);
    const delPost = await api('DELETE', `/api/v1/posts/${post.id}`, annToken);
    assert.equal(delPost.statusCode, 204, delPost.body);
    // A body whose fields are all optional may be left out: "mark all read".
    const read = await api('POST', '/api/v1/notifications/read', annToken);
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().unreadCount, 0);
    // A route that needs a body still says which field is missing.
    const empty = await api('POST', '/api/v1/posts', annToken);
    assert.equal(empty.statusCode, 422, empty.body);
    assert.equal(empty.json().errors[0].field, 'body');
  });

  test('/api/v1: a non-empty body that is not JSON is a 400 naming the body', async () => {
    for (const text of ['{"title":', 'not json', ' ,']) {
      const res = await api('POST', '/api/v1/posts', annToken, text);
      assert.equal(res.statusCode, 400, res.body);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.json().code, 'malformed_json');
      assert.deepEqual(res.json().errors, [{ field: 'body', message: 'is not valid JSON' }]);
    }
  });

  test('RealWorld: body-less requests that say application/json favourite, follow and delete', async () => {
    const rw = (method: string, path: string, token?: string, body?: unknown) => apiRequest(t.app, method, `${RW}${path}`, { token, scheme: 'Token', body });
    const users = [];
    for (const name of [`rwa${process.pid}`, `rwb${process.pid}`]) {
      const res = await rw('POST', '/users', undefined, { user: { username: name, email: `${name}@example.test`, password: 'Tr0ub4dor&3-body' } });
      assert.equal(res.statusCode, 201, res.body);
      users.push(res.json().user as { username: string; token: string });
    }
    const [a, b] = users;
    const created = await rw('POST', '/articles', a.token, { article: { title: `Body-less ${process.pid}`, description: 'd', body: 'b' } });
    assert.equal(created.statusCode, 201, created.body);
    const slug = created.json().article.slug as string;
    for (const [method, path, token, status] of [
      ['POST', `/articles/${slug}/favorite`, b.token, 200],
      ['DELETE', `/articles/${slug}/favorite`, b.token, 200],
      ['POST', `/profiles/${a.username}/follow`, b.token, 200],
      ['DELETE', `/profiles/${a.username}/follow`, b.token, 200],
    ] as const) {
      const res = await rw(method, path, token);
      assert.equal(res.statusCode, status, `${method} ${path}: ${res.body}`);
    }
    const comment = await rw('POST', `/articles/${slug}/comments`, b.token, { comment: { body: 'Hi' } });
    assert.equal(comment.statusCode, 201, comment.body);
    assert.equal((await rw('DELETE', `/articles/${slug}/comments/${comment.json().comment.id}`, b.token)).statusCode, 204);
    assert.equal((await rw('DELETE', `/articles/${slug}`, a.token)).statusCode, 204);
    // Not JSON at all: RealWorld's 422, naming the body.
    const bad = await rw('POST', '/articles', a.token, '{"article":');
    assert.equal(bad.statusCode, 422, bad.body);
    assert.deepEqual(bad.json(), { errors: { body: ['is not valid JSON'] } });
  });

  test('nesting deeper than the bound is refused while parsing, on both APIs', async () => {
    for (const depth of [MAX_JSON_DEPTH + 1, 10_000, 100_000]) {
      const v1 = await api('POST', '/api/v1/posts', undefined, `{"title":${deep(depth)}}`);
      assert.equal(v1.statusCode, 400, v1.body);
      assert.deepEqual(v1.json().errors, [{ field: 'body', message: `nests deeper than ${MAX_JSON_DEPTH} levels` }]);
      const rw = await apiRequest(t.app, 'POST', `${RW}/users/login`, { body: `{"user":${deep(depth)}}` });
      assert.equal(rw.statusCode, 422, rw.body);
      assert.deepEqual(rw.json(), { errors: { body: [`nests deeper than ${MAX_JSON_DEPTH} levels`] } });
    }
    // Brackets inside strings are text, not nesting.
    const text = await api('POST', '/api/v1/posts', annToken, { title: 'Brackets', body: `${'['.repeat(10_000)}\\"{` });
    assert.equal(text.statusCode, 201, text.body);
    // NUL characters are still refused, in JSON and in forms, naming the body.
    const nul = await api('POST', '/api/v1/posts', annToken, { title: 'a', body: 'b\u0000', tags: [['x']] });
    assert.equal(nul.statusCode, 400, nul.body);
    assert.equal(nul.json().errors[0].field, 'body');
    const form = await t.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'login=a%00&password=b',
    });
    assert.equal(form.statusCode, 400);
  });

  test('/healthz answers while many anonymous, deeply nested 1 MiB bodies arrive', async () => {
    const base = await listenOnLoopback(t.app);
    // Valid JSON of the largest size accepted, nested as deep as it goes.
    const body = deep(512 * 1024 - 8);
    const statuses: number[] = [];
    const flood = Array.from({ length: 50 }, (_, i) =>
      fetch(`${base}${i % 2 ? `${RW}/users` : '/api/v1/posts'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }).then(async (res) => {
        statuses.push(res.status);
        await res.arrayBuffer();
      }),
    );
    // While they arrive, the server still answers its health check.
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    await Promise.all(flood);
    assert.deepEqual([...new Set(statuses)].sort(), [400, 422]);
  });
});

eachDatabase('answers before the body is read', (dialect) => {
  // The server runs in its own process, as in production: a client sharing its
  // event loop reads the answer before the server's reset arrives, hiding the bug.
  let server: ServerProcess;
  let base: string;

  before(async () => {
    server = await startServerProcess(dialect);
    base = server.base;
  });
  after(() => server.stop());

  // 12 MiB: far past the 1 MiB limit, well inside what is read and discarded.
  const big = Buffer.alloc(12 * 1024 * 1024, 'a');

  test("Node's fetch reads the 413 for a 12 MiB body, every time", async () => {
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${base}/api/v1/posts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: big,
      });
      assert.equal(res.status, 413);
      assert.match(String(res.headers.get('content-type')), /^application\/problem\+json/);
      assert.equal((await res.json()).code, 'payload_too_large');
    }
  });

  test('the same holds for every early answer: wrong type, unknown route, no credentials, RealWorld', async () => {
    const cases: [string, string, Record<string, string>, number][] = [
      ['POST', '/api/v1/posts', { 'content-type': 'text/plain' }, 415],
      ['POST', '/api/v1/nowhere', { 'content-type': 'application/octet-stream' }, 404],
      ['POST', '/api/v1/posts', { 'content-type': 'application/json', authorization: 'Bearer revoked-or-unknown' }, 401],
      ['DELETE', '/api/v1/posts/1', { 'content-type': 'application/json' }, 413],
      ['POST', `${RW}/articles`, { 'content-type': 'application/json' }, 413],
      ['POST', '/login', { 'content-type': 'application/x-www-form-urlencoded' }, 413],
    ];
    for (let i = 0; i < 3; i++) {
      for (const [method, path, headers, status] of cases) {
        const res = await fetch(`${base}${path}`, { method, headers, body: big });
        assert.equal(res.status, status, `${method} ${path}`);
        await res.arrayBuffer();
      }
    }
  });

  test('an endless body is read only up to the bound, then the connection is closed', async () => {
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.once('connect', () => {
      socket.write('POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n');
      const pump = () => {
        while (!socket.destroyed && sent < 1024 * 1024 * 1024) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    await closed;
    // What the server read is bounded by MAX_DISCARD_BYTES; the rest was socket buffers.
    assert.ok(sent < MAX_DISCARD_BYTES + 32 * 1024 * 1024, `the client got to send ${sent} bytes`);
  });

  test('Chromium reads the 413 too', { skip: skipBrowser }, async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/healthz`);
      const statuses = await page.evaluate(async (size) => {
        const out: (number | string)[] = [];
        for (let i = 0; i < 3; i++) {
          try {
            const res = await fetch('/api/v1/posts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(size).fill(97) });
            out.push(`${res.status} ${(await res.json()).code}`);
          } catch (e) {
            out.push(String(e));
          }
        }
        return out;
      }, big.length);
      assert.deepEqual(statuses, Array(3).fill('413 payload_too_large'));
    } finally {
      await browser.close();
    }
  });

  test('curl reads the 413 too', { skip: spawnSync('curl', ['--version']).status !== 0 && 'curl is not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inkwell-413-'));
    const file = join(dir, 'big.json');
    writeFileSync(file, big);
    try {
      for (let i = 0; i < 3; i++) {
        const out = await run('curl', [
          '-sS',
          '-o',
          '-',
          '-w',
          '\n%{http_code}',
          '-X',
          'POST',
          '-H',
          'content-type: application/json',
          '--data-binary',
          `@${file}`,
          `${base}/api/v1/posts`,
        ]);
        assert.equal(out.code, 0, out.stderr);
        const lines = out.stdout.trim().split('\n');
        assert.equal(lines.at(-1), '413');
        assert.equal(JSON.parse(lines.slice(0, -1).join('\n')).code, 'payload_too_large');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// spawnSync would block the event loop the server under test runs on.
function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
