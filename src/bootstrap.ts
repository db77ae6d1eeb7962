import { readFileSync } from 'node:fs';
import type { Db } from './platform/db/index.ts';
import { migrateToLatest } from './platform/db/migrate.ts';
import { createSettings } from './platform/settings.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { createAccountsService } from './features/accounts/index.ts';
import { createPostsService } from './features/posts/index.ts';

const WELCOME = readFileSync(new URL('./features/posts/welcome.md', import.meta.url), 'utf8');

/**
 * Readies a database for serving: applies migrations, seeds the welcome post
 * into a brand-new blog (once in its life, even if several instances start
 * together), and, while no admin exists, issues a one-time setup token.
 */
export async function prepareDatabase(db: Db, clock: Clock = systemClock): Promise<{ migrations: string[]; setupToken: string | null }> {
  const migrations = await migrateToLatest(db.kysely);
  const settings = createSettings(db.kysely);
  if (await settings.claim('welcome_seeded_at', clock.now().toISOString())) {
    const anyPost = await db.kysely.selectFrom('posts').select('id').limit(1).executeTakeFirst();
    if (!anyPost) await createPostsService({ db: db.kysely, clock }).seedWelcome(WELCOME);
  }
  const setupToken = await createAccountsService({ db: db.kysely, clock, settings }).issueSetupToken();
  return { migrations, setupToken };
}
