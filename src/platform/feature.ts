import type { FastifyPluginAsync } from 'fastify';
import type { Infrastructure } from './infrastructure.ts';
import type { Site } from './http/layout.ts';
import type { PageChrome } from './http/slots.ts';
import type { NotFoundFallbacks } from './http/not-found.ts';
import type { SessionStore } from './http/sessions.ts';
import type { Settings } from './settings.ts';

/** What every feature is built from: the infrastructure and the app's shared parts. */
export interface AppContext extends Infrastructure {
  settings: Settings;
  sessions: SessionStore;
  site: Site;
  /** The page chrome's extension points: header entries, <head> links, footer links, admin pages. */
  chrome: PageChrome;
  /** Asked before a page answers 404 (redirects from old addresses). */
  notFound: NotFoundFallbacks;
  /** The app secret (cookies, sealed settings, signed tokens). */
  secret: string;
  /** How long webhook and Slack receivers may take (tests shorten it). */
  outboundTimeoutMs?: number;
}

/**
 * A feature as app.ts sees it: the service other features may call (passed to
 * them explicitly), and the plugins that register everything the feature owns.
 */
export interface Feature<S = undefined> {
  service: S;
  /** Pages, forms, assets, job handlers, schedules, event subscriptions, chrome entries. */
  plugin?: FastifyPluginAsync;
  /** JSON routes, mounted under /api/v1 beside the other features' (sharing the API's CORS). */
  api?: FastifyPluginAsync;
}
