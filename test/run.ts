// `npm test`: every *.test.ts under src/ and test/, through node's test runner.
// Suites run on SQLite, and on PostgreSQL too when INKWELL_TEST_DATABASE_URL is set.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const pgUrl = () => process.env.INKWELL_TEST_DATABASE_URL;
const notice = pgUrl()
  ? `PostgreSQL: suites run on SQLite and on PostgreSQL (${pgUrl()!.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')}).`
  : 'PostgreSQL: SKIPPED. INKWELL_TEST_DATABASE_URL is not set, so suites run on SQLite only.\n' +
    '            Set it (e.g. INKWELL_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test) to run them on PostgreSQL too.';

// A schema is named inkwell_t_<run>_<random> (see freshDb in test/support/app.ts),
// where <run> is the minute this run started, in base 36, and a random tag. A run
// drops its own schemas when it ends, and those of runs that started more than a
// day ago (killed before they could clean up). Process ids would not do: runs in
// other containers or PID namespaces may share the database and look dead.
const RUN = `${Math.floor(Date.now() / 60_000).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
process.env.INKWELL_TEST_RUN = RUN;

function stale(schema: string): boolean {
  const minute = Number.parseInt(/^inkwell_t_([0-9a-z]+?)[0-9a-z]{4}_/.exec(schema)?.[1] ?? '', 36);
  return !Number.isFinite(minute) || Date.now() / 60_000 - minute > 24 * 60;
}

async function dropTestSchemas(url: string, which: (schema: string) => boolean): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(`select nspname from pg_namespace where nspname like 'inkwell\\_t\\_%'`);
  for (const r of rows) if (which(r.nspname)) await client.query(`drop schema if exists "${r.nspname}" cascade`);
  await client.end();
}

console.log(notice);
if (pgUrl()) await dropTestSchemas(pgUrl()!, stale);
// --test-force-exit: a file whose tests have all finished ends, even when a handle
// outlives its app (seen rarely on PostgreSQL after a browser test whose signed-in pages
// held live streams: every test passed, then the file waited for its 120 s timeout).
// A server's own exit with open streams is tested by test/e2e/shutdown.test.ts.
const args = ['--test', '--test-concurrency=2', '--test-timeout=120000', '--test-force-exit', ...process.argv.slice(2)];
if (process.argv.length <= 2) args.push('src/**/*.test.ts', 'test/**/*.test.ts');
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (pgUrl()) await dropTestSchemas(pgUrl()!, (schema) => schema.startsWith(`inkwell_t_${RUN}_`) || stale(schema));
console.log(notice);
process.exit(result.status ?? 1);
