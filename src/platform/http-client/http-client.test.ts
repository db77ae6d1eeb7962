import assert from 'node:assert/strict';
import dc from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHttpClient, isPublicAddress, type OutboundErrorCode } from './index.ts';

// Only servers started here, on loopback, are ever contacted. Every other address in
// this file must be refused before a socket exists; the guard suite checks that first.
// Hostnames are only ones /etc/hosts answers (localhost), so no DNS query leaves either.

interface TestServer {
  base: string;
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Server-side sockets still open. */
  open: Set<Socket>;
  close(): Promise<void>;
}

const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const q = (name: string) => url.searchParams.get(name) ?? '';
  const redirect = (code: number, to: string) => {
    res.writeHead(code, { location: to });
    res.end(`moved to ${to}`);
  };
  const chain = /^\/chain\/(\d+)$/.exec(url.pathname);
  const slowHop = /^\/slow-hop\/(\d+)$/.exec(url.pathname);
  if (url.pathname === '/hello') {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-test': 'yes' });
    res.end('hello');
  } else if (url.pathname === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
  } else if (url.pathname === '/r1') redirect(302, '/r2');
  else if (url.pathname === '/r2') redirect(301, 'echo?from=r2');
  else if (url.pathname === '/redirect') redirect(Number(q('code')), q('to'));
  else if (chain) Number(chain[1]) > 0 ? redirect(302, `/chain/${Number(chain[1]) - 1}`) : res.end('done');
  else if (slowHop) setTimeout(() => redirect(302, `/slow-hop/${Number(slowHop[1]) + 1}`), 150);
  else if (url.pathname === '/slow') {
    // Never answers: only the client's deadline ends this.
  } else if (url.pathname === '/slow-body') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('the start of a body that never ends');
  } else if (url.pathname === '/big') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(pattern(Number(q('n'))));
  } else {
    res.writeHead(404);
    res.end();
  }
}

async function startServer(host: '127.0.0.1' | '::1'): Promise<TestServer> {
  const server = http.createServer(handler);
  const state: TestServer = {
    base: '',
    port: 0,
    connections: 0,
    open: new Set(),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket: Socket) => {
    state.connections++;
    state.open.add(socket);
    socket.on('close', () => state.open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.port = (server.address() as AddressInfo).port;
  state.base = host === '::1' ? `http://[::1]:${state.port}` : `http://127.0.0.1:${state.port}`;
  return state;
}

/** Counts client sockets this process creates while `work` runs: 0 proves nothing was contacted. */
async function socketsDuring(work: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const onSocket = () => count++;
  dc.subscribe('net.client.socket', onSocket);
  try {
    await work();
  } finally {
    dc.unsubscribe('net.client.socket', onSocket);
  }
  return count;
}

const failsWith = (code: OutboundErrorCode) => ({ name: 'OutboundError', code });
const json = (body: Buffer) => JSON.parse(body.toString()) as { method: string; headers: Record<string, string>; body: string };

describe('isPublicAddress', () => {
  test('public unicast addresses are allowed', () => {
    for (const ip of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '100.63.255.255',
      '100.128.0.1',
      '172.15.255.255',
      '172.32.0.1',
      '192.169.0.1',
      '223.255.255.254',
      '2606:4700:4700::1111',
      '2001:4860:4860::8888',
      '2a00:1450:4001::1',
      '::ffff:8.8.8.8',
      '2002:808:808::1',
    ]) {
      assert.equal(isPublicAddress(ip), true, ip);
    }
  });

  test('every private, reserved and special IPv4 range is refused', () => {
    for (const ip of [
      '0.0.0.0',
      '0.255.255.255',
      '10.0.0.1',
      '10.255.255.255',
      '100.64.0.1',
      '100.127.255.255',
      '127.0.0.1',
      '127.255.255.254',
      '169.254.169.254',
      '169.254.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.0.0.8',
      '192.0.2.1',
      '192.168.1.1',
      '198.18.0.1',
      '198.19.255.255',
      '198.51.100.7',
      '203.0.113.9',
      '224.0.0.1',
      '239.255.255.255',
      '240.0.0.1',
      '250.1.2.3',
      '255.255.255.255',
    ]) {
      assert.equal(isPublicAddress(ip), false, ip);
    }
  });

  test('every non-public IPv6 range is refused, and embedded IPv4 is judged as IPv4', () => {
    for (const ip of [
      '::',
      '::1',
      'fc00::1',
      'fd12:3456:789a::1',
      'fe80::1',
      'fe80::1%eth0',
      'febf::1',
      'ff02::1',
      'ff05::2',
      '2001:db8::1',
      '2001:db8:ffff::1',
      '64:ff9b::7f00:1',
      '64:ff9b::808:808',
      '100::1',
      '2001::1',
      '3fff::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '::ffff:169.254.169.254',
      '::127.0.0.1',
      '::7f00:1',
      '::ffff:0:127.0.0.1',
      '2002:7f00:1::1',
      '2002:a00:1::',
    ]) {
      assert.equal(isPublicAddress(ip), false, ip);
    }
  });

  test('anything that is not an IP address is refused', () => {
    for (const value of ['', 'localhost', 'example.com', '2130706433', '0x7f.0.0.1', '127.1', '1.2.3', '[::1]', '8.8.8.8 ']) {
      assert.equal(isPublicAddress(value), false, JSON.stringify(value));
    }
  });
});

describe('requests (allowPrivate: true, against a loopback server)', () => {
  let server: TestServer;
  const client = createHttpClient({ allowPrivate: true, userAgent: 'inkwell-test/1.0' });
  before(async () => {
    server = await startServer('127.0.0.1');
  });
  after(() => server.close());

  test('GET returns status, body, lower-case headers, final URL and duration', async () => {
    const res = await client.request(`${server.base}/hello`);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hello');
    assert.equal(res.headers['x-test'], 'yes');
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.truncated, false);
    assert.equal(res.url, `${server.base}/hello`);
    assert.deepEqual(res.redirects, []);
    assert.ok(Number.isFinite(res.durationMs) && res.durationMs >= 0);
  });

  test('POST sends its body; the user agent is set, never cookies; Host comes from the URL', async () => {
    const res = await client.request(`${server.base}/echo`, {
      method: 'post',
      body: '{"a":1}',
      headers: { 'Content-Type': 'application/json', Cookie: 'session=secret', Host: 'evil.test' },
    });
    const seen = json(res.body);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.body, '{"a":1}');
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers['content-length'], '7');
    assert.equal(seen.headers['user-agent'], 'inkwell-test/1.0');
    assert.equal(seen.headers.cookie, undefined);
    assert.equal(seen.headers.host, `127.0.0.1:${server.port}`);
    const own = json((await client.request(`${server.base}/echo`, { headers: { 'User-Agent': 'Custom/2' }, body: Buffer.from('raw') })).body);
    assert.equal(own.headers['user-agent'], 'Custom/2');
    assert.equal(own.body, 'raw');
  });

  test('a 302 → 301 → 200 chain is followed, with relative Locations made absolute', async () => {
    const res = await client.request(`${server.base}/r1`);
    assert.equal(res.status, 200);
    assert.equal(json(res.body).method, 'GET');
    assert.deepEqual(res.redirects, [`${server.base}/r2`, `${server.base}/echo?from=r2`]);
    assert.equal(res.url, `${server.base}/echo?from=r2`);
  });

  test('more redirects than maxRedirects fail; exactly maxRedirects succeed', async () => {
    await assert.rejects(client.request(`${server.base}/chain/6`, { maxRedirects: 5 }), failsWith('too_many_redirects'));
    await assert.rejects(client.request(`${server.base}/chain/6`), failsWith('too_many_redirects'));
    const res = await client.request(`${server.base}/chain/5`, { maxRedirects: 5 });
    assert.equal(res.body.toString(), 'done');
    assert.equal(res.redirects.length, 5);
  });

  test('maxRedirects 0 returns the 3xx itself', async () => {
    const res = await client.request(`${server.base}/r1`, { maxRedirects: 0 });
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, '/r2');
    assert.deepEqual(res.redirects, []);
    assert.equal(res.url, `${server.base}/r1`);
  });

  test('303, and 301/302 after POST, become a GET without body; 307/308 keep method and body', async () => {
    const via = (code: number) => `${server.base}/redirect?code=${code}&to=/echo`;
    const post = { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    for (const code of [301, 302, 303]) {
      const seen = json((await client.request(via(code), post)).body);
      assert.deepEqual([seen.method, seen.body, seen.headers['content-type'], seen.headers['content-length']], ['GET', '', undefined, undefined], `${code}`);
    }
    assert.equal(json((await client.request(via(303), { method: 'PUT', body: 'y' })).body).method, 'GET');
    assert.equal(json((await client.request(via(302), { method: 'PUT', body: 'y' })).body).method, 'PUT');
    for (const code of [307, 308]) {
      const seen = json((await client.request(via(code), post)).body);
      assert.deepEqual([seen.method, seen.body, seen.headers['content-type']], ['POST', 'x=1', 'application/x-www-form-urlencoded'], `${code}`);
    }
  });

  test('Authorization follows same-origin redirects only', async () => {
    const auth = { headers: { Authorization: 'Bearer t' } };
    const same = json((await client.request(`${server.base}/redirect?code=302&to=/echo`, auth)).body);
    assert.equal(same.headers.authorization, 'Bearer t');
    const other = await client.request(`${server.base}/redirect?code=302&to=http://localhost:${server.port}/echo`, auth);
    assert.equal(other.url, `http://localhost:${server.port}/echo`);
    assert.equal(json(other.body).headers.authorization, undefined);
  });

  test('a redirect to another scheme, or to an unparseable place, is a bad_url', async () => {
    for (const to of ['file:///etc/passwd', 'gopher://127.0.0.1:70/', 'http://user:pw@127.0.0.1/', 'http://[::1']) {
      await assert.rejects(client.request(`${server.base}/redirect?code=302&to=${encodeURIComponent(to)}`), failsWith('bad_url'), to);
    }
  });

  test('an answer that never comes (or never ends) times out, and the connection is closed', async () => {
    for (const path of ['/slow', '/slow-body']) {
      // Both never finish on their own: only the deadline can end the request.
      await assert.rejects(client.request(`${server.base}${path}`, { timeoutMs: 300 }), failsWith('timeout'));
      for (let i = 0; i < 1500 && server.open.size > 0; i++) await sleep(20);
      assert.equal(server.open.size, 0, `${path}: the server still holds a connection`);
    }
  });

  test('the deadline covers the whole request, redirects included', async () => {
    // Each hop answers in 150 ms, well inside the deadline; together they are not.
    await assert.rejects(client.request(`${server.base}/slow-hop/0`, { timeoutMs: 400, maxRedirects: 10 }), failsWith('timeout'));
  });

  test('a large body is cut at maxBytes (default 1 MiB) and marked truncated', async () => {
    const small = await client.request(`${server.base}/big?n=3000000`, { maxBytes: 1000 });
    assert.equal(small.truncated, true);
    assert.deepEqual(small.body, pattern(1000));
    const byDefault = await client.request(`${server.base}/big?n=${2 * 1024 * 1024}`);
    assert.equal(byDefault.truncated, true);
    assert.equal(byDefault.body.length, 1024 * 1024);
    const exact = await client.request(`${server.base}/big?n=1000`, { maxBytes: 1000 });
    assert.equal(exact.truncated, false);
    assert.deepEqual(exact.body, pattern(1000));
  });

  test('a refused connection is a network error', async () => {
    const gone = await startServer('127.0.0.1');
    await gone.close();
    await assert.rejects(client.request(`${gone.base}/`), failsWith('network'));
  });
});

describe('the address guard (allowPrivate: false)', () => {
  let v4: TestServer;
  let v6: TestServer;
  const client = createHttpClient({ userAgent: 'inkwell-test/1.0' });

  before(async () => {
    // Interlock: if the rule itself were wrong, the requests below could leave this machine.
    for (const ip of ['127.0.0.1', '::1', '169.254.169.254', '10.0.0.1', '192.168.1.1', '0.0.0.0']) assert.equal(isPublicAddress(ip), false, ip);
    v4 = await startServer('127.0.0.1');
    v6 = await startServer('::1');
  });
  after(async () => {
    await v4.close();
    await v6.close();
  });

  test('loopback, private, link-local and disguised addresses are refused before any connection', async () => {
    const urls = [
      `http://127.0.0.1:${v4.port}/`,
      `http://[::1]:${v6.port}/`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'http://192.168.1.1/',
      `http://[::ffff:127.0.0.1]:${v4.port}/`,
      `http://[::ffff:7f00:1]:${v4.port}/`,
      `http://[::127.0.0.1]:${v4.port}/`,
      `http://2130706433:${v4.port}/`,
      `http://0x7f.0.0.1:${v4.port}/`,
      `http://0177.0.0.1:${v4.port}/`,
      `http://127.1:${v4.port}/`,
      `http://0.0.0.0:${v4.port}/`,
      `http://localhost:${v4.port}/`,
      `https://localhost:${v4.port}/`,
    ];
    for (const url of urls) {
      const sockets = await socketsDuring(() => assert.rejects(client.request(url), failsWith('blocked'), url));
      assert.equal(sockets, 0, `${url} opened a socket`);
    }
    assert.equal(v4.connections, 0);
    assert.equal(v6.connections, 0);
  });

  test('every redirect hop is checked again before connecting', async () => {
    // Test-only rule: this one loopback server stands in for a public site.
    const onlyV4 = createHttpClient({ userAgent: 'inkwell-test/1.0', isAllowed: (ip) => ip === '127.0.0.1' });
    assert.equal((await onlyV4.request(`${v4.base}/hello`)).status, 200);
    const before = v4.connections;
    for (const to of [`http://[::1]:${v6.port}/hello`, 'http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/']) {
      const hop = `${v4.base}/redirect?code=302&to=${encodeURIComponent(to)}`;
      const sockets = await socketsDuring(async () => {
        await assert.rejects(onlyV4.request(hop), failsWith('blocked'), to);
      });
      assert.equal(sockets, 1, `${to}: only the first hop may connect`);
    }
    assert.equal(v4.connections, before + 3);
    assert.equal(v6.connections, 0);
  });

  test('allowPrivate lifts the address rule only: schemes and limits still apply', async () => {
    const dev = createHttpClient({ allowPrivate: true, userAgent: 'inkwell-test/1.0' });
    assert.equal((await dev.request(`http://localhost:${v4.port}/hello`)).status, 200);
    assert.equal((await dev.request(`${v6.base}/hello`)).status, 200);
    await assert.rejects(dev.request('file:///etc/passwd'), failsWith('bad_url'));
    await assert.rejects(dev.request(`${v4.base}/chain/3`, { maxRedirects: 2 }), failsWith('too_many_redirects'));
  });
});

describe('URLs that are never fetched', () => {
  const client = createHttpClient({ allowPrivate: true, userAgent: 'inkwell-test/1.0' });

  test('other schemes, credentials and malformed URLs are bad_url, without a connection', async () => {
    const urls = [
      'file:///etc/passwd',
      'ftp://example.com/file',
      'javascript:alert(1)',
      'data:text/plain,hi',
      'gopher://127.0.0.1:70/_x',
      'ws://127.0.0.1/',
      'http://user:pass@127.0.0.1/',
      'http://user@127.0.0.1/',
      'https://:secret@127.0.0.1/',
      'not a url',
      '',
      '/relative/path',
      'http://',
      'http://[::1',
      'http://exa mple.com/',
    ];
    for (const url of urls) {
      const sockets = await socketsDuring(() => assert.rejects(client.request(url), failsWith('bad_url'), JSON.stringify(url)));
      assert.equal(sockets, 0, url);
    }
  });

  test('the error names the URL without its credentials', async () => {
    await assert.rejects(client.request('http://admin:hunter2@127.0.0.1/'), (e: Error & { url?: string }) => {
      assert.equal(e.url, 'http://127.0.0.1/');
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
  });

  test('an invalid method is a programming error, not a request', async () => {
    await assert.rejects(client.request('http://127.0.0.1:1/', { method: 'GET /x' }), TypeError);
  });
});
