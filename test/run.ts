// `npm test`: every *.test.ts under src/ and test/, through node's test runner.
// Suites run on SQLite, and on PostgreSQL too when INKWELL_TEST_DATABASE_URL is set.
import { spawnSync } from 'node:child_process';

const pg = process.env.INKWELL_TEST_DATABASE_URL;
const notice = pg
  ? `PostgreSQL: suites run on SQLite and on PostgreSQL (${pg.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')}).`
  : 'PostgreSQL: SKIPPED. INKWELL_TEST_DATABASE_URL is not set, so suites run on SQLite only.\n'
    + '            Set it (e.g. INKWELL_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test) to run them on PostgreSQL too.';

console.log(notice);
const args = ['--test', '--test-concurrency=2', '--test-timeout=120000', ...process.argv.slice(2)];
if (process.argv.length <= 2) args.push('src/**/*.test.ts', 'test/**/*.test.ts');
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
console.log(notice);
process.exit(result.status ?? 1);
