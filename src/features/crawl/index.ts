import { registerDaily } from '../../platform/daily.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import type { AccountsService } from '../accounts/index.ts';
import { crawlRoutes } from './crawl.routes.ts';
import { createCrawlService, type CrawlLimits } from './crawl.service.ts';

// What other parts of Inkwell may use from the link checker.
export {
  createCrawlService,
  crawlUserAgent,
  outboundLinks,
  DEFAULT_LIMITS,
  type CrawlService,
  type CrawlDeps,
  type CrawlLimits,
  type RunSummary,
  type LinkInfo,
  type LinkReport,
} from './crawl.service.ts';
export { parseRobots, type RobotsRules } from './robots.ts';
export type { CrawlTables, CrawlTrigger, LinkState, LinkChecksTable, LinkCheckPostsTable, CrawlRunsTable } from './crawl.types.ts';

/** When the nightly check runs, in the site's time zone (site settings). */
export const CRAWL_AT = '01:00';

/** The nightly link check: its schedule, /admin/links, and the mail to admins about new breakage. */
export function crawlFeature(ctx: AppContext, deps: { accounts: AccountsService; limits?: Partial<CrawlLimits> }): Feature {
  return {
    service: undefined,
    async plugin(app) {
      // Built here for app.log: its runs outlive the request that started them.
      const crawl = createCrawlService({
        db: ctx.db.kysely,
        clock: ctx.clock,
        http: ctx.http,
        mailer: ctx.mailer,
        accounts: deps.accounts,
        site: ctx.site,
        limits: deps.limits,
        log: app.log,
      });
      // The check runs in the background, so a long crawl never holds up other schedules.
      registerDaily(ctx, 'link-check', CRAWL_AT, async () => {
        await crawl.start('schedule');
      });
      app.addHook('onClose', async () => {
        await crawl.stop();
      });
      ctx.chrome.adminPage({ href: '/admin/links', name: 'Links', description: 'Broken and redirected links found by the nightly check', order: 80 });
      await app.register(crawlRoutes, { crawl });
    },
  };
}
