// A real Inkwell server in its own process, for tests whose client must not
// share the server's event loop (connection resets, timeouts). Prints its base
// URL, and closes cleanly on SIGTERM.
import type { Dialect } from '../../src/platform/db/index.ts';
import { buildTestApp } from './app.ts';
import { listenOnLoopback } from './request.ts';

const [dialect, env] = process.argv.slice(2);
const t = await buildTestApp(dialect as Dialect, { env: JSON.parse(env || '{}') as Record<string, string> });
process.stdout.write(`${await listenOnLoopback(t.app)}\n`);
process.once('SIGTERM', () => {
  t.close().finally(() => process.exit(0));
});
