import { buildApp } from './app.ts';
import { prepareDatabase } from './bootstrap.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDb } from './platform/db/index.ts';
import { createInfrastructure } from './platform/infrastructure.ts';
import type { FastifyInstance } from 'fastify';

/** Fails start-up with one clear line and exit code 1, never a stack trace. */
function die(message: string): never {
  process.stderr.write(`inkwell: ${message}\n`);
  process.exit(1);
}

/**
 * Starts Inkwell from the environment: the HTTP server and background work, or
 * (worker mode) background work only. Stops cleanly on SIGTERM/SIGINT.
 */
export async function start(mode: 'server' | 'worker' = 'server'): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) die(e.message);
    throw e;
  }
  const db = openDb({ url: config.databaseUrl, connectTimeoutMs: config.databaseConnectTimeoutMs });
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
  if (mode === 'worker' && config.workers === 0) config.workers = 4;
  const infra = await createInfrastructure({ config, db, log });
  app = await buildApp(infra);
  infra.start({ workers: config.workers });
  // Finish or release running jobs before the database goes away.
  app.addHook('onClose', async () => {
    await infra.stop();
  });
  if (db.dialect === 'postgres' && !config.media.s3) {
    app.log.warn(
      { mediaDir: config.media.dir },
      `media are stored on this machine's disk (MEDIA_DIR=${config.media.dir}) but DATABASE_URL is PostgreSQL, where several instances usually serve one site: each instance would see only its own uploads. Set MEDIA_S3_BUCKET (S3-compatible storage) for several instances, or share MEDIA_DIR between them (a network file system).`,
    );
  }
  if (config.allowPrivateOutbound)
    app.log.warn('ALLOW_PRIVATE_OUTBOUND=1: outgoing HTTP may reach loopback and private addresses. Never use this in production.');
  // Every background timer is unref()'d so tests and the CLI can exit; a worker has no
  // listening socket, so this one timer is what keeps it running until a signal.
  let keepAlive: NodeJS.Timeout | undefined;
  try {
    if (mode === 'worker') {
      await app.ready();
      keepAlive = setInterval(() => {}, 1 << 30);
      app.log.info({ workers: config.workers }, 'worker started: running jobs and schedules, serving no HTTP');
    } else {
      await app.listen({ port: config.port, host: config.host });
    }
  } catch (e) {
    await db.close().catch(() => {});
    if (mode === 'worker') die(`cannot start the worker (${(e as Error).message})`);
    die(`cannot listen on ${config.host}:${config.port} (${(e as Error).message}); set PORT or HOST`);
  }
  if (setupToken && mode === 'server') {
    process.stdout.write(`\nInkwell has no admin yet. Create one (this link works once):\n  ${config.siteUrl}/setup?token=${setupToken}\n\n`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Not ready first, still serving: a proxy checking /readyz takes this
    // instance out before it stops accepting, so no client meets a closed port.
    infra.readiness.drain();
    if (mode === 'server' && config.shutdownDrainMs > 0) {
      app!.log.info({ signal, drainMs: config.shutdownDrainMs }, 'stopping: /readyz answers 503; still serving while the proxy notices');
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs));
    }
    app!.log.info({ signal }, 'stopping: finishing in-flight requests');
    // Fastify stops accepting, waits for in-flight requests, then we close the database.
    const timer = setTimeout(() => die('in-flight requests did not finish within 10 s'), 10_000);
    timer.unref();
    // Closing the app also stops the background loops (the onClose hook above).
    await app!.close();
    await db.close();
    clearInterval(keepAlive);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

if (import.meta.main) await start();
