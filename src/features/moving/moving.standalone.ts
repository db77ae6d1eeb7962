import { systemClock, type Clock } from '../../lib/clock.ts';
import type { MediaConfig } from '../../config.ts';
import type { Db } from '../../platform/db/index.ts';
import type { Events } from '../../platform/events/index.ts';
import type { Queue } from '../../platform/jobs/queue.ts';
import { createSettings } from '../../platform/settings.ts';
import { createAccountsService } from '../accounts/index.ts';
import { createCommentsService } from '../comments/index.ts';
import { createGalleriesService } from '../galleries/index.ts';
import { createMediaService, createMediaStorage, type MediaService } from '../media/index.ts';
import { createPagesService } from '../pages/index.ts';
import { createPostsService } from '../posts/index.ts';
import { createRedirectsService } from '../redirects/index.ts';
import type { ImageDeps } from './moving.images.ts';
import { createMovingService, type MovingService } from './moving.service.ts';

/** What the standalone services are built on: the database, its events and queue, the media library's configuration. */
export interface StandaloneDeps {
  db: Db;
  events: Events;
  queue: Queue;
  media: MediaConfig;
  siteUrl: string;
  clock?: Clock;
}

/** The media library on one database, outside the app. */
export function standaloneMedia(deps: StandaloneDeps): MediaService {
  return createMediaService({
    db: deps.db.kysely,
    storage: createMediaStorage(deps.media),
    queue: deps.queue,
    clock: deps.clock ?? systemClock,
    config: deps.media,
    siteUrl: deps.siteUrl,
  });
}

/** The services moving in and out writes and reads through, built on one database the way the app builds them. */
export function standaloneServices(deps: StandaloneDeps) {
  const db = deps.db.kysely;
  const clock = deps.clock ?? systemClock;
  const settings = createSettings(db);
  const posts = createPostsService({ db, clock, events: deps.events });
  const media = standaloneMedia(deps);
  const accounts = createAccountsService({ db, clock, settings });
  return {
    db,
    clock,
    settings,
    posts,
    media,
    pages: createPagesService({ db, clock, media, siteUrl: deps.siteUrl }),
    galleries: createGalleriesService({ db, clock, media }),
    comments: createCommentsService({ db, clock, events: deps.events, settings, posts, accounts }),
    accounts,
    redirects: createRedirectsService({ db, clock }),
  };
}

/**
 * The import service outside the app (the CLI, the import benchmark, tests):
 * the services it writes through, built on one database and its events, the
 * way the app builds them.
 */
export function standaloneMovingService(deps: StandaloneDeps & { images?: ImageDeps }): MovingService {
  const { db, clock, posts, pages, comments, accounts, redirects } = standaloneServices(deps);
  return createMovingService({ db, clock, posts, pages, comments, accounts, redirects, images: deps.images });
}
