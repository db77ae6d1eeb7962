import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

test('defaults serve SQLite on 127.0.0.1:3000', () => {
  const c = loadConfig({});
  assert.equal(c.port, 3000);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.databaseUrl, 'sqlite:./data/inkwell.db');
  assert.equal(c.siteUrl, 'http://127.0.0.1:3000');
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(c.corsOrigins, []);
});

test('accepted values', () => {
  const c = loadConfig({
    PORT: '8080',
    DATABASE_URL: 'postgres://u:p@db:5432/blog',
    SITE_URL: 'https://blog.example.com/',
    LOG_LEVEL: 'warn',
    CORS_ORIGINS: 'https://a.example, http://localhost:5173',
    SESSION_SECRET: 'x'.repeat(32),
  });
  assert.equal(c.port, 8080);
  assert.equal(c.siteUrl, 'https://blog.example.com');
  assert.deepEqual(c.corsOrigins, ['https://a.example', 'http://localhost:5173']);
  assert.equal(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).databaseUrl, 'sqlite:/tmp/x.db');
  assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
  assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16' }).trustProxy, ['10.0.0.1', '10.1.0.0/16']);
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({}).timezone, 'UTC');
  assert.equal(loadConfig({ TIMEZONE: 'Europe/Berlin' }).timezone, 'Europe/Berlin');
  assert.equal(loadConfig({}).requestTimeoutMs, 60_000);
  assert.equal(loadConfig({}).connectionTimeoutMs, 60_000);
  assert.equal(loadConfig({}).databaseConnectTimeoutMs, 5000);
  assert.equal(loadConfig({ DATABASE_CONNECT_TIMEOUT_MS: '1500' }).databaseConnectTimeoutMs, 1500);
  assert.equal(loadConfig({ REQUEST_TIMEOUT_MS: '5000', CONNECTION_TIMEOUT_MS: '2500' }).requestTimeoutMs, 5000);
  assert.equal(loadConfig({ REQUEST_TIMEOUT_MS: '5000', CONNECTION_TIMEOUT_MS: '2500' }).connectionTimeoutMs, 2500);
  // Nightly backups are off unless BACKUP_DIR is set; seven are kept unless told otherwise.
  assert.equal(loadConfig({}).backupDir, null);
  assert.equal(loadConfig({}).backupKeep, 7);
  assert.equal(loadConfig({ BACKUP_DIR: '/var/backups/inkwell', BACKUP_KEEP: '30' }).backupDir, '/var/backups/inkwell');
  assert.equal(loadConfig({ BACKUP_DIR: '/var/backups/inkwell', BACKUP_KEEP: '30' }).backupKeep, 30);
  assert.equal(loadConfig({}).subscriptionSendRate, 600);
  assert.equal(loadConfig({ SUBSCRIPTION_SEND_RATE: '120' }).subscriptionSendRate, 120);
});

test('each bad value names its variable', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'abc' }, /^PORT /],
    [{ PORT: '70000' }, /^PORT /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL /],
    [{ SITE_URL: 'blog.example.com' }, /^SITE_URL /],
    [{ SITE_URL: 'ftp://blog.example.com' }, /^SITE_URL /],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL /],
    [{ REQUEST_TIMEOUT_MS: '0' }, /^REQUEST_TIMEOUT_MS /],
    [{ CONNECTION_TIMEOUT_MS: '30s' }, /^CONNECTION_TIMEOUT_MS /],
    [{ DATABASE_CONNECT_TIMEOUT_MS: '0' }, /^DATABASE_CONNECT_TIMEOUT_MS /],
    [{ SESSION_SECRET: 'short' }, /^SESSION_SECRET /],
    [{ CORS_ORIGINS: 'not a url' }, /^CORS_ORIGINS /],
    [{ TRUST_PROXY: 'maybe' }, /^TRUST_PROXY /],
    [{ TIMEZONE: 'Mars/Olympus' }, /^TIMEZONE /],
    [{ BACKUP_KEEP: '0' }, /^BACKUP_KEEP /],
    [{ BACKUP_KEEP: 'all' }, /^BACKUP_KEEP /],
    [{ SUBSCRIPTION_SEND_RATE: '0' }, /^SUBSCRIPTION_SEND_RATE /],
    [{ SUBSCRIPTION_SEND_RATE: 'fast' }, /^SUBSCRIPTION_SEND_RATE /],
  ];
  for (const [env, re] of cases) {
    assert.throws(
      () => loadConfig(env),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(env),
    );
  }
});

test('a database password is never echoed', () => {
  assert.throws(
    () => loadConfig({ DATABASE_URL: 'postgresx://user:hunter2@db/x' }),
    (e: Error) => !e.message.includes('hunter2'),
  );
});

test('PASSWORD_HASH_COST: 15 by default, 10 to 20 when set, anything else named', () => {
  assert.equal(loadConfig({}).passwordHashCost, 15);
  assert.equal(loadConfig({ PASSWORD_HASH_COST: '10' }).passwordHashCost, 10);
  assert.equal(loadConfig({ PASSWORD_HASH_COST: '17' }).passwordHashCost, 17);
  for (const bad of ['9', '21', 'low', '1e1', '-15']) {
    assert.throws(
      () => loadConfig({ PASSWORD_HASH_COST: bad }),
      (e: Error) => e instanceof ConfigError && /^PASSWORD_HASH_COST must be/.test(e.message),
      bad,
    );
  }
});
