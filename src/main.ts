import { buildApp } from './app.ts';
import { prepareDatabase } from './bootstrap.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDb } from './platform/db/index.ts';
import { createMailer } from './platform/mail/index.ts';
import { createEvents } from './platform/events/index.ts';
import { createLiveBus } from './platform/events/live.ts';
import { systemClock } from './lib/clock.ts';
import type { FastifyInstance } from 'fastify';

/** Fails start-up with one clear line and exit code 1, never a stack trace. */
function die(message: string): never {
  process.stderr.write(`inkwell: ${message}\n`);
  process.exit(1);
}

/** Starts the server from the environment and stops it cleanly on SIGTERM/SIGINT. */
export async function start(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) die(e.message);
    throw e;
  }
  const db = openDb({ url: config.databaseUrl });
  let setupToken: string | null;
  try {
    ({ setupToken } = await prepareDatabase(db));
  } catch (e) {
    await db.close().catch(() => {});
    die(`cannot prepare the database at DATABASE_URL (${(e as Error).message})`);
  }
  // The mailer logs through the app's logger, which exists once the app is built.
  let app: FastifyInstance | undefined;
  const log = {
    info: (o: object, m?: string) => app?.log.info(o, m),
    warn: (o: object, m?: string) => app?.log.warn(o, m),
    error: (o: object, m?: string) => app?.log.error(o, m),
  };
  const mailer = createMailer({ db: db.kysely, clock: systemClock, smtpUrl: config.smtpUrl, from: config.mailFrom, log });
  const events = createEvents({ db: db.kysely, clock: systemClock, log });
  const live = await createLiveBus(db, log);
  app = await buildApp({ config, db, mailer, events, live, background: true });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (e) {
    await db.close().catch(() => {});
    die(`cannot listen on ${config.host}:${config.port} (${(e as Error).message}); set PORT or HOST`);
  }
  if (setupToken) {
    process.stdout.write(`\nInkwell has no admin yet. Create one (this link works once):\n  ${config.siteUrl}/setup?token=${setupToken}\n\n`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app!.log.info({ signal }, 'stopping: finishing in-flight requests');
    // Fastify stops accepting, waits for in-flight requests, then we close the database.
    const timer = setTimeout(() => die('in-flight requests did not finish within 10 s'), 10_000);
    timer.unref();
    // Closing the app also stops the mail and event loops (onClose hooks).
    await app!.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

if (import.meta.main) await start();
