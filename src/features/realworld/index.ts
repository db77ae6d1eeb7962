import type { AppContext, Feature } from '../../platform/feature.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { CommentsService } from '../comments/index.ts';
import type { PostsService } from '../posts/index.ts';
import type { SocialService } from '../social/index.ts';
import { realworldRoutes } from './realworld.routes.ts';

/**
 * The RealWorld (Conduit) API at REALWORLD_PATH (off: not mounted), an
 * adapter over the other features' services that owns no table of its own.
 */
export function realworldFeature(
  ctx: AppContext,
  deps: {
    accounts: AccountsService;
    posts: PostsService;
    comments: CommentsService;
    social: SocialService;
  },
): Feature {
  const prefix = ctx.config.realworldPath;
  return {
    service: undefined,
    plugin: prefix
      ? async (app) => {
          await app.register(realworldRoutes, { ...deps, secret: ctx.secret, corsOrigins: ctx.config.realworldCorsOrigins, prefix });
        }
      : undefined,
  };
}
