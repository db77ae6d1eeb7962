import type { ColumnType, Generated } from 'kysely';

// The one Database type every feature queries against. Timestamps are ISO-8601
// strings in UTC on both engines (text on SQLite, timestamptz read back as ISO
// on PostgreSQL), so code never branches on the dialect to handle dates.

export type Role = 'admin' | 'editor' | 'author' | 'reader';
export type PostStatus = 'draft' | 'published';

export interface UsersTable {
  id: Generated<number>;
  email: string;
  username: string;
  display_name: string;
  password_hash: string | null;
  role: Role;
  bio: string | null;
  avatar_url: string | null;
  /** An uploaded avatar (media.id); avatar_url is then its URL. */
  avatar_media_id: ColumnType<string | null, string | null | undefined, string | null>;
  email_verified_at: string | null;
  /** Suspended users cannot log in; their sessions and tokens stop working. */
  suspended_at: string | null;
  /** Banned from commenting by a moderator. */
  comments_banned_at: string | null;
  /** 'realworld' for accounts registered through the RealWorld adapter (which has no email verification); else null. */
  registered_via: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  id_hash: string;
  user_id: number;
  created_at: string;
  expires_at: string;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  /** Tokens minted by API login expire; personal tokens don't (null). */
  expires_at: string | null;
  /** 'login' for tokens a login handed out (ended by a password change), 'personal' for those made by hand. */
  kind: ColumnType<ApiTokenKind, ApiTokenKind | undefined, ApiTokenKind>;
}

export type ApiTokenKind = 'personal' | 'login';

export interface PostsTable {
  id: Generated<number>;
  author_id: number | null;
  title: string;
  slug: string;
  body: string;
  body_html: string;
  custom_excerpt: string | null;
  excerpt: string;
  status: PostStatus;
  created_at: string;
  updated_at: string;
  published_at: string | null;
  /** Set on a draft that is scheduled: it goes live at this time. */
  publish_at: string | null;
  /** The featured image (media.id), shown on the page, in lists and in feeds. */
  feature_image: ColumnType<string | null, string | null | undefined, string | null>;
  feature_image_alt: ColumnType<string, string | undefined, string>;
  /** Set while the post is in the trash (restorable until the purge, 30 days later). */
  deleted_at: string | null;
  /** Words in the body's text, for the reading time (migrations/2026-11-30-0026-reading-time-and-headings.ts). */
  word_count: ColumnType<number, number | undefined, number>;
}

// Safer publishing (migrations/2026-11-30-0015-safer-publishing.ts).

/** The one live preview link of a draft: only the token's SHA-256 is kept. */
export interface PostPreviewsTable {
  post_id: number;
  token_hash: string;
  created_by: number | null;
  created_at: string;
}

/** A version of a published post as it was before a save replaced it. */
export interface PostRevisionsTable {
  id: Generated<number>;
  post_id: number;
  title: string;
  body: string;
  custom_excerpt: string | null;
  /** Tag names, comma-separated, as they were. */
  tags: string;
  saved_by: number | null;
  created_at: string;
}

export interface TagsTable {
  id: Generated<number>;
  name: string;
  slug: string;
  created_at: string;
}

export interface PostTagsTable {
  post_id: number;
  tag_id: number;
}

export type AccountTokenPurpose = 'verify' | 'reset' | 'email_change' | 'invite' | 'revoke_tokens';

/** One-time links mailed to people: verification, password reset, email change, invitation. */
export interface AccountTokensTable {
  id: Generated<number>;
  purpose: AccountTokenPurpose;
  token_hash: string;
  user_id: number | null;
  /** The address the link was sent to (new address for email_change; invitee for invite). */
  email: string | null;
  /** For invitations: the role the invitee will get. */
  role: Role | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export type MailStatus = 'pending' | 'sent' | 'failed' | 'kept';

/** Every outgoing message, recorded in the transaction that caused it. */
export interface MailOutboxTable {
  id: Generated<number>;
  to_address: string;
  to_name: string | null;
  subject: string;
  html: string;
  text: string;
  status: MailStatus;
  /** The 'mail.deliver' job that delivers it (its attempts, backoff and last error); null when kept without SMTP. */
  job_id: number | null;
  created_at: string;
  sent_at: string | null;
  /** Extra headers as JSON (List-Unsubscribe and friends), or null. */
  headers: string | null;
}

export interface EventsTable {
  id: Generated<number>;
  type: string;
  /** JSON. */
  payload: string;
  created_at: string;
  /** When its 'event.dispatch' job ran the subscribers (null until then). */
  processed_at: string | null;
}

export type CommentStatus = 'published' | 'held' | 'spam' | 'hidden' | 'deleted';

export interface CommentsTable {
  id: Generated<number>;
  post_id: number;
  parent_id: number | null;
  author_id: number | null;
  body: string;
  body_html: string;
  status: CommentStatus;
  created_at: string;
  updated_at: string;
  edited_at: string | null;
  /** When readers first saw it (null: never published; approving it then is its first publication). */
  first_published_at: string | null;
  /** The name a guest gave (imported comments without an account); null for members. */
  author_name: string | null;
}

export type NotificationKind = 'comment_on_post' | 'reply_to_comment' | 'new_follower' | 'post_favorited' | 'comment_held';
export type EmailPreference = 'instant' | 'daily' | 'off';

export interface NotificationsTable {
  id: Generated<number>;
  user_id: number;
  event_id: number;
  kind: NotificationKind;
  actor_id: number | null;
  post_id: number | null;
  comment_id: number | null;
  created_at: string;
  read_at: string | null;
  emailed_at: string | null;
}

export interface NotificationPrefsTable {
  user_id: number;
  kind: NotificationKind;
  email: EmailPreference;
}

export interface UnsubscribeTokensTable {
  token_hash: string;
  user_id: number;
  /** 'all' (from a digest) turns every kind's email off. */
  kind: NotificationKind | 'all';
  created_at: string;
  used_at: string | null;
}

export interface DigestRunsTable {
  /** YYYY-MM-DD: one digest run per day across all instances. */
  day: string;
  started_at: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'discarded';

/** The durable job queue. */
export interface JobsTable {
  id: Generated<number>;
  type: string;
  /** JSON. */
  payload: string;
  status: JobStatus;
  run_at: string;
  attempts: Generated<number>;
  max_attempts: number;
  /** While in the future, the worker named in locked_by owns the job. */
  lease_until: string | null;
  locked_by: string | null;
  last_error: string | null;
  /** Enqueueing a job with a key that exists already does nothing. */
  idempotency_key: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface CronTicksTable {
  name: string;
  tick_at: string;
  claimed_at: string;
}

/** Daily tasks at a local time of the site (platform/daily.ts): one row per task and local day it ran. */
export interface DailyRunsTable {
  name: string;
  /** YYYY-MM-DD in the site's time zone. */
  day: string;
  claimed_at: string;
}

/** Rate-limit windows shared by every instance (PostgreSQL; SQLite keeps them in memory). */
export interface RateLimitCountersTable {
  key: string;
  count: number;
  /** When the window ends, in epoch milliseconds on the application's clock. */
  reset_at: number;
}

export interface WebhooksTable {
  id: Generated<number>;
  url: string;
  /** Comma-separated event names. */
  events: string;
  /** The signing secret, encrypted with a key derived from the app secret. */
  secret_enc: string;
  active: number;
  disabled_reason: string | null;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  webhook_id: number;
  delivery_id: string;
  event: string;
  body: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: Generated<number>;
  response_status: number | null;
  response_excerpt: string | null;
  duration_ms: number | null;
  error: string | null;
  created_at: string;
  last_attempt_at: string | null;
}

// The link checker's tables (migrations/2026-11-23-0005-link-checks.ts).

/**
 * What the last check of a link found. 'pending': found in a post, not checked
 * yet (new, or the run's time limit came first); 'skipped': robots.txt of its
 * host disallows it, so it was not requested.
 */
export type LinkState = 'pending' | 'ok' | 'broken' | 'redirect' | 'skipped';
export type CrawlTrigger = 'schedule' | 'manual';

/** One outbound URL found in published posts, and what its last check found. */
export interface LinkChecksTable {
  id: Generated<number>;
  /** Absolute http(s) URL as normalized by WHATWG URL, without its fragment. */
  url: string;
  /** Lower-case host name (no port): politeness limits are per host. */
  host: string;
  state: LinkState;
  /** Final HTTP status of the last check, or null (not checked, skipped, or no response). */
  status: number | null;
  /** Why the last check failed (timeout, refused, DNS…), or why it was skipped; else null. */
  error: string | null;
  /** Where the redirects ended (for 'redirect', and for a broken link that redirected); else null. */
  final_url: string | null;
  /** How many redirects the last check followed. */
  redirects: number;
  first_seen_at: string;
  last_checked_at: string | null;
  /** When the link last went from not broken to broken; null while it is not broken. */
  broken_since: string | null;
}

/** Which published posts contain which link. */
export interface LinkCheckPostsTable {
  link_id: number;
  post_id: number;
}

/** One run of the checker, scheduled or started by an admin. */
export interface CrawlRunsTable {
  id: Generated<number>;
  trigger: CrawlTrigger;
  started_at: string;
  /** Null while running (or if the process died during the run). */
  finished_at: string | null;
  /** Unique outbound links found in published posts. */
  links: number;
  /** Links requested this run (ok + broken + redirect). */
  checked: number;
  ok: number;
  broken: number;
  redirects: number;
  /** Disallowed by robots.txt this run. */
  skipped: number;
  /** Left for the next run: the run's time limit came first, or the host asked us to slow down (429). */
  unreached: number;
  /** Links that were not broken before this run and are now. */
  new_broken: number;
  /** Set when the run crashed; its counts are then partial. */
  error: string | null;
}

// Follows and favourites (migrations/2026-11-23-0007-follows-and-favorites.ts).

/** follower_id follows followee_id: the followee's posts appear in the follower's feed. */
export interface FollowsTable {
  follower_id: number;
  followee_id: number;
  created_at: string;
}

/** A person's favourite (like) of a post. */
export interface FavoritesTable {
  user_id: number;
  post_id: number;
  created_at: string;
}

export interface GalleriesTable {
  id: Generated<number>;
  slug: string;
  title: string;
  description: string;
  owner_id: number | null;
  created_at: string;
  updated_at: string;
}

export interface GalleryItemsTable {
  gallery_id: number;
  position: number;
  media_id: string;
  caption: string;
}

export interface Database {
  galleries: GalleriesTable;
  gallery_items: GalleryItemsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  posts: PostsTable;
  post_previews: PostPreviewsTable;
  post_revisions: PostRevisionsTable;
  tags: TagsTable;
  post_tags: PostTagsTable;
  settings: SettingsTable;
  account_tokens: AccountTokensTable;
  mail_outbox: MailOutboxTable;
  events: EventsTable;
  comments: CommentsTable;
  notifications: NotificationsTable;
  notification_prefs: NotificationPrefsTable;
  unsubscribe_tokens: UnsubscribeTokensTable;
  digest_runs: DigestRunsTable;
  jobs: JobsTable;
  cron_ticks: CronTicksTable;
  daily_runs: DailyRunsTable;
  rate_limit_counters: RateLimitCountersTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  link_checks: LinkChecksTable;
  link_check_posts: LinkCheckPostsTable;
  crawl_runs: CrawlRunsTable;
  follows: FollowsTable;
  favorites: FavoritesTable;
  post_search: PostSearchTable;
  media: MediaTable;
  media_variants: MediaVariantsTable;
  media_usage: MediaUsageTable;
  redirects: RedirectsTable;
  imported_items: ImportedItemsTable;
  import_runs: ImportRunsTable;
  pages: PagesTable;
  subscribers: SubscribersTable;
  subscription_deliveries: SubscriptionDeliveriesTable;
  subscription_digest_runs: SubscriptionDigestRunsTable;
}

// Email subscriptions (migrations/2026-11-30-0024-subscriptions.ts).

export type SubscriptionFrequency = 'instant' | 'weekly';
export type SubscriberStatus = 'pending' | 'confirmed' | 'unsubscribed';

/** One address subscribed to the whole blog (author_id null) or to one author. */
export interface SubscribersTable {
  id: Generated<number>;
  /** Lower-cased. */
  email: string;
  /** The account that subscribed; null for the anonymous form. */
  user_id: number | null;
  author_id: number | null;
  frequency: SubscriptionFrequency;
  status: SubscriberStatus;
  /** The single-use confirmation link's hash; null once used. */
  confirm_token_hash: string | null;
  confirm_sent_at: string | null;
  created_at: string;
  confirmed_at: string | null;
  unsubscribed_at: string | null;
  /** The weekly digest lists posts published after this. */
  digest_from: string | null;
}

/** A post handed to one subscriber (unique per pair: nobody gets a post twice). */
export interface SubscriptionDeliveriesTable {
  subscriber_id: number;
  post_id: number;
  status: 'queued' | 'skipped' | 'failed';
  error: string | null;
  created_at: string;
}

export interface SubscriptionDigestRunsTable {
  /** The local date (YYYY-MM-DD) of the week's digest day. */
  week: string;
  started_at: string;
}

// Pages (migrations/2026-11-30-0013-pages.ts).

/** A static page (About, Contact): Markdown, draft or published, at /pages/:slug. */
export interface PagesTable {
  id: Generated<number>;
  slug: string;
  title: string;
  body: string;
  body_html: string;
  /** For the meta description and sharing cards; the start of the text when empty. */
  description: string;
  /** A media id: the sharing cards' image. */
  image_id: string | null;
  status: 'draft' | 'published';
  author_id: number | null;
  created_at: string;
  updated_at: string;
}

// Media (migrations/2026-11-30-0011-media.ts).

/** One uploaded image, stored cleaned: metadata removed, orientation applied. */
export interface MediaTable {
  /** A random URL-safe id (the API's id). */
  id: string;
  /** The uploader; null once their account is deleted. */
  owner_id: number | null;
  /** The file name as uploaded, reduced to its last part (never a path). */
  original_name: string;
  /** The type sniffed from the bytes: image/jpeg, image/png, image/webp, image/avif or image/gif. */
  mime: string;
  /** Size of the stored (cleaned) image. */
  bytes: number;
  /** Size in pixels after the EXIF orientation was applied. */
  width: number;
  height: number;
  /** 1 for an animated GIF or WebP, 0 otherwise. */
  animated: number;
  /** SHA-256 (hex) of the stored image. */
  hash: string;
  /** Where the cleaned image is stored (content-hashed). */
  storage_key: string;
  /** The upload as sent, kept only with MEDIA_KEEP_ORIGINALS=1; never served. */
  original_key: string | null;
  alt: string;
  caption: string;
  credit: string;
  /** A thumbhash (base64): a tiny blurred preview shown while the image loads. */
  placeholder: string | null;
  /** When the background job finished making the variants; null until then. */
  variants_ready_at: string | null;
  /** The MEDIA_WIDTHS its variants were made for (comma-separated); null until made. */
  variant_widths: string | null;
  created_at: string;
  updated_at: string;
}

// Moving in and out (migrations/2026-11-30-0012-moving.ts).

/** An old address that answers with a redirect when nothing else lives there. */
export interface RedirectsTable {
  id: Generated<number>;
  /** Percent-decoded path without a trailing slash (except "/"), with a query only when matching one (/?p=12). */
  from_path: string;
  to_path: string;
  status: 301 | 302;
  /** 'admin' (made by hand), 'slug' (a post's slug changed), 'import'. */
  source: string;
  created_at: string;
  updated_at: string;
}

/** One resized copy of a media image in one format. */
/** Bytes of cleaned images stored per account: the quota is taken from it in one conditional UPDATE. */
export interface MediaUsageTable {
  owner_id: number;
  /** bigint on PostgreSQL (read as a string there). */
  bytes: ColumnType<number | string, number | undefined, number | string>;
}

export interface MediaVariantsTable {
  media_id: string;
  width: number;
  height: number;
  /** avif, webp, jpeg, png or gif. */
  format: string;
  storage_key: string;
  bytes: number;
  created_at: string;
}

/** What an import brought in, keyed by the source's identity, so a second run updates it. */
export interface ImportedItemsTable {
  /** 'wordpress', 'ghost', 'inkwell'. */
  source: string;
  /** 'post', 'comment', 'user'. */
  kind: string;
  source_id: string;
  target_id: number;
  /** A text id (a media id, for kind 'image' and 'media'); null for the rest. */
  target_key: Generated<string | null>;
  created_at: string;
  updated_at: string;
}

export type ImportRunState = 'queued' | 'running' | 'succeeded' | 'failed';

/** One import started from /admin/import (the file itself waits in the import directory). */
export interface ImportRunsTable {
  id: Generated<number>;
  format: string;
  file_name: string;
  state: ImportRunState;
  /** Items read so far. */
  progress: Generated<number>;
  /** The report as JSON, once finished. */
  report: string | null;
  error: string | null;
  created_by: number | null;
  created_at: string;
  finished_at: string | null;
}

// Full-text search (migrations/2026-11-23-0006-search.ts).

/**
 * One row per published post, written by the search feature in the transaction
 * of each post write. The engine's index hangs off it: on SQLite the FTS5 table
 * post_search_fts (kept in step by triggers), on PostgreSQL a generated tsvector
 * column `document` with a GIN index. Neither is written directly.
 */
export interface PostSearchTable {
  post_id: number;
  title: string;
  /** The body as plain text (what readers see, not the Markdown source). */
  body: string;
  /** Tag names, space-separated. */
  tags: string;
}
