import { html } from '../../lib/html.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import type { AccountsFeature } from '../accounts/index.ts';
import type { PostsFeature } from '../posts/index.ts';
import { socialApi } from './social.api.ts';
import { favoriteHtml, followHtml, socialRoutes } from './social.routes.ts';
import { createSocialService, type SocialService } from './social.service.ts';

export { createSocialService, type Relation, type SocialService } from './social.service.ts';
export type { PostFavorited, UserFollowed } from './social.events.ts';

/** Follows, favourites and the personal feed: buttons on posts and profiles, /feed, and the API. */
export function socialFeature(ctx: AppContext, deps: { posts: PostsFeature; accounts: AccountsFeature }): Feature<SocialService> {
  const posts = deps.posts.service;
  const service = createSocialService({ db: ctx.db.kysely, clock: ctx.clock, events: ctx.events, posts });
  return {
    service,
    async plugin(app) {
      deps.posts.belowPost.add(async (request, post) => {
        const favorited = request.user ? (await posts.favoritedAmong(request.user.id, [post.id])).has(post.id) : false;
        return favoriteHtml(request, post, favorited);
      }, 10);
      deps.accounts.profileAside.add(async (request, username) => followHtml(request, await service.relation(request.user, username)));
      ctx.chrome.add('nav', { order: 10, render: (request) => (request.user ? html`<a href="/feed">Feed</a>` : '') });
      await app.register(socialRoutes, { social: service, posts });
    },
    async api(api) {
      await api.register(socialApi, { social: service, posts, siteUrl: ctx.site.url });
    },
  };
}
