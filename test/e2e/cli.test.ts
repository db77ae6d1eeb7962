import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { eachDatabase, freshDb } from '../support/app.ts';
import type { Db } from '../../src/platform/db/index.ts';

const root = new URL('../../', import.meta.url).pathname;

eachDatabase('create-admin and create-user on the command line', (dialect) => {
  let env: Record<string, string>;
  let db: Db;
  let drop: () => Promise<void>;

  before(async () => {
    const fresh = await freshDb(dialect);
    db = fresh.db;
    drop = fresh.drop;
    const url = fresh.schema ? `${fresh.url}${fresh.url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${fresh.schema}`)}` : fresh.url;
    env = { DATABASE_URL: url };
  });
  after(() => drop());

  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/inkwell.js', ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  const userNamed = (email: string) => db.kysely.selectFrom('users').select(['id', 'username', 'role']).where('email', '=', email).executeTakeFirstOrThrow();

  test('a one-letter or taken local part still gives a valid, free username; --username is used as given', async () => {
    const admin = cli('create-admin', '--email', 'a@example.com', '--password', 'long enough pw');
    assert.equal(admin.status, 0, admin.stderr);
    const first = await userNamed('a@example.com');
    assert.equal(first.role, 'admin');
    assert.match(first.username, /^[a-z0-9_]{2,30}$/);
    assert.match(admin.stdout, new RegExp(`Created admin ${first.username} `));

    const same = cli('create-user', '--email', 'a@example.org', '--password', 'long enough pw', '--role', 'author');
    assert.equal(same.status, 0, same.stderr);
    const second = await userNamed('a@example.org');
    assert.match(second.username, /^[a-z0-9_]{2,30}$/);
    assert.notEqual(second.username, first.username);

    const given = cli('create-user', '--email', 'x.y@example.com', '--password', 'long enough pw', '--role', 'reader', '--username', first.username);
    assert.equal(given.status, 1);
    assert.match(given.stderr, /^inkwell: username .*taken/);
  });

  test('an account made on the command line fires user.created, like any sign-up (Slack, webhooks)', async () => {
    const res = cli('create-user', '--email', 'evented@example.com', '--password', 'long enough pw', '--role', 'author');
    assert.equal(res.status, 0, res.stderr);
    const { id } = await userNamed('evented@example.com');
    const events = await db.kysely.selectFrom('events').select(['id', 'payload']).where('type', '=', 'user.created').execute();
    const event = events.find((e) => JSON.parse(e.payload).userId === id);
    assert.ok(event, 'a user.created event for the new account');
    // Queued for whichever server or worker runs the jobs.
    const job = await db.kysely
      .selectFrom('jobs')
      .select('status')
      .where('type', '=', 'event.dispatch')
      .where('payload', '=', JSON.stringify({ eventId: event.id }))
      .executeTakeFirst();
    assert.equal(job?.status, 'queued');
  });
});
