import { systemClock, type Clock } from '../../lib/clock.ts';
import type { Db } from '../../platform/db/index.ts';
import type { Events } from '../../platform/events/index.ts';
import { createSettings } from '../../platform/settings.ts';
import { createAccountsService } from '../accounts/index.ts';
import { createCommentsService } from '../comments/index.ts';
import { createPostsService } from '../posts/index.ts';
import { createRedirectsService } from '../redirects/index.ts';
import type { ImageDeps } from './moving.images.ts';
import { createMovingService, type MovingService } from './moving.service.ts';

/** The services moving in and out writes and reads through, built on one database the way the app builds them. */
export function standaloneServices(deps: { db: Db; events: Events; clock?: Clock }) {
  const db = deps.db.kysely;
  const clock = deps.clock ?? systemClock;
  const settings = createSettings(db);
  const posts = createPostsService({ db, clock, events: deps.events });
  return {
    db,
    clock,
    settings,
    posts,
    comments: createCommentsService({ db, clock, events: deps.events, settings, posts }),
    accounts: createAccountsService({ db, clock, settings }),
    redirects: createRedirectsService({ db, clock }),
  };
}

/**
 * The import service outside the app (the CLI, the import benchmark, tests):
 * the services it writes through, built on one database and its events, the
 * way the app builds them.
 */
export function standaloneMovingService(deps: { db: Db; events: Events; clock?: Clock; images?: ImageDeps }): MovingService {
  const { settings: _settings, ...services } = standaloneServices(deps);
  return createMovingService({ ...services, images: deps.images });
}
