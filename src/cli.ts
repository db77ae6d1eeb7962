import { parseArgs } from 'node:util';
import { prepareDatabase } from './bootstrap.ts';
import { ConfigError, loadConfig } from './config.ts';
import { openDb, type Db } from './platform/db/index.ts';
import { migrateToLatest } from './platform/db/migrate.ts';
import { AppError } from './platform/errors.ts';
import { createInfrastructure } from './platform/infrastructure.ts';
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
  --help                        Show this help

The database is the one DATABASE_URL names (default: SQLite at ./data/inkwell.db).`;

function fail(message: string): never {
  process.stderr.write(`inkwell: ${message}\n`);
  process.exit(1);
}

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  let url: string;
  try {
    url = loadConfig().databaseUrl;
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  const db = openDb({ url, poolSize: 2 });
  try {
    return await fn(db);
  } catch (e) {
    if (e instanceof AppError) fail(e.errors.length ? e.errors.map((x) => `${x.field} ${x.message}`).join('; ') : e.message);
    fail((e as Error).message);
  } finally {
    await db.close();
  }
}

async function createAccount(db: Db, values: Record<string, string | undefined>, role: string) {
  await prepareDatabase(db);
  // With events, like every other sign-up: user.created reaches Slack and webhooks (a worker or server delivers it).
  const infra = await createInfrastructure({ config: loadConfig(), db });
  const accounts = createAccountsService({ db: db.kysely, clock: systemClock, settings: createSettings(db.kysely), events: infra.events });
  const email = values.email ?? '';
  const username = values.username ?? email.split('@')[0].toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30);
  const user = await accounts.createUser({ email, username, displayName: values.name, password: values.password, role: role as never });
  if (role === 'admin') await accounts.finishSetup();
  await infra.stop();
  process.stdout.write(`Created ${role} ${user.username} (${email.toLowerCase()}).\n`);
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  const parse = () => parseArgs({
    args: rest,
    options: {
      email: { type: 'string' }, password: { type: 'string' }, username: { type: 'string' }, name: { type: 'string' },
      role: { type: 'string' }, user: { type: 'string' }, scopes: { type: 'string' },
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
          db: db.kysely, clock: systemClock, mailer: infra.mailer, http: infra.http, site,
        });
        const summary = await crawl.run({ trigger: 'manual' });
        await infra.mailer.deliverDue();
        await infra.stop();
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      });
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
        const scopes = (v.scopes ?? 'read,write').split(',').map((s) => s.trim()).filter(Boolean);
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
