import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

interface Operation {
  responses: Record<string, unknown>;
  security?: unknown[];
}

eachDatabase('the OpenAPI document lists every error status', (dialect) => {
  let t: TestApp;
  let admin: TestUser;
  let operations: { method: string; path: string; op: Operation }[];

  before(async () => {
    t = await buildTestApp(dialect);
    admin = await buildUser(t, { role: 'admin' });
    const doc = (await apiRequest(t.app, 'GET', '/api/v1/openapi.json')).json() as { paths: Record<string, Record<string, Operation>> };
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
    );
  });
  after(() => t.close());

  test('the document has operations to walk', () => {
    assert.ok(operations.length >= 30, `${operations.length} operations`);
  });

  test('every operation lists the statuses the platform answers on it', () => {
    for (const { method, path, op } of operations) {
      const listed = Object.keys(op.responses);
      const expected = ['400', '401', ...(method === 'GET' ? [] : ['403', '413', '415'])];
      if (path.includes('{')) expected.push('404', '422');
      for (const status of expected) assert.ok(listed.includes(status), `${method} ${path} lists ${status} (has ${listed.join(', ')})`);
    }
    // Rate-limited routes say so.
    for (const [method, path] of [
      ['POST', '/api/v1/sessions'],
      ['POST', '/api/v1/users'],
      ['POST', '/api/v1/password/forgot'],
      ['POST', '/api/v1/password/reset'],
    ]) {
      const found = operations.find((o) => o.method === method && o.path === path);
      assert.ok(found && '429' in found.op.responses, `${method} ${path} lists 429`);
    }
  });

  test('every error an operation really answers is in its list', async () => {
    // A fresh token per request: some requests revoke the one they carry.
    const token = (scopes?: string[]) => buildToken(t, admin, scopes);
    for (const { method, path, op } of operations) {
      const listed = Object.keys(op.responses);
      const url = path.replace(/\{[^}]+\}/g, '999999');
      const tries: { what: string; token?: string; body?: unknown; headers?: Record<string, string>; url?: string }[] = [
        { what: 'anonymous, no body' },
        { what: 'an unknown token', token: 'not-a-real-token' },
        { what: 'an admin, no body', token: await token() },
        { what: 'an admin, an empty object', token: await token(), body: {} },
        { what: 'NUL in the query', token: await token(), url: `${url}?q=%00` },
      ];
      if (method !== 'GET') {
        tries.push(
          { what: 'a read-only token', token: await token(['read']), body: {} },
          { what: 'not JSON', token: await token(), body: '{"a":' },
          { what: 'JSON nested too deeply', token: await token(), body: `{"a":${'['.repeat(100)}${']'.repeat(100)}}` },
          { what: 'text/plain', token: await token(), body: 'hello', headers: { 'content-type': 'text/plain' } },
          { what: 'a body over 1 MiB', token: await token(), body: JSON.stringify({ a: 'x'.repeat(1024 * 1024) }) },
        );
      }
      for (const tr of tries) {
        const res = await apiRequest(t.app, method, tr.url ?? url, { token: tr.token, body: tr.body, headers: tr.headers, ip: '10.9.0.1' });
        assert.ok(res.statusCode < 500, `${method} ${path} with ${tr.what}: ${res.statusCode} ${res.body}`);
        if (res.statusCode >= 400) {
          assert.ok(
            listed.includes(String(res.statusCode)),
            `${method} ${path} with ${tr.what} answers ${res.statusCode}, not listed (${listed.join(', ')}): ${res.body}`,
          );
        }
      }
    }
  });
});
