// What other parts of Inkwell may use from the link checker.
export {
  createCrawlService, crawlUserAgent, outboundLinks, DEFAULT_LIMITS,
  type CrawlService, type CrawlDeps, type CrawlLimits, type RunSummary, type LinkInfo, type LinkReport,
} from './crawl.service.ts';
export { crawlRoutes } from './crawl.routes.ts';
export { parseRobots, type RobotsRules } from './robots.ts';
export type { CrawlTables, CrawlTrigger, LinkState, LinkChecksTable, LinkCheckPostsTable, CrawlRunsTable } from './crawl.types.ts';

/** When the nightly check runs (cron, in the site's time zone): 01:00. */
export const CRAWL_SCHEDULE = '0 1 * * *';
