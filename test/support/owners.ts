import type { Kysely } from 'kysely';
import type { Database } from '../../src/platform/db/schema.ts';
import { createSettings } from '../../src/platform/settings.ts';
import { type Clock, systemClock } from '../../src/lib/clock.ts';
import { createAccountsService } from '../../src/features/accounts/index.ts';
import { createPostsService } from '../../src/features/posts/index.ts';
import { findComment } from '../../src/features/comments/comments.queries.ts';

/**
 * The readers notifications take from accounts, posts and comments, built on one
 * database, for a notifications service a test makes outside the app (the app
 * passes the features it built).
 */
export function notificationOwnersOn(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    accounts: createAccountsService({ db, clock, settings: createSettings(db) }),
    posts: createPostsService({ db, clock }),
    comments: { byId: (id: number, on: Kysely<Database> = db) => findComment(on, id) },
  };
}
