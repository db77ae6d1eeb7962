// `npm test`: every *.test.ts under src/ and test/, through node's test runner.
// Suites run on SQLite, and on PostgreSQL too when INKWELL_TEST_DATABASE_URL is set.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const pgUrl = () => process.env.INKWELL_TEST_DATABASE_URL;
const notice = pgUrl()
  ? `PostgreSQL: suites run on SQLite and on PostgreSQL (${pgUrl()!.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')}).`
  : 'PostgreSQL: SKIPPED. INKWELL_TEST_DATABASE_URL is not set, so suites run on SQLite only.\n' +
    '            Set it (e.g. INKWELL_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test) to run them on PostgreSQL too.';

// A schema is named inkwell_t_<pid>_<random> after the test process that made it.
function ownerAlive(schema: string): boolean {
  const pid = Number(/^inkwell_t_(\d+)_/.exec(schema)?.[1]);
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Drops the schemas test runs leave in the test database (see freshDb in
 * test/support/app.ts), except those of test processes still running: another
 * run on this machine may share the database.
 */
async function dropTestSchemas(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(`select nspname from pg_namespace where nspname like 'inkwell\\_t\\_%'`);
  for (const r of rows) if (!ownerAlive(r.nspname)) await client.query(`drop schema if exists "${r.nspname}" cascade`);
  await client.end();
}

console.log(notice);
if (pgUrl()) await dropTestSchemas(pgUrl()!);
const args = ['--test', '--test-concurrency=2', '--test-timeout=120000', ...process.argv.slice(2)];
if (process.argv.length <= 2) args.push('src/**/*.test.ts', 'test/**/*.test.ts');
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (pgUrl()) await dropTestSchemas(pgUrl()!);
console.log(notice);
process.exit(result.status ?? 1);
