/** Everything Inkwell reads from the environment, validated once at start. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  /** PostgreSQL: how long opening a connection may take before a request answers 503. */
  databaseConnectTimeoutMs: number;
  siteUrl: string;
  /** When unset, a generated secret is kept in the database (see site settings). */
  sessionSecret: string | undefined;
  logLevel: string;
  /** Origins allowed to call /api from a browser; ['*'] allows any. */
  corsOrigins: string[];
  /** smtp:// or smtps:// URL; unset keeps mail in the database outbox (see /admin/mail). */
  smtpUrl: string | undefined;
  /** The From address of every message. */
  mailFrom: string;
  /** IANA time zone for cron schedules (the nightly crawl at 01:00 site time). */
  timezone: string;
  /** Jobs this process works on at once; 0 runs no workers (another process does). */
  workers: number;
  /** A Slack incoming-webhook URL; the one in /admin/integrations wins when both are set. */
  slackWebhookUrl: string | undefined;
  /** Lets outgoing HTTP reach loopback and private addresses: tests and local development only. */
  allowPrivateOutbound: boolean;
  /** At most this many live event streams are open per process. */
  liveMaxStreams: number;
  /** Fastify's trustProxy: false, true, a hop count, or addresses/CIDRs of trusted proxies. */
  trustProxy: boolean | number | string[];
  /** Where the RealWorld (Conduit) API adapter is mounted, or null when it is off. */
  realworldPath: string | null;
  /** Origins allowed to call the RealWorld adapter from a browser; ['*'] allows any. */
  realworldCorsOrigins: string[];
  /** The most time a client has to send a whole request, headers and body (Fastify's requestTimeout). */
  requestTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (Fastify's connectionTimeout); live event streams are exempt. */
  connectionTimeoutMs: number;
  /**
   * After SIGTERM, how long /readyz answers 503 while requests are still
   * served, so a proxy's health check takes the instance out before it stops
   * accepting. Default 3 s on PostgreSQL (instances behind a proxy), 0 on SQLite.
   */
  shutdownDrainMs: number;
  /** Uploaded images: where they are stored, how they are served, and the limits on uploads. */
  media: MediaConfig;
  /** scrypt cost of new password hashes as log2(N): 15 in production; tests lower it for speed. */
  passwordHashCost: number;
  /** Where the nightly SQLite backup goes; null turns it off (the default). */
  backupDir: string | null;
  /** How many nightly backups to keep. */
  backupKeep: number;
  /** How many subscription emails (new posts, weekly digests) are queued per minute at most. */
  subscriptionSendRate: number;
}

/** Media storage and upload limits (README, "Media"). */
export interface MediaConfig {
  /** The local directory for media files (used when no S3 bucket is set). */
  dir: string;
  /** S3-compatible object storage; null keeps media on the local disk. */
  s3: {
    bucket: string;
    endpoint: string | undefined;
    region: string;
    /** Unset: the SDK's own chain (environment, instance role). */
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
    /** Path-style URLs (http://host/bucket/key), which MinIO and most self-hosted servers need. */
    forcePathStyle: boolean;
  } | null;
  /** Media URLs start here (a CDN or the bucket) instead of this site's /media/. */
  publicUrl: string | null;
  /** Largest accepted upload, in bytes. */
  maxBytes: number;
  /** Largest accepted image, in pixels (width x height), against decompression bombs. */
  maxPixels: number;
  /** Storage per account in bytes (admins exempt); null is no quota. */
  quotaBytes: number | null;
  /** The widths variants are made at (never wider than the image); changing them makes the new ones on demand. */
  widths: number[];
  /** Keep the uploaded file as sent (never served) next to the cleaned copy. */
  keepOriginals: boolean;
}

/** A bad environment value: main.ts prints the message alone and exits 1. */
export class ConfigError extends Error {}

import { DEFAULT_PASSWORD_HASH_COST } from './lib/secrets.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and validates the configuration; throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = parsePort(env.PORT);
  const host = env.HOST?.trim() || '127.0.0.1';
  const databaseUrl = parseDatabaseUrl(env.DATABASE_URL);
  const siteUrl = parseSiteUrl(env.SITE_URL, host, port);
  const sessionSecret = env.SESSION_SECRET || undefined;
  if (sessionSecret !== undefined && sessionSecret.length < 32) {
    throw new ConfigError('SESSION_SECRET must be at least 32 characters long (or unset, to use a generated one)');
  }
  const logLevel = (env.LOG_LEVEL || 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${env.LOG_LEVEL}"`);
  }
  return {
    port,
    host,
    databaseUrl,
    databaseConnectTimeoutMs: parseCount('DATABASE_CONNECT_TIMEOUT_MS', env.DATABASE_CONNECT_TIMEOUT_MS, 5000),
    siteUrl,
    sessionSecret,
    logLevel,
    corsOrigins: parseCors(env.CORS_ORIGINS),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    smtpUrl: parseSmtpUrl(env.SMTP_URL),
    mailFrom: parseMailFrom(env.MAIL_FROM, siteUrl),
    liveMaxStreams: parseCount('LIVE_MAX_STREAMS', env.LIVE_MAX_STREAMS, 1000),
    timezone: parseTimezone(env.TIMEZONE),
    workers: env.WORKERS === '0' ? 0 : parseCount('WORKERS', env.WORKERS, 4),
    slackWebhookUrl: parseSlack(env.SLACK_WEBHOOK_URL),
    allowPrivateOutbound: parseFlag('ALLOW_PRIVATE_OUTBOUND', env.ALLOW_PRIVATE_OUTBOUND),
    realworldPath: parseMountPath('REALWORLD_PATH', env.REALWORLD_PATH, '/realworld/api'),
    // The adapter authenticates by header only (no cookies), so any origin is safe by default.
    realworldCorsOrigins: env.REALWORLD_CORS_ORIGINS === undefined ? ['*'] : parseCors(env.REALWORLD_CORS_ORIGINS, 'REALWORLD_CORS_ORIGINS'),
    requestTimeoutMs: parseCount('REQUEST_TIMEOUT_MS', env.REQUEST_TIMEOUT_MS, 60_000),
    connectionTimeoutMs: parseCount('CONNECTION_TIMEOUT_MS', env.CONNECTION_TIMEOUT_MS, 60_000),
    shutdownDrainMs: env.SHUTDOWN_DRAIN_MS === '0' ? 0 : parseCount('SHUTDOWN_DRAIN_MS', env.SHUTDOWN_DRAIN_MS, databaseUrl.startsWith('sqlite:') ? 0 : 3000),
    media: parseMedia(env, databaseUrl),
    passwordHashCost: parseHashCost(env.PASSWORD_HASH_COST),
    backupDir: env.BACKUP_DIR?.trim() || null,
    backupKeep: parseCount('BACKUP_KEEP', env.BACKUP_KEEP, 7),
    subscriptionSendRate: parseCount('SUBSCRIPTION_SEND_RATE', env.SUBSCRIPTION_SEND_RATE, 600),
  };
}

function parseMedia(env: NodeJS.ProcessEnv, databaseUrl: string): MediaConfig {
  // Next to the SQLite file by default, so one directory holds the whole blog.
  const sqlitePath = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : null;
  const besideDb = sqlitePath && sqlitePath !== ':memory:' ? sqlitePath.replace(/[^/\\]*$/, '') || './' : './data/';
  const dir = env.MEDIA_DIR?.trim() || `${besideDb}media`;
  const bucket = env.MEDIA_S3_BUCKET?.trim();
  let s3: MediaConfig['s3'] = null;
  if (bucket) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new ConfigError(`MEDIA_S3_BUCKET must be a bucket name (3-63 lower-case letters, digits, dots, hyphens); got "${bucket}"`);
    }
    const endpoint = env.MEDIA_S3_ENDPOINT?.trim() || undefined;
    if (endpoint) parseHttpUrl('MEDIA_S3_ENDPOINT', endpoint);
    const accessKeyId = env.MEDIA_S3_ACCESS_KEY_ID || undefined;
    const secretAccessKey = env.MEDIA_S3_SECRET_ACCESS_KEY || undefined;
    if (!accessKeyId !== !secretAccessKey) {
      throw new ConfigError("MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY must be set together (or both unset, to use the SDK's own credentials)");
    }
    s3 = {
      bucket,
      endpoint,
      region: env.MEDIA_S3_REGION?.trim() || 'us-east-1',
      accessKeyId,
      secretAccessKey,
      forcePathStyle: env.MEDIA_S3_FORCE_PATH_STYLE === undefined ? !!endpoint : parseFlag('MEDIA_S3_FORCE_PATH_STYLE', env.MEDIA_S3_FORCE_PATH_STYLE),
    };
  } else if (env.MEDIA_S3_ENDPOINT) {
    throw new ConfigError('MEDIA_S3_ENDPOINT is set but MEDIA_S3_BUCKET is not; set both to store media in S3');
  }
  const publicUrl = env.MEDIA_PUBLIC_URL?.trim() ? parseHttpUrl('MEDIA_PUBLIC_URL', env.MEDIA_PUBLIC_URL.trim()).replace(/\/+$/, '') : null;
  const quotaMb =
    env.MEDIA_QUOTA_MB === undefined || env.MEDIA_QUOTA_MB === '' || env.MEDIA_QUOTA_MB === '0' ? null : parseCount('MEDIA_QUOTA_MB', env.MEDIA_QUOTA_MB, 0);
  return {
    dir,
    s3,
    publicUrl,
    maxBytes: parseBytes('MEDIA_MAX_BYTES', env.MEDIA_MAX_BYTES, 20 * 1024 * 1024),
    maxPixels: parseCount('MEDIA_MAX_MEGAPIXELS', env.MEDIA_MAX_MEGAPIXELS, 50) * 1_000_000,
    quotaBytes: quotaMb === null ? null : quotaMb * 1024 * 1024,
    keepOriginals: parseFlag('MEDIA_KEEP_ORIGINALS', env.MEDIA_KEEP_ORIGINALS),
    widths: parseWidths(env.MEDIA_WIDTHS),
  };
}

/** MEDIA_WIDTHS: up to 10 widths from 16 to 4096 pixels, comma-separated; sorted, without repeats. */
function parseWidths(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [320, 640, 960, 1280, 1920];
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length > 10 || parts.some((p) => !/^\d{2,4}$/.test(p) || Number(p) < 16 || Number(p) > 4096)) {
    throw new ConfigError(`MEDIA_WIDTHS must be up to 10 widths from 16 to 4096 pixels, comma-separated (like 320,640,1280); got "${raw}"`);
  }
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

function parseBytes(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,12}$/.test(raw) || Number(raw) < 1) throw new ConfigError(`${name} must be a number of bytes (at least 1); got "${raw}"`);
  return Number(raw);
}

function parseHttpUrl(name: string, raw: string): string {
  try {
    const u = new URL(raw);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && !u.search && !u.hash) return u.origin + u.pathname;
  } catch {
    // fall through
  }
  throw new ConfigError(`${name} must be an http(s) URL such as https://media.example.com; got "${raw}"`);
}

// log2 of scrypt's N. 15 is OWASP's floor; lower values exist for test suites, where
// thousands of hashes at full cost take minutes. Hashes record their own cost, so
// raising it later still verifies the old ones.
function parseHashCost(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_PASSWORD_HASH_COST;
  if (!/^\d{1,2}$/.test(raw) || Number(raw) < 10 || Number(raw) > 20) {
    throw new ConfigError(`PASSWORD_HASH_COST must be a whole number from 10 to 20 (log2 of scrypt's N; default ${DEFAULT_PASSWORD_HASH_COST}); got "${raw}"`);
  }
  return Number(raw);
}

function parseTimezone(raw: string | undefined): string {
  const tz = raw?.trim() || 'UTC';
  // UTC (the default) needs no check; constructing a formatter costs ~24 ms and
  // ~6.5 MB of ICU data at start-up.
  if (tz === 'UTC') return tz;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new ConfigError(`TIMEZONE must be an IANA time zone such as UTC or Europe/Berlin; got "${raw}"`);
  }
  return tz;
}

function parseSlack(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    if (u.protocol === 'https:' || u.protocol === 'http:') return raw;
  } catch {
    // fall through
  }
  throw new ConfigError('SLACK_WEBHOOK_URL must be the https:// incoming-webhook URL Slack gave you');
}

function parseFlag(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be 1 or 0; got "${raw}"`);
}

function parseCount(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1) throw new ConfigError(`${name} must be a whole number of at least 1; got "${raw}"`);
  return Number(raw);
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 3000;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) {
    throw new ConfigError(`PORT must be an integer from 0 to 65535; got "${raw}"`);
  }
  return n;
}

function parseDatabaseUrl(raw: string | undefined): string {
  if (!raw) return 'sqlite:./data/inkwell.db';
  if (raw.startsWith('sqlite:') && raw.length > 'sqlite:'.length) return raw;
  if (/^postgres(ql)?:\/\/./.test(raw)) {
    try {
      new URL(raw);
      return raw;
    } catch {
      // fall through to the error below
    }
  }
  throw new ConfigError(`DATABASE_URL must be "sqlite:<path>" or "postgres://user@host:port/db"; got "${redact(raw)}"`);
}

function parseSiteUrl(raw: string | undefined, host: string, port: number): string {
  if (!raw) return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`SITE_URL must be an absolute http(s) URL such as https://blog.example.com; got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`SITE_URL must start with http:// or https://; got "${raw}"`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** A URL path to mount something at ("/x/y"), or null for "off". */
function parseMountPath(name: string, raw: string | undefined, fallback: string): string | null {
  const v = raw?.trim();
  if (v === undefined || v === '') return fallback;
  if (v === 'off') return null;
  if (!/^(\/[\w.-]+)+$/.test(v)) {
    throw new ConfigError(`${name} must be a path like /realworld/api, or "off"; got "${v}"`);
  }
  return v;
}

function parseCors(raw: string | undefined, name = 'CORS_ORIGINS'): string[] {
  if (!raw?.trim()) return [];
  const origins = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const o of origins) {
    if (o === '*') continue;
    let ok = false;
    try {
      const u = new URL(o);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === o.replace(/\/$/, '');
    } catch {
      ok = false;
    }
    if (!ok) throw new ConfigError(`${name} must be "*" or comma-separated origins like https://app.example.com; got "${o}"`);
  }
  return origins.map((o) => o.replace(/\/$/, ''));
}

function parseTrustProxy(raw: string | undefined): boolean | number | string[] {
  const v = raw?.trim().toLowerCase();
  if (!v || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d{1,2}$/.test(v)) return Number(v);
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.every((a) => /^[0-9a-f.:]+(\/\d{1,3})?$/.test(a))) return list;
  throw new ConfigError(`TRUST_PROXY must be true, false, a hop count, or proxy addresses/CIDRs like 10.0.0.1,10.1.0.0/16; got "${raw}"`);
}

function parseSmtpUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    if ((u.protocol === 'smtp:' || u.protocol === 'smtps:') && u.hostname) return raw;
  } catch {
    // fall through
  }
  throw new ConfigError(`SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465; got "${redact(raw)}"`);
}

function parseMailFrom(raw: string | undefined, siteUrl: string): string {
  if (!raw) return `Inkwell <noreply@${new URL(siteUrl).hostname.replace(/^\[|\]$/g, '').replace(/^(127\.0\.0\.1|::1)$/, 'localhost')}>`;
  if (/[\r\n]/.test(raw) || !/^(?:[^<>@]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(raw.trim())) {
    throw new ConfigError(`MAIL_FROM must be an address like "Blog <blog@example.com>" or blog@example.com; got "${raw.replace(/[\r\n]/g, ' ')}"`);
  }
  return raw.trim();
}

// Never echo a database password into logs or the terminal.
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}
