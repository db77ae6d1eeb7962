import type { AppContext, Feature } from '../../platform/feature.ts';
import type { AccountsFeature } from '../accounts/index.ts';
import { subscriptionsAdminRoutes } from './subscriptions.admin.ts';
import { subscriptionsApi } from './subscriptions.api.ts';
import { footerFormHtml, profileButtonHtml, subscriptionsRoutes } from './subscriptions.routes.ts';
import { createSubscriptionSender } from './subscriptions.sending.ts';
import { createSubscriptionsService, type SubscriptionsService } from './subscriptions.service.ts';

export type { SubscriptionsService, Subscription } from './subscriptions.service.ts';

/**
 * Email subscriptions to new posts: the whole blog (anyone, double opt-in) or
 * one author (signed-in readers), sent at once or as a weekly digest, in
 * rate-limited batches of jobs (SUBSCRIPTION_SEND_RATE a minute).
 */
export function subscriptionsFeature(ctx: AppContext, deps: { accounts: AccountsFeature }): Feature<SubscriptionsService> {
  const service = createSubscriptionsService({
    db: ctx.db.kysely,
    clock: ctx.clock,
    mailer: ctx.mailer,
    site: ctx.site,
    secret: ctx.secret,
  });
  const sender = createSubscriptionSender({
    db: ctx.db.kysely,
    clock: ctx.clock,
    mailer: ctx.mailer,
    queue: ctx.queue,
    site: ctx.site,
    sendRate: ctx.config.subscriptionSendRate,
    unsubscribeUrl: service.unsubscribeUrl,
  });
  const accounts = deps.accounts.service;
  return {
    service,
    async plugin(app) {
      const log = app.log.child({ feature: 'subscriptions' });
      ctx.events.on('post.published', (event, trx) => sender.onPostPublished(event.id, event.payload.postId, trx));
      ctx.queue.define<{ postId: number; run: number; after: number }>('subscriptions.send', {
        handler: async ({ postId, run, after }) => {
          await sender.sendBatch(postId, run, after, log);
        },
      });
      ctx.queue.define<{ week: string; after: number }>('subscriptions.digest', {
        handler: async ({ week, after }) => {
          await sender.digestBatch(week, after, log);
        },
      });
      // Every 10 minutes: the digest starts from Monday 08:00 in the site's time zone.
      ctx.scheduler.register('subscription-digests', '*/10 * * * *', async () => {
        await sender.startWeeklyDigest();
      });
      ctx.chrome.add('footer', { order: 5, render: () => footerFormHtml() });
      ctx.chrome.adminPage({ href: '/admin/subscribers', name: 'Subscribers', description: 'Email subscribers: counts, list, CSV export', order: 45 });
      deps.accounts.profileAside.add(async (request, username) => profileButtonHtml(request, await accounts.profile(username), service), 20);
      deps.accounts.settingsSection.add(
        () =>
          '<section aria-labelledby="subs-h"><h2 id="subs-h">Email subscriptions</h2><p><a href="/settings/subscriptions">Manage the posts you get by email</a></p></section>',
        20,
      );
      await app.register(subscriptionsRoutes, { subscriptions: service, accounts });
      await app.register(subscriptionsAdminRoutes, { subscriptions: service });
    },
    async api(api) {
      await api.register(subscriptionsApi, { subscriptions: service, accounts });
    },
  };
}
