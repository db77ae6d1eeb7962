// The link checker's tables live in the one Database type (platform/db/schema.ts).
import type { CrawlRunsTable, LinkCheckPostsTable, LinkChecksTable } from '../../platform/db/schema.ts';

export type { CrawlRunsTable, CrawlTrigger, LinkCheckPostsTable, LinkChecksTable, LinkState } from '../../platform/db/schema.ts';

/** The crawl tables (kept for code written before they joined Database). */
export interface CrawlTables {
  link_checks: LinkChecksTable;
  link_check_posts: LinkCheckPostsTable;
  crawl_runs: CrawlRunsTable;
}
