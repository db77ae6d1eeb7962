// Issue 19: a proxy drains an instance by its /readyz, so /readyz must say
// "not ready" as soon as SIGTERM arrives, while the instance still serves;
// it reports a database outage while it lasts; and Inkwell reconnects by
// itself when the database comes back. Media on local disk with PostgreSQL
// (several instances, each with its own disk) is warned about at start-up.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { eachDatabase } from '../support/app.ts';
import { freshDatabaseUrl, startInkwell, waitFor, type InkwellProcess } from '../support/inkwell-process.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const status = async (url: string) => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(10_000) })).status;
  } catch {
    return 0;
  }
};

eachDatabase('readiness', (dialect) => {
  const started: InkwellProcess[] = [];
  let relay: TcpProxy | undefined;
  after(async () => {
    for (const p of started) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    await relay?.close();
  });

  test('after SIGTERM /readyz answers 503 while requests are still served, then the process exits 0', async () => {
    const { url } = await freshDatabaseUrl(dialect);
    const p = await startInkwell({ DATABASE_URL: url, SHUTDOWN_DRAIN_MS: '6000' });
    started.push(p);
    assert.equal(await status(`${p.url}/readyz`), 200);
    p.proc.kill('SIGTERM');
    await waitFor('/readyz answering 503', async () => (await status(`${p.url}/readyz`)) === 503, 5000, 50);
    assert.equal(await status(`${p.url}/healthz`), 200, 'still accepting and serving');
    assert.equal(await status(`${p.url}/api/v1/posts`), 200, 'still serving reads');
    assert.equal(await p.exited, 0, p.output());
    assert.match(p.output(), /\/readyz answers 503/);
  });

  test('start-up warns about media on local disk only when the database is PostgreSQL', async () => {
    const { url } = await freshDatabaseUrl(dialect);
    const p = await startInkwell({ DATABASE_URL: url, SHUTDOWN_DRAIN_MS: '0' });
    started.push(p);
    p.proc.kill('SIGTERM');
    await p.exited;
    if (dialect === 'postgres') assert.match(p.output(), /each instance would see only its own uploads.*MEDIA_S3_BUCKET/);
    else assert.doesNotMatch(p.output(), /MEDIA_S3_BUCKET/);
  });

  test('a database outage shows in /readyz, and Inkwell answers again by itself when it is back', {
    skip: dialect === 'sqlite' ? 'SQLite is a file: it has no outage' : false,
  }, async () => {
    const { url } = await freshDatabaseUrl(dialect);
    const target = new URL(url);
    relay = await startTcpProxy(target.hostname, Number(target.port || 5432));
    target.host = `127.0.0.1:${relay.port}`;
    const p = await startInkwell({ DATABASE_URL: target.toString(), SHUTDOWN_DRAIN_MS: '0' });
    started.push(p);
    assert.equal(await status(`${p.url}/readyz`), 200);
    assert.equal(await status(`${p.url}/api/v1/posts`), 200);

    await relay.cut();
    await waitFor('/readyz reporting the outage', async () => (await status(`${p.url}/readyz`)) === 503, 30_000);
    const body = (await (await fetch(`${p.url}/readyz`)).json()) as { database: string };
    assert.equal(body.database, 'unreachable');
    assert.equal(await status(`${p.url}/healthz`), 200, 'the process lives on: nothing should restart it');
    // Requests that need the database say it is a passing outage: 503 with Retry-After, not a 500.
    const during = await fetch(`${p.url}/api/v1/posts?limit=3`);
    assert.equal(during.status, 503, await during.clone().text());
    assert.ok(Number(during.headers.get('retry-after')) > 0);
    assert.equal(((await during.json()) as { code: string }).code, 'unavailable');
    const page = await fetch(`${p.url}/posts`);
    assert.equal(page.status, 503);

    await relay.restore();
    await waitFor('/readyz ready again', async () => (await status(`${p.url}/readyz`)) === 200, 30_000);
    assert.equal(await status(`${p.url}/api/v1/posts`), 200, 'reads work again without a restart');
    assert.equal(p.proc.exitCode, null);
    p.proc.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.output());
  });

  test('a database that accepts and never answers gives a 503 within DATABASE_CONNECT_TIMEOUT_MS, not a hung request', {
    skip: dialect === 'sqlite' ? 'SQLite is a file: it has no connection to wait for' : false,
  }, async () => {
    const { url } = await freshDatabaseUrl(dialect);
    const target = new URL(url);
    const hung = await startTcpProxy(target.hostname, Number(target.port || 5432));
    target.host = `127.0.0.1:${hung.port}`;
    try {
      const p = await startInkwell({ DATABASE_URL: target.toString(), SHUTDOWN_DRAIN_MS: '0', DATABASE_CONNECT_TIMEOUT_MS: '1000' });
      started.push(p);
      assert.equal(await status(`${p.url}/api/v1/posts`), 200);

      await hung.blackhole();
      // Far longer than the 1 s timeout: without it, these wait for the handshake forever.
      const patient = { signal: AbortSignal.timeout(15_000) };
      const during = await fetch(`${p.url}/api/v1/posts?limit=3`, patient);
      assert.equal(during.status, 503, await during.clone().text());
      assert.ok(Number(during.headers.get('retry-after')) > 0);
      const ready = await fetch(`${p.url}/readyz`, patient);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { database: string }).database, 'unreachable');
      assert.equal((await fetch(`${p.url}/posts`, patient)).status, 503);

      await hung.restore();
      await waitFor('/readyz ready again', async () => (await status(`${p.url}/readyz`)) === 200, 30_000);
      p.proc.kill('SIGTERM');
      assert.equal(await p.exited, 0, p.output());
    } finally {
      await hung.close();
    }
  });
});
