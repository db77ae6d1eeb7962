import type { AppContext, Feature } from '../../platform/feature.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { CommentsService } from '../comments/index.ts';
import type { PostsService } from '../posts/index.ts';
import { integrationsApi } from './integrations.api.ts';
import { integrationsRoutes } from './integrations.routes.ts';
import { createIntegrations, WEBHOOK_EVENTS, type Integrations } from './integrations.service.ts';

export { WEBHOOK_EVENTS, signature, type Integrations } from './integrations.service.ts';

/** Slack and signed webhooks: each event becomes jobs in the transaction that handles it; the jobs call out. */
export function integrationsFeature(
  ctx: AppContext,
  deps: { accounts: AccountsService; posts: PostsService; comments: CommentsService },
): Feature<Integrations> {
  const { events, queue } = ctx;
  const service = createIntegrations({
    db: ctx.db.kysely,
    clock: ctx.clock,
    queue,
    http: ctx.http,
    mailer: ctx.mailer,
    settings: ctx.settings,
    accounts: deps.accounts,
    posts: deps.posts,
    comments: deps.comments,
    appSecret: ctx.secret,
    siteUrl: ctx.site.url,
    siteName: ctx.site.name,
    refreshSite: () => ctx.site.refresh(),
    slackFromEnv: ctx.config.slackWebhookUrl,
    requestTimeoutMs: ctx.outboundTimeoutMs,
  });
  return {
    service,
    async plugin(app) {
      for (const type of WEBHOOK_EVENTS) events.on(type, service.onEvent);
      queue.define<{ deliveryId: string }>('webhook.deliver', { handler: (p) => service.deliver(p.deliveryId) });
      queue.define<{ event: string; data: Record<string, unknown> }>('slack.notify', { handler: (p) => service.notifySlack(p.event, p.data) });
      ctx.chrome.adminPage({ href: '/admin/jobs', name: 'Jobs', description: 'The background queue: counts, failed jobs, retry', order: 50 });
      ctx.chrome.adminPage({ href: '/admin/webhooks', name: 'Webhooks', description: 'Endpoints, delivery logs, redelivery', order: 60 });
      ctx.chrome.adminPage({ href: '/admin/integrations', name: 'Integrations', description: 'Slack', order: 70 });
      await app.register(integrationsRoutes, { integrations: service, queue });
    },
    async api(api) {
      await api.register(integrationsApi, { integrations: service });
    },
  };
}
