// A worker process for the lease test: it claims the one due job and hangs in
// its handler until the parent kills it with SIGKILL.
import { openDb } from '../../src/platform/db/index.ts';
import { createQueue } from '../../src/platform/jobs/queue.ts';

const [url, schema] = process.argv.slice(2);
const db = openDb({ url, schema: schema || undefined, poolSize: 2 });
const queue = createQueue({ db: db.kysely, clock: { now: () => new Date() }, dialect: db.dialect });
// A lease of its own, shorter than the default minute: the parent checks it is the one used.
queue.define('slow', {
  leaseMs: 20_000,
  handler: async () => {
    process.stdout.write('claimed\n');
    await new Promise(() => {}); // never finishes
  },
});
queue.start({ concurrency: 1, pollMs: 50 });
