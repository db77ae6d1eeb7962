import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { createSettings } from '../../platform/settings.ts';
import { BackupError, backupSqlite, createBackups, restoreSqlite } from './index.ts';

// A backup is only worth something if it is consistent while the blog keeps
// being written, and a restore must never overwrite a blog by accident.
eachDatabase('backup and restore', (dialect) => {
  let t: TestApp;
  let admin: TestUser;
  let token: string;
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-backup-'));

  before(async () => {
    t = await buildTestApp(dialect);
    admin = await buildUser(t, { role: 'admin' });
    token = await buildToken(t, admin);
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (n: number) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ title: `Concurrent ${n}`, body: `Written while backing up, number ${n}.`, status: 'published', tags: ['load'] }),
    });

  if (dialect === 'sqlite') {
    const dbFile = async () => (await sql<{ file: string }>`pragma database_list`.execute(t.db.kysely)).rows[0].file;

    test('a backup taken while the server writes is consistent, and restores into an empty database', async () => {
      let written = 0;
      let stop = false;
      const writer = (async () => {
        while (!stop) {
          const res = await write(written + 1);
          assert.equal(res.statusCode, 201);
          written += 1;
        }
      })();
      const waitFor = async (cond: () => boolean) => {
        while (!cond()) await new Promise((r) => setTimeout(r, 5));
      };
      await waitFor(() => written >= 5);
      const atStart = written;
      const dest = join(dir, 'live.db');
      await backupSqlite(await dbFile(), dest);
      const target = written + 3;
      await waitFor(() => written >= target);
      stop = true;
      await writer;

      const copy = new DatabaseSync(dest, { readOnly: true });
      assert.equal((copy.prepare('pragma integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
      const posts = (copy.prepare("select count(*) as n from posts where title like 'Concurrent %'").get() as { n: number }).n;
      assert.ok(posts >= atStart && posts < written, `the copy holds ${posts} of the ${written} posts (${atStart} existed when it started)`);
      // Each post and its search entry are written in one transaction: the copy has both or neither.
      const orphans = (
        copy
          .prepare("select count(*) as n from posts p where p.status = 'published' and not exists (select 1 from post_search s where s.post_id = p.id)")
          .get() as { n: number }
      ).n;
      assert.equal(orphans, 0);
      copy.close();

      const fresh = join(dir, 'restored', 'inkwell.db');
      await restoreSqlite(dest, fresh);
      const restored = new DatabaseSync(fresh, { readOnly: true });
      assert.equal((restored.prepare("select count(*) as n from posts where title like 'Concurrent %'").get() as { n: number }).n, posts);
      restored.close();
      await assert.rejects(restoreSqlite(dest, fresh), (e: Error) => e instanceof BackupError && /already holds a blog.*--force/.test(e.message));
      await restoreSqlite(dest, fresh, { force: true });
      await assert.rejects(restoreSqlite(join(dir, 'nothing.db'), fresh), BackupError);
      await assert.rejects(backupSqlite(await dbFile(), await dbFile()), /another file/);
    });

    test('the CLI: backup of a running database, restore refusing a blog without --force', async () => {
      const run = promisify(execFile);
      const bin = new URL('../../../bin/inkwell.js', import.meta.url).pathname;
      const env = { ...process.env, DATABASE_URL: `sqlite:${await dbFile()}`, LOG_LEVEL: 'silent' };
      const out = await run(process.execPath, [bin, 'backup', join(dir, 'cli.db')], { env });
      assert.match(out.stdout, /Backed up .* to .*cli\.db/);
      await assert.rejects(run(process.execPath, [bin, 'restore', join(dir, 'cli.db')], { env }), (e: { code: number; stderr: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr, /already holds a blog; .*--force/);
        return true;
      });
    });

    test('the nightly backup keeps BACKUP_KEEP copies and remembers its last result', async () => {
      let now = Date.parse('2026-01-01T03:30:00Z');
      const clock = { now: () => new Date(now) };
      const backups = createBackups({
        settings: createSettings(t.db.kysely),
        clock,
        databaseUrl: `sqlite:${await dbFile()}`,
        dir: join(dir, 'nightly'),
        keep: 2,
        db: t.db.kysely,
      });
      for (let day = 0; day < 3; day++) {
        const r = await backups.run();
        assert.ok(r.ok, r.message);
        now += 86_400_000;
      }
      assert.deepEqual(readdirSync(join(dir, 'nightly')).sort(), ['inkwell-20260102-033000.db', 'inkwell-20260103-033000.db']);
      assert.equal((await backups.last())!.file, join(dir, 'nightly', 'inkwell-20260103-033000.db'));
    });
  } else {
    test('PostgreSQL: the nightly backup says to use pg_dump, naming the server version', async () => {
      const backups = createBackups({
        settings: createSettings(t.db.kysely),
        clock: { now: () => new Date() },
        databaseUrl: 'postgres://x@127.0.0.1/db',
        dir: join(dir, 'pg'),
        keep: 2,
        db: t.db.kysely,
      });
      const r = await backups.run();
      assert.equal(r.ok, false);
      assert.match(r.message, /PostgreSQL \d+.*pg_dump|PostgreSQL \d+/);
      assert.ok(!existsSync(join(dir, 'pg', 'inkwell.db')));
    });
  }

  test('/admin/backups shows whether backups are on and the last result; admins only', async () => {
    const c = new Client(t.app);
    await c.login(admin.username, admin.password);
    const page = await c.get('/admin/backups');
    assert.equal(page.status, 200);
    assert.match(page.body, /Nightly backups are off\. Set <code>BACKUP_DIR<\/code>/);
    assert.match(page.body, /id="last-backup"[^>]*>[^<]*(<time[^>]*>[^<]*<\/time>: <strong>(succeeded|failed)|None yet)/);
    const author = await buildUser(t, { role: 'author' });
    const a = new Client(t.app);
    await a.login(author.username, author.password);
    assert.equal((await a.get('/admin/backups')).status, 403);
  });
});
