import { parseArgs } from 'node:util';
import { prepareDatabase } from './bootstrap.ts';
import { ConfigError, loadConfig } from './config.ts';
import { openDb, type Db } from './platform/db/index.ts';
import { migrateToLatest } from './platform/db/migrate.ts';
import { AppError } from './platform/errors.ts';
import { createInfrastructure } from './platform/infrastructure.ts';
import { DELIVER_JOB } from './platform/mail/index.ts';
import { createSite } from './platform/site.ts';
import { createSettings } from './platform/settings.ts';
import { systemClock } from './lib/clock.ts';
import { createAccountsService } from './features/accounts/index.ts';
import { start } from './main.ts';

const HELP = `Usage: npm run inkwell -- <command> [options]   (or: inkwell <command>)

Commands:
  start                         Serve the blog (same as npm start)
  worker                        Run only background work: jobs, schedules, mail (no HTTP)
  crawl                         Check every outbound link of published posts now (see /admin/links)
  migrate                       Apply pending database migrations and exit
  create-admin --email E --password P [--username U] [--name "Display Name"]
                                Create an admin account (the same as the /setup link)
  create-user  --email E --password P --role author|editor|reader|admin [--username U] [--name N]
                                Create an account with any role
  create-token --user EMAIL_OR_USERNAME [--name N] [--scopes read,write]
                                Mint a personal API token; it is printed once
  import wordpress FILE.xml     Import a WordPress export (WXR): posts, pages, comments, authors, tags, old addresses
  import ghost FILE.json        Import a Ghost export: posts, pages, tags, authors, old addresses
        [--site-url https://old.example]
                                (both) Images are copied into the media library; the old site's address
                                resolves Ghost's __GHOST_URL__ and relative image URLs
  import inkwell FILE.tar.gz    Import an Inkwell export archive (see export)
  export FILE.tar.gz            Export the whole blog: inkwell.json, one Markdown file per post, the media files
  backup FILE                   Copy the SQLite database while the server runs (PostgreSQL: prints the pg_dump to run)
  restore FILE [--force]        Restore a backup into an empty SQLite database (--force replaces a blog; stop the server first)
  --help                        Show this help

The database is the one DATABASE_URL names (default: SQLite at ./data/inkwell.db).`;

function fail(message: string): never {
  process.stderr.write(`inkwell: ${message}\n`);
  process.exit(1);
}

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  let url: string;
  let connectTimeoutMs: number;
  try {
    ({ databaseUrl: url, databaseConnectTimeoutMs: connectTimeoutMs } = loadConfig());
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  const db = openDb({ url, poolSize: 2, connectTimeoutMs });
  try {
    return await fn(db);
  } catch (e) {
    if (e instanceof AppError) fail(e.errors.length ? e.errors.map((x) => `${x.field} ${x.message}`).join('; ') : e.message);
    fail((e as Error).message);
  } finally {
    await db.close();
  }
}

// A username from the email's local part ("Jane.Doe@…" -> "jane_doe"), made long enough
// and, when taken, numbered ("jane_doe_2"); undefined when no such name is free.
async function freeUsername(db: Db, email: string): Promise<string | undefined> {
  let base = (email.split('@')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 24);
  if (base.length < 2) base = base ? `${base}_user` : 'user';
  for (let n = 1; n <= 50; n++) {
    const candidate = n === 1 ? base : `${base}_${n}`;
    const taken = await db.kysely.selectFrom('users').select('id').where('username', '=', candidate).executeTakeFirst();
    if (!taken) return candidate;
  }
  return undefined;
}

async function createAccount(db: Db, values: Record<string, string | undefined>, role: string) {
  await prepareDatabase(db);
  // The same events as any other sign-up (user.created: Slack, webhooks). With the queue,
  // recording one also enqueues its dispatch, which the running server or worker picks up.
  const config = loadConfig();
  const infra = await createInfrastructure({ config, db });
  const accounts = createAccountsService({
    db: db.kysely,
    clock: systemClock,
    settings: createSettings(db.kysely),
    events: infra.events,
    passwordHashCost: config.passwordHashCost,
  });
  const email = values.email ?? '';
  const username = values.username ?? (await freeUsername(db, email));
  if (username === undefined) fail(`cannot make a free username from "${email}"; pass one with --username`);
  try {
    const user = await accounts.createUser({ email, username, displayName: values.name, password: values.password, role: role as never });
    if (role === 'admin') await accounts.finishSetup();
    process.stdout.write(`Created ${role} ${user.username} (${email.toLowerCase()}).\n`);
  } catch (e) {
    // A derived name that turned out invalid is ours to explain, not the person's to guess.
    if (!values.username && e instanceof AppError && e.errors.some((x) => x.field === 'username')) {
      fail(`${e.errors.map((x) => `${x.field} ${x.message}`).join('; ')} (the username "${username}" came from the email; pass one with --username)`);
    }
    throw e;
  } finally {
    await infra.stop();
  }
}

// A progress bar on a terminal; nothing when output goes to a file or a pipe.
function progressBar(label: string) {
  if (!process.stderr.isTTY) return { update: () => {}, end: () => {} };
  let last = 0;
  return {
    update(done: number, total: number) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const filled = total ? Math.round((done / total) * width) : 0;
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    },
    end: () => process.stderr.write('\n'),
  };
}

// The services moving in and out uses, on the CLI's database.
async function movingServices(db: Db) {
  const config = loadConfig();
  const infra = await createInfrastructure({ config, db });
  const { createExporter, standaloneServices } = await import('./features/moving/index.ts');
  const deps = standaloneServices({ db, events: infra.events, queue: infra.queue, media: config.media, siteUrl: config.siteUrl });
  return { infra, exporter: createExporter({ ...deps, site: { url: config.siteUrl } }) };
}

async function exportFile(file: string | undefined) {
  if (!file) fail('export needs a file name: export blog.tar.gz');
  return withDb(async (db) => {
    await migrateToLatest(db.kysely);
    const { infra, exporter } = await movingServices(db);
    const { createWriteStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    await pipeline(await exporter.exportArchive(), createWriteStream(file));
    await infra.stop();
    process.stdout.write(`Exported to ${file}.\n`);
  });
}

async function backupOrRestore(command: 'backup' | 'restore', file: string, force: boolean) {
  const { BackupError, backupSqlite, postgresAdvice, restoreSqlite, sqliteFile } = await import('./features/moving/index.ts');
  let url: string;
  try {
    url = loadConfig().databaseUrl;
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  const dbFile = sqliteFile(url);
  if (!dbFile) {
    return withDb(async (db) => fail(`${command} works on SQLite only.\n${await postgresAdvice(db.kysely)}`));
  }
  try {
    if (command === 'backup') {
      const { bytes } = await backupSqlite(dbFile, file);
      process.stdout.write(`Backed up ${dbFile} to ${file} (${(bytes / 1024 / 1024).toFixed(1)} MB).\n`);
    } else {
      await restoreSqlite(file, dbFile, { force });
      process.stdout.write(`Restored ${file} into ${dbFile}. Start the server: it applies any newer migrations.\n`);
    }
  } catch (e) {
    if (e instanceof BackupError) fail(`${command} failed: ${e.message}`);
    throw e;
  }
}

// The media library on the CLI's database (imports store images; the export reads them).
async function mediaService(db: Db, infra: Awaited<ReturnType<typeof createInfrastructure>>) {
  const config = loadConfig();
  const { createMediaService, createMediaStorage } = await import('./features/media/index.ts');
  return createMediaService({
    db: db.kysely,
    storage: createMediaStorage(config.media),
    queue: infra.queue,
    clock: systemClock,
    config: config.media,
    siteUrl: config.siteUrl,
  });
}

async function importFile(format: string | undefined, file: string | undefined, siteUrl: string | undefined) {
  if (format !== 'wordpress' && format !== 'ghost' && format !== 'inkwell')
    fail('import needs a format and a file: import wordpress FILE.xml, import ghost FILE.json or import inkwell FILE.tar.gz');
  if (!file) fail(`import ${format} needs a file`);
  const { existsSync } = await import('node:fs');
  if (!existsSync(file)) fail(`no file at ${file}`);
  return withDb(async (db) => {
    await prepareDatabase(db);
    const config = loadConfig();
    const infra = await createInfrastructure({ config, db });
    const { standaloneMovingService, reportText, ImportRefused } = await import('./features/moving/index.ts');
    const moving = standaloneMovingService({
      db,
      events: infra.events,
      queue: infra.queue,
      media: config.media,
      siteUrl: config.siteUrl,
      images: { http: infra.http, media: await mediaService(db, infra), maxBytes: config.media.maxBytes },
    });
    const bar = progressBar('Importing');
    try {
      if (format === 'inkwell') {
        const { exporter } = await movingServices(db);
        const r = await exporter.importArchive(file);
        bar.end();
        process.stdout.write(
          `Imported in ${(r.elapsedMs / 1000).toFixed(1)} s:\n${Object.entries(r.counts)
            .map(([k, c]) => `  ${k.padEnd(10)} ${c.imported} imported, ${c.updated} updated, ${c.skipped} skipped`)
            .join(
              '\n',
            )}\n${r.failed ? `  ${r.failed} item(s) failed whole (below); importing the archive again retries them\n` : ''}${r.warnings.map((w) => `  ${w.item}: ${w.message}\n`).join('')}`,
        );
        return;
      }
      const report =
        format === 'ghost'
          ? await moving.importGhost(file, { onProgress: bar.update, siteUrl })
          : await moving.importWordPress(file, { onProgress: bar.update, siteUrl });
      bar.end();
      process.stdout.write(`${reportText(report)}\n`);
    } catch (e) {
      bar.end();
      if (e instanceof ImportRefused) fail(`${file} was not imported: ${e.message}. Nothing was changed.`);
      throw e;
    } finally {
      await infra.stop();
    }
  });
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  const parse = () =>
    parseArgs({
      args: rest,
      options: {
        email: { type: 'string' },
        password: { type: 'string' },
        username: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string' },
        user: { type: 'string' },
        scopes: { type: 'string' },
      },
      strict: true,
    }).values;

  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${HELP}\n`);
      return;
    case 'start':
      return start();
    case 'worker':
      return start('worker');
    case 'crawl':
      return withDb(async (db) => {
        await migrateToLatest(db.kysely);
        const config = loadConfig();
        const { createCrawlService } = await import('./features/crawl/index.ts');
        const infra = await createInfrastructure({ config, db });
        const site = createSite({ db, url: config.siteUrl, timezone: config.timezone });
        await site.refresh();
        const crawl = createCrawlService({
          db: db.kysely,
          clock: systemClock,
          mailer: infra.mailer,
          accounts: createAccountsService({ db: db.kysely, clock: systemClock, settings: createSettings(db.kysely) }),
          http: infra.http,
          site,
        });
        const summary = await crawl.run({ trigger: 'manual' });
        // The report's email goes out now, not when a worker next looks.
        await infra.queue.drain({ types: [DELIVER_JOB] });
        await infra.stop();
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      });
    case 'import': {
      const { values, positionals } = parseArgs({ args: rest, options: { 'site-url': { type: 'string' } }, allowPositionals: true, strict: true });
      const siteUrl = values['site-url']?.trim();
      if (siteUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(siteUrl))
        fail(`--site-url must be an http(s) address such as https://old.example; got "${siteUrl}"`);
      return importFile(positionals[0], positionals[1], siteUrl);
    }
    case 'export':
      return exportFile(rest[0]);
    case 'backup':
    case 'restore': {
      const { values, positionals } = parseArgs({ args: rest, options: { force: { type: 'boolean' } }, allowPositionals: true, strict: true });
      if (positionals.length !== 1) fail(`${command} needs one file: ${command} FILE`);
      return backupOrRestore(command, positionals[0], !!values.force);
    }
    case 'migrate':
      return withDb(async (db) => {
        const applied = await migrateToLatest(db.kysely);
        process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date.\n');
      });
    case 'create-admin':
      return withDb((db) => createAccount(db, parse(), 'admin'));
    case 'create-user': {
      const v = parse();
      return withDb((db) => createAccount(db, v, v.role ?? 'author'));
    }
    case 'create-token': {
      const v = parse();
      if (!v.user) fail('create-token needs --user EMAIL_OR_USERNAME');
      return withDb(async (db) => {
        await migrateToLatest(db.kysely);
        const accounts = createAccountsService({ db: db.kysely, clock: systemClock, settings: createSettings(db.kysely) });
        const id = await accounts.findUserId(v.user!);
        if (id === undefined) fail(`no user with email or username "${v.user}"`);
        const scopes = (v.scopes ?? 'read,write')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const { token } = await accounts.createApiToken(id, v.name ?? 'CLI token', scopes);
        process.stdout.write(`${token}\n`);
        process.stderr.write('Keep this token safe: it is shown only once. Send it as "Authorization: Bearer <token>".\n');
      });
    }
    default:
      fail(`unknown command "${command}"; see npm run inkwell -- --help`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail(`${(e as Error).message}; see --help`);
  throw e;
}
