import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest, listenOnLoopback } from '../../../test/support/request.ts';
import { openSse } from '../../../test/support/sse.ts';

// Short timeouts so the test runs quickly; what matters is what gets closed, not when.
const TIMEOUT_MS = 400;

/** A raw client that sends a POST's headers and then as much of its body as `sendBody` writes. */
function slowClient(port: number, sendBody: (socket: Socket) => void): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    received += d;
  });
  socket.on('error', () => {});
  socket.on('connect', () => {
    socket.write('POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"title":"');
    sendBody(socket);
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => received, closed };
}

eachDatabase('request and connection timeouts', (dialect) => {
  let t: TestApp;
  let base: string;
  let port: number;
  let ann: TestUser;
  let annToken: string;
  const timers: NodeJS.Timeout[] = [];

  before(async () => {
    t = await buildTestApp(dialect, { env: { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS), CONNECTION_TIMEOUT_MS: String(TIMEOUT_MS) }, workers: 2 });
    base = await listenOnLoopback(t.app);
    port = Number(new URL(base).port);
    ann = await buildUser(t, { role: 'author' });
    annToken = await buildToken(t, ann);
  });
  after(async () => {
    for (const timer of timers) clearInterval(timer);
    await t.close();
  });

  test('a body that trickles or never comes gets its connection closed; a live event stream stays open', { timeout: 60_000 }, async () => {
    const post = (await apiRequest(t.app, 'POST', '/api/v1/posts', { token: annToken, body: { title: 'Live', body: 'x', status: 'published' } })).json();
    const stream = await openSse(`${base}/api/v1/events?post=${post.id}`);
    assert.equal(stream.status, 200);

    // One byte every tenth of the timeout: never idle, never finished.
    const trickle = slowClient(port, (socket) => {
      timers.push(
        setInterval(() => {
          if (!socket.destroyed) socket.write('a');
        }, TIMEOUT_MS / 10),
      );
    });
    // Headers, then silence.
    const silent = slowClient(port, () => {});
    await Promise.all([trickle.closed, silent.closed]);
    assert.match(trickle.received(), /^HTTP\/1\.1 408/);

    // The stream has now been open, with no traffic, longer than both timeouts;
    // wait as long again, then it still delivers.
    await new Promise((r) => setTimeout(r, TIMEOUT_MS * 2));
    const bob = await buildUser(t, { role: 'reader' });
    const said = await apiRequest(t.app, 'POST', `/api/v1/posts/${post.id}/comments`, { token: await buildToken(t, bob), body: { body: 'still listening' } });
    assert.equal(said.statusCode, 201, said.body);
    await stream.waitFor((e) => e.event === 'comment' && /still listening/.test(e.data));
    stream.close();

    // An ordinary request on a fresh connection is unaffected.
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });
});
