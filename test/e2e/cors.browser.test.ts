// Two front ends on two different origins, both listed in CORS_ORIGINS (and
// REALWORLD_CORS_ORIGINS), read Inkwell's API from a real Chromium page with
// fetch(). The second one is answered from the response cache the first one
// filled, and must still be let through by the browser.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { buildTestApp, eachDatabase, type TestApp } from '../support/app.ts';
import { launchChromium, skipBrowser } from '../support/chromium.ts';

/** A tiny page server on loopback: the front end's own origin. */
async function frontEnd(): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>front end</title><p>front end</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

eachDatabase('CORS from two origins in a real browser', (dialect) => {
  let t: TestApp | undefined;
  let browser: Browser | undefined;
  let api = '';
  const pages: { server: http.Server; origin: string }[] = [];

  before(async () => {
    if (skipBrowser) return;
    const [one, two] = [await frontEnd(), await frontEnd()];
    // Two origins that differ in host as well as port, as two real front ends would.
    pages.push({ server: one.server, origin: `http://127.0.0.1:${one.port}` }, { server: two.server, origin: `http://localhost:${two.port}` });
    const origins = pages.map((p) => p.origin).join(',');
    t = await buildTestApp(dialect, { env: { CORS_ORIGINS: origins, REALWORLD_CORS_ORIGINS: origins } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    api = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await t?.close();
    for (const p of pages) p.server.close();
  });

  test('both allowed origins can read the API, the cached answers included', { skip: skipBrowser }, async () => {
    const results: Record<string, unknown>[] = [];
    for (const { origin } of pages) {
      const page = await browser!.newPage();
      await page.goto(`${origin}/`);
      results.push(
        await page.evaluate(async (base) => {
          const read = async (url: string, init?: RequestInit) => {
            try {
              const res = await fetch(url, init);
              return { status: res.status, body: await res.json() };
            } catch (e) {
              return { error: String(e) };
            }
          };
          return {
            post: await read(`${base}/api/v1/posts/welcome-to-inkwell`),
            list: await read(`${base}/api/v1/posts`),
            // Revalidates with If-None-Match: a 304 must carry this origin's CORS headers too.
            again: await read(`${base}/api/v1/posts/welcome-to-inkwell`, { cache: 'no-cache' }),
            realworld: await read(`${base}/realworld/api/tags`),
          };
        }, api),
      );
      await page.close();
    }
    for (const [i, r] of results.entries()) {
      const who = pages[i].origin;
      assert.deepEqual(Object.keys(r), ['post', 'list', 'again', 'realworld']);
      for (const [name, value] of Object.entries(r)) {
        const v = value as { status?: number; error?: string; body?: Record<string, unknown> };
        assert.equal(v.error, undefined, `${who} ${name}: ${v.error}`);
        assert.equal(v.status, 200, `${who} ${name}`);
      }
      assert.equal((r.post as { body: { title: string } }).body.title, 'Welcome to Inkwell');
    }
  });
});
