import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { backup, DatabaseSync } from 'node:sqlite';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import type { Settings } from '../../platform/settings.ts';
import type { Clock } from '../../lib/clock.ts';

/** Why a backup or restore did not happen, said plainly (the CLI prints it and exits 1). */
export class BackupError extends Error {}

const LAST_KEY = 'backup_last';
const NAME = /^inkwell-\d{8}-\d{6}\.db$/;

/** The SQLite file a `sqlite:` URL names, or null for PostgreSQL or an in-memory database. */
export function sqliteFile(url: string): string | null {
  if (!url.startsWith('sqlite:')) return null;
  const file = url.slice('sqlite:'.length);
  return file === ':memory:' ? null : resolve(file);
}

/** What pg_dump and pg_restore to run, for this server's version. */
export async function postgresAdvice(db: Kysely<Database>): Promise<string> {
  const row = await sql<{ server_version: string }>`show server_version`.execute(db);
  const version = row.rows[0]?.server_version ?? 'unknown';
  const major = /^\d+/.exec(version)?.[0] ?? '?';
  return [
    `This database is PostgreSQL ${version}. Back it up with PostgreSQL's own tools, version ${major} or newer`,
    '(an older pg_dump refuses a newer server):',
    '  pg_dump --format=custom --file=inkwell.dump "$DATABASE_URL"',
    'and restore into an empty database with:',
    '  pg_restore --no-owner --dbname="$DATABASE_URL" inkwell.dump',
    'pg_dump takes a consistent snapshot while the server keeps running. See "Backups" in the README.',
  ].join('\n');
}

/**
 * Copies a live SQLite database with SQLite's online backup API (node:sqlite's
 * backup()): the copy is consistent even while the server writes, and writers
 * are not blocked for the whole copy. Written beside the target and renamed,
 * so a crash never leaves half a backup under the final name.
 */
export async function backupSqlite(source: string, dest: string): Promise<{ bytes: number }> {
  if (!existsSync(source)) throw new BackupError(`there is no database at ${source}`);
  const target = resolve(dest);
  if (target === resolve(source)) throw new BackupError('the backup must go to another file than the database');
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new DatabaseSync(source, { readOnly: true });
  try {
    await backup(db, partial, { rate: 256 });
  } finally {
    db.close();
  }
  renameSync(partial, target);
  return { bytes: statSync(target).size };
}

/** Whether a database holds a blog already: anyone's account, or a post besides the welcome post. */
function holdsABlog(file: string): boolean {
  if (!existsSync(file) || statSync(file).size === 0) return false;
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const tables = new Set((db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((r) => r.name));
    // Tables of something else: not ours to overwrite without --force.
    if (!tables.has('users')) return tables.size > 0;
    const users = (db.prepare('select count(*) as n from users').get() as { n: number }).n;
    const posts = tables.has('posts') ? (db.prepare("select count(*) as n from posts where slug <> 'welcome-to-inkwell'").get() as { n: number }).n : 0;
    return users > 0 || posts > 0;
  } finally {
    db.close();
  }
}

/**
 * Restores a backup into the database file: refused when that database
 * already holds a blog, unless forced. The server must be stopped: a restore
 * replaces the whole file underneath it.
 */
export async function restoreSqlite(backupFile: string, target: string, opts: { force?: boolean } = {}): Promise<void> {
  if (!existsSync(backupFile)) throw new BackupError(`there is no backup at ${backupFile}`);
  let src: DatabaseSync;
  try {
    src = new DatabaseSync(backupFile, { readOnly: true });
    const check = src.prepare('pragma quick_check').get() as Record<string, string>;
    if (Object.values(check)[0] !== 'ok') throw new Error('damaged');
    src.prepare('select count(*) from posts').get();
  } catch {
    throw new BackupError(`${backupFile} is not an Inkwell SQLite backup (or it is damaged)`);
  }
  try {
    if (!opts.force && holdsABlog(target)) {
      throw new BackupError(`${target} already holds a blog; restoring would replace it. Add --force to replace it anyway`);
    }
    mkdirSync(dirname(target), { recursive: true });
    for (const extra of ['-wal', '-shm']) rmSync(`${target}${extra}`, { force: true });
    await backup(src, target);
  } finally {
    src.close();
  }
}

/** The nightly backup: a copy in BACKUP_DIR, the oldest beyond BACKUP_KEEP removed, the result remembered. */
export function createBackups(deps: { settings: Settings; clock: Clock; databaseUrl: string; dir: string | null; keep: number; db: Kysely<Database> }) {
  const { settings, clock } = deps;
  return {
    /** Runs one backup now (the schedule calls this); never throws: the result says what happened. */
    async run(): Promise<BackupResult> {
      const at = clock.now();
      const result = await (async (): Promise<BackupResult> => {
        if (!deps.dir) return { at: at.toISOString(), ok: false, message: 'BACKUP_DIR is not set' };
        const file = sqliteFile(deps.databaseUrl);
        if (!file)
          return {
            at: at.toISOString(),
            ok: false,
            message: `${(await postgresAdvice(deps.db).catch(() => 'PostgreSQL: use pg_dump')).split('\n')[0]}; nightly backups cover SQLite only`,
          };
        const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
        const dest = join(deps.dir, `inkwell-${stamp}.db`);
        try {
          const { bytes } = await backupSqlite(file, dest);
          const old = readdirSync(deps.dir)
            .filter((n) => NAME.test(n))
            .sort()
            .reverse()
            .slice(deps.keep);
          for (const n of old) rmSync(join(deps.dir, n), { force: true });
          return { at: at.toISOString(), ok: true, file: dest, bytes, removed: old.length, message: `Backed up to ${dest}` };
        } catch (e) {
          return { at: at.toISOString(), ok: false, message: (e as Error).message };
        }
      })();
      await settings.set(LAST_KEY, JSON.stringify(result));
      return result;
    },

    /** The last result, if any. */
    async last(): Promise<BackupResult | null> {
      const raw = await settings.get(LAST_KEY);
      return raw ? (JSON.parse(raw) as BackupResult) : null;
    },

    /** The backups kept in BACKUP_DIR, newest first. */
    list(): { name: string; bytes: number }[] {
      if (!deps.dir || !existsSync(deps.dir)) return [];
      return readdirSync(deps.dir)
        .filter((n) => NAME.test(n))
        .sort()
        .reverse()
        .map((name) => ({ name, bytes: statSync(join(deps.dir!, name)).size }));
    },
    enabled: () => !!deps.dir,
    keep: deps.keep,
    dir: deps.dir,
  };
}

/** What one backup run did. */
export interface BackupResult {
  at: string;
  ok: boolean;
  message: string;
  file?: string;
  bytes?: number;
  removed?: number;
}

export type Backups = ReturnType<typeof createBackups>;
