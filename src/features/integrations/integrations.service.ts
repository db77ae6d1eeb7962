import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import { AppError, assertValid, type FieldError } from '../../platform/errors.ts';
import type { AnyEvent } from '../../platform/events/index.ts';
import type { HttpClient } from '../../platform/http-client/index.ts';
import type { Queue } from '../../platform/jobs/queue.ts';
import type { Mailer } from '../../platform/mail/index.ts';
import { renderEmail } from '../../platform/mail/index.ts';
import type { Settings } from '../../platform/settings.ts';
import type { Clock } from '../../lib/clock.ts';
import { seal, unseal } from '../../lib/secrets.ts';
import { accountEventData, type AccountsService } from '../accounts/index.ts';
import { commentEventData, type CommentsService } from '../comments/index.ts';
import { postEventData, type PostsService } from '../posts/index.ts';

export const WEBHOOK_EVENTS = ['user.created', 'post.published', 'post.updated', 'post.unpublished', 'post.deleted', 'comment.created'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
/** An endpoint failing this long is disabled, and the admins are told. */
export const DISABLE_AFTER_MS = 3 * 24 * 3600_000;
const SLACK_KEY = 'slack_webhook_url';
const SLACK_EVENTS_KEY = 'slack_events';

/** The signature header value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">. */
export function signature(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

export interface Webhook {
  id: number;
  url: string;
  events: WebhookEvent[];
  active: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
}

function toWebhook(r: {
  id: number;
  url: string;
  events: string;
  active: number;
  disabled_reason: string | null;
  failing_since: string | null;
  created_at: string;
}): Webhook {
  return {
    id: r.id,
    url: r.url,
    events: r.events.split(',').filter(Boolean) as WebhookEvent[],
    active: r.active === 1,
    disabledReason: r.disabled_reason,
    failingSince: r.failing_since,
    createdAt: r.created_at,
  };
}

/**
 * Slack and signed webhooks. Domain events become jobs in the transaction
 * that handles them; the jobs make the HTTP calls, through the one outbound
 * client, with the queue's retries. Slack being down never touches a request.
 */
export function createIntegrations(deps: {
  db: Kysely<Database>;
  clock: Clock;
  queue: Queue;
  http: HttpClient;
  mailer: Mailer;
  settings: Settings;
  /** The features whose things the events name: each presents its own. */
  accounts: Pick<AccountsService, 'account' | 'adminContacts'>;
  posts: Pick<PostsService, 'byId'>;
  comments: Pick<CommentsService, 'byId'>;
  appSecret: string;
  siteUrl: string;
  siteName: () => string;
  /** Rereads the site settings (the name) before a job renders an email or a Slack message. */
  refreshSite?: () => Promise<unknown>;
  slackFromEnv?: string;
  /** How long a receiver may take to answer (default 10 s). */
  requestTimeoutMs?: number;
}) {
  const { db, clock, queue, http, mailer, settings } = deps;
  const now = () => clock.now().toISOString();

  function checkWebhook(input: { url?: unknown; events?: unknown }, partial: boolean): { url?: string; events?: WebhookEvent[] } {
    const errors: FieldError[] = [];
    const out: { url?: string; events?: WebhookEvent[] } = {};
    if (input.url !== undefined || !partial) {
      const url = typeof input.url === 'string' ? input.url.trim() : '';
      let ok = false;
      try {
        const u = new URL(url);
        ok = (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password && url.length <= 500;
      } catch {
        ok = false;
      }
      if (!ok) errors.push({ field: 'url', message: 'must be an http(s) URL without credentials, at most 500 characters' });
      out.url = url;
    }
    if (input.events !== undefined || !partial) {
      const list = (Array.isArray(input.events) ? input.events : typeof input.events === 'string' ? [input.events] : []).map(String);
      if (list.length === 0 || list.some((e) => !WEBHOOK_EVENTS.includes(e as WebhookEvent))) {
        errors.push({ field: 'events', message: `must be one or more of ${WEBHOOK_EVENTS.join(', ')}` });
      }
      out.events = [...new Set(list)] as WebhookEvent[];
    }
    assertValid(errors);
    return out;
  }

  /**
   * What a webhook receives in `data` for an event: the thing as it is now, as
   * the feature that owns it presents it, read through the dispatch's transaction.
   */
  async function dataFor(trx: Transaction<Database>, event: AnyEvent): Promise<Record<string, unknown>> {
    const { accounts, posts, comments } = deps;
    if (event.type === 'user.created') {
      const a = await accounts.account(event.payload.userId, trx);
      return a ? accountEventData(a) : { id: event.payload.userId };
    }
    if (event.type === 'post.deleted' || event.type === 'post.unpublished')
      return { id: event.payload.postId, slug: event.payload.slug, title: event.payload.title };
    if (event.type === 'post.published' || event.type === 'post.updated') {
      const post = await posts.byId(event.payload.postId, trx);
      return post ? postEventData(post, deps.siteUrl) : { id: event.payload.postId };
    }
    if (event.type === 'comment.created') {
      const c = await comments.byId(event.payload.commentId, trx);
      const post = c && (await posts.byId(c.postId, trx));
      return c && post ? commentEventData(c, post, deps.siteUrl) : { id: event.payload.commentId };
    }
    return { ...event.payload };
  }

  // Inside a transaction, read through it: SQLite has one connection, and a
  // second query outside the transaction would wait for it forever.
  async function setting(d: Kysely<Database> | Transaction<Database>, key: string): Promise<string | undefined> {
    return (await d.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
  }

  async function slackUrl(d: Kysely<Database> | Transaction<Database> = db): Promise<string | undefined> {
    return (await setting(d, SLACK_KEY)) || deps.slackFromEnv || undefined;
  }

  async function slackEvents(d: Kysely<Database> | Transaction<Database> = db): Promise<string[]> {
    const v = await setting(d, SLACK_EVENTS_KEY);
    return v ? v.split(',').filter(Boolean) : ['user.created'];
  }

  function slackText(event: string, data: Record<string, unknown>): string {
    const esc = (s: unknown) =>
      String(s ?? '')
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;');
    if (event === 'user.created')
      return `:wave: New user: *${esc(data.displayName ?? data.username)}* (${esc(data.email)}) signed up on ${esc(deps.siteName())}.`;
    if (event === 'post.published') return `:newspaper: New post: <${data.url}|${esc(data.title)}> by ${esc(data.author)}`;
    if (event === 'comment.created')
      return `:speech_balloon: ${esc(data.author)} commented on <${data.url}|${esc((data.post as { title?: unknown } | undefined)?.title)}>: ${esc(String(data.body ?? '').slice(0, 200))}`;
    return `${esc(event)} on ${esc(deps.siteName())}`;
  }

  async function post(url: string, body: string, headers: Record<string, string>) {
    return http.request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
      timeoutMs: deps.requestTimeoutMs ?? 10_000,
      maxBytes: 64 * 1024,
      maxRedirects: 0,
    });
  }

  const service = {
    /** Subscriber of every integration event: one job per webhook delivery, and one for Slack. */
    async onEvent(event: AnyEvent, trx: Transaction<Database>): Promise<void> {
      const hooks = (await trx.selectFrom('webhooks').selectAll().where('active', '=', 1).execute()).filter((h) => h.events.split(',').includes(event.type));
      const slack = (await slackUrl(trx)) && (await slackEvents(trx)).includes(event.type);
      if (hooks.length === 0 && !slack) return;
      const data = await dataFor(trx, event);
      const body = JSON.stringify({ id: `evt_${event.id}`, event: event.type, createdAt: event.createdAt, data });
      for (const h of hooks) {
        const deliveryId = `dlv_${randomBytes(12).toString('hex')}`;
        await trx
          .insertInto('webhook_deliveries')
          .values({
            webhook_id: h.id,
            delivery_id: deliveryId,
            event: event.type,
            body,
            status: 'pending',
            response_status: null,
            response_excerpt: null,
            duration_ms: null,
            error: null,
            created_at: now(),
            last_attempt_at: null,
          })
          .onConflict((oc) => oc.column('delivery_id').doNothing())
          .execute();
        await queue.enqueue(trx, 'webhook.deliver', { deliveryId }, { idempotencyKey: `webhook:${event.id}:${h.id}` });
      }
      if (slack) await queue.enqueue(trx, 'slack.notify', { event: event.type, data }, { idempotencyKey: `slack:${event.id}` });
    },

    /** Job: one signed POST of one delivery; throws (so the queue retries) unless the receiver says 2xx. */
    async deliver(deliveryId: string): Promise<void> {
      const d = await db
        .selectFrom('webhook_deliveries')
        .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
        .select([
          'webhook_deliveries.id',
          'webhook_deliveries.body',
          'webhook_deliveries.event',
          'webhook_deliveries.status',
          'webhook_deliveries.attempts',
          'webhooks.id as hook_id',
          'webhooks.url',
          'webhooks.secret_enc',
          'webhooks.active',
          'webhooks.failing_since',
        ])
        .where('webhook_deliveries.delivery_id', '=', deliveryId)
        .executeTakeFirst();
      if (!d || d.status === 'succeeded' || d.active !== 1) return;
      const secret = unseal(deps.appSecret, d.secret_enc);
      const t = Math.floor(clock.now().getTime() / 1000);
      const started = Date.now();
      let status: number | null = null;
      let excerpt: string | null = null;
      let error: string | null = null;
      try {
        const res = await post(d.url, d.body, {
          'inkwell-signature': signature(secret, d.body, t),
          'inkwell-delivery': deliveryId,
          'inkwell-event': d.event,
        });
        status = res.status;
        excerpt = res.body.toString('utf8').slice(0, 500);
        if (res.status < 200 || res.status >= 300) error = `receiver answered ${res.status}`;
      } catch (e) {
        error = (e as Error).message;
      }
      const ok = error === null;
      await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          status: ok ? 'succeeded' : 'failed',
          attempts: eb('attempts', '+', 1),
          response_status: status,
          response_excerpt: excerpt,
          duration_ms: Date.now() - started,
          error,
          last_attempt_at: now(),
        }))
        .where('id', '=', d.id)
        .execute();
      if (ok) {
        await db.updateTable('webhooks').set({ failing_since: null }).where('id', '=', d.hook_id).execute();
        return;
      }
      const since = d.failing_since ?? now();
      if (!d.failing_since) await db.updateTable('webhooks').set({ failing_since: since }).where('id', '=', d.hook_id).execute();
      if (clock.now().getTime() - Date.parse(since) > DISABLE_AFTER_MS) await this.disable(d.hook_id, `failing since ${since}: ${error}`);
      throw new Error(`webhook delivery ${deliveryId} failed: ${error}`);
    },

    /** Turns an endpoint off and tells every admin by email. */
    async disable(hookId: number, reason: string): Promise<void> {
      const hook = await db.selectFrom('webhooks').select(['url', 'active']).where('id', '=', hookId).executeTakeFirst();
      if (hook?.active !== 1) return;
      // A job, outside any request: the name may have changed on another instance.
      await deps.refreshSite?.();
      const admins = await deps.accounts.adminContacts();
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('webhooks').set({ active: 0, disabled_reason: reason, updated_at: now() }).where('id', '=', hookId).execute();
        for (const a of admins) {
          await mailer.send(trx, {
            to: a.email,
            toName: a.name,
            subject: `A webhook was disabled on ${deps.siteName()}`,
            ...renderEmail({
              siteName: deps.siteName(),
              siteUrl: deps.siteUrl,
              heading: 'A webhook endpoint was disabled',
              paragraphs: [`${hook.url} kept failing, so Inkwell stopped sending to it.`, `Last problem: ${reason}`],
              action: { label: 'Review webhooks', url: `${deps.siteUrl}/admin/webhooks` },
            }),
          });
        }
      });
    },

    /** Job: one message to the Slack channel. */
    async notifySlack(event: string, data: Record<string, unknown>): Promise<void> {
      const url = await slackUrl();
      if (!url) return;
      await deps.refreshSite?.();
      const res = await post(url, JSON.stringify({ text: slackText(event, data) }), {});
      if (res.status < 200 || res.status >= 300) throw new Error(`Slack answered ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
    },

    async sendSlackTest(): Promise<void> {
      if (!(await slackUrl())) throw new AppError('validation_failed', undefined, [{ field: 'slackUrl', message: 'is not set' }]);
      await queue.enqueue(db, 'slack.notify', { event: 'user.created', data: { displayName: 'Test User', email: 'test@example.com' } });
    },

    async slackSettings() {
      const stored = await settings.get(SLACK_KEY);
      return { url: stored ?? '', fromEnv: !stored && !!deps.slackFromEnv, events: await slackEvents() };
    },

    async setSlack(input: { url?: unknown; events?: unknown }): Promise<void> {
      const url = typeof input.url === 'string' ? input.url.trim() : '';
      const errors: FieldError[] = [];
      if (url) {
        try {
          const u = new URL(url);
          if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
        } catch {
          errors.push({ field: 'slackUrl', message: 'must be the https:// incoming-webhook URL Slack gave you' });
        }
      }
      const events = (Array.isArray(input.events) ? input.events : typeof input.events === 'string' ? [input.events] : ['user.created']).map(String);
      if (events.some((e) => !['user.created', 'post.published', 'comment.created'].includes(e)))
        errors.push({ field: 'slackEvents', message: 'must be user.created, post.published or comment.created' });
      assertValid(errors);
      if (url) await settings.set(SLACK_KEY, url);
      else await settings.delete(SLACK_KEY);
      await settings.set(SLACK_EVENTS_KEY, events.join(','));
    },

    async listWebhooks(): Promise<Webhook[]> {
      return (await db.selectFrom('webhooks').selectAll().orderBy('id').execute()).map(toWebhook);
    },

    async getWebhook(id: number): Promise<Webhook> {
      const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new AppError('not_found', 'No such webhook');
      return toWebhook(row);
    },

    /** Adds an endpoint; the secret (given or generated) is returned this once. */
    async createWebhook(input: { url?: unknown; events?: unknown; secret?: unknown }): Promise<{ webhook: Webhook; secret: string }> {
      const v = checkWebhook(input, false);
      const secret = typeof input.secret === 'string' && input.secret.length >= 16 ? input.secret : `whsec_${randomBytes(24).toString('base64url')}`;
      if (typeof input.secret === 'string' && input.secret !== '' && input.secret.length < 16) {
        throw new AppError('validation_failed', undefined, [{ field: 'secret', message: 'must be at least 16 characters (or empty to generate one)' }]);
      }
      const row = await db
        .insertInto('webhooks')
        .values({
          url: v.url!,
          events: v.events!.join(','),
          secret_enc: seal(deps.appSecret, secret),
          active: 1,
          disabled_reason: null,
          failing_since: null,
          created_at: now(),
          updated_at: now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { webhook: toWebhook(row), secret };
    },

    async updateWebhook(id: number, input: { url?: unknown; events?: unknown; active?: unknown }): Promise<Webhook> {
      await this.getWebhook(id);
      const v = checkWebhook(input, true);
      const set: Record<string, unknown> = { updated_at: now() };
      if (v.url) set.url = v.url;
      if (v.events) set.events = v.events.join(',');
      if (input.active !== undefined) {
        if (typeof input.active !== 'boolean') throw new AppError('validation_failed', undefined, [{ field: 'active', message: 'must be true or false' }]);
        set.active = input.active ? 1 : 0;
        if (input.active) Object.assign(set, { disabled_reason: null, failing_since: null });
      }
      await db.updateTable('webhooks').set(set).where('id', '=', id).execute();
      return this.getWebhook(id);
    },

    async deleteWebhook(id: number): Promise<void> {
      const res = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw new AppError('not_found', 'No such webhook');
    },

    async deliveries(hookId: number, limit = 50) {
      return db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', hookId).orderBy('id', 'desc').limit(limit).execute();
    },

    /** Sends a past delivery again, as a new delivery (new id, same body). */
    async redeliver(deliveryRowId: number): Promise<void> {
      const d = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', deliveryRowId).executeTakeFirst();
      if (!d) throw new AppError('not_found', 'No such delivery');
      const deliveryId = `dlv_${randomBytes(12).toString('hex')}`;
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('webhook_deliveries')
          .values({
            webhook_id: d.webhook_id,
            delivery_id: deliveryId,
            event: d.event,
            body: d.body,
            status: 'pending',
            response_status: null,
            response_excerpt: null,
            duration_ms: null,
            error: null,
            created_at: now(),
            last_attempt_at: null,
          })
          .execute();
        await queue.enqueue(trx, 'webhook.deliver', { deliveryId });
      });
    },
  };
  return service;
}

export type Integrations = ReturnType<typeof createIntegrations>;
