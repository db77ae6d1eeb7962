import type { AppContext, Feature } from '../../platform/feature.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { CommentsService } from '../comments/index.ts';
import type { PostsService } from '../posts/index.ts';
import type { RedirectsService } from '../redirects/index.ts';
import { createMovingService, type MovingService } from './moving.service.ts';

// What other features (and the CLI) may use from moving.
export { createMovingService, reportText, type ImportReport, type MovingService } from './moving.service.ts';
export { ImportRefused } from './moving.errors.ts';

/** Moving in and out: imports from WordPress (and, to come, Ghost), export, backups. */
export function movingFeature(ctx: AppContext, deps: { posts: PostsService; comments: CommentsService; accounts: AccountsService; redirects: RedirectsService }): Feature<MovingService> {
  const service = createMovingService({ db: ctx.db.kysely, clock: ctx.clock, ...deps });
  return { service };
}
