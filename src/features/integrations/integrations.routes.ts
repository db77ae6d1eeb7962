import type { FastifyInstance, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import { dateHtml } from '../../lib/dates.ts';
import { AppError } from '../../platform/errors.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { csrfField, errorSummaryHtml, fieldHtml, valueOf, type FormState } from '../../platform/http/forms.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { Queue } from '../../platform/jobs/queue.ts';
import { WEBHOOK_EVENTS, type Integrations } from './integrations.service.ts';

type Body = Record<string, unknown> | undefined;

const idOf = (raw: string) => {
  if (!/^\d{1,9}$/.test(raw)) throw new AppError('not_found', 'Not found');
  return Number(raw);
};
const list = (v: unknown) => (v === undefined ? [] : ([] as unknown[]).concat(v).map(String));

/** /admin/integrations (Slack), /admin/webhooks (endpoints, delivery logs) and /admin/jobs (the queue). */
export async function integrationsRoutes(app: FastifyInstance, opts: { integrations: Integrations; queue: Queue }) {
  const { integrations, queue } = opts;

  async function integrationsPage(request: FastifyRequest, state?: FormState) {
    const s = await integrations.slackSettings();
    const csrf = request.csrfToken();
    const errors = state?.errors ?? [];
    const events = state ? list(state.values.slackEvents) : s.events;
    const body = html`<h1>Integrations</h1>
<section aria-labelledby="slack-h"><h2 id="slack-h">Slack</h2>
<p>Paste an <a href="https://api.slack.com/messaging/webhooks">incoming-webhook URL</a>: every new sign-up posts a message to that channel.${s.fromEnv ? ' (Now set by SLACK_WEBHOOK_URL.)' : ''}</p>
!${errorSummaryHtml(errors, { slackUrl: 'Slack webhook URL', slackEvents: 'Events' })}
<form class="stacked" method="post" action="/admin/integrations/slack">!${csrfField(csrf)}
!${fieldHtml({ name: 'slackUrl', label: 'Slack webhook URL', value: valueOf(state?.values, 'slackUrl') ?? s.url, errors, attrs: 'inputmode="url"' })}
<fieldset><legend>Post to Slack on</legend>!${(['user.created', 'post.published', 'comment.created'] as const).map((e) => html`<label><input type="checkbox" name="slackEvents" value="${e}"!${events.includes(e) ? ' checked' : ''}> ${e}</label><br>`)}</fieldset>
<div class="actions"><button type="submit">Save</button></div></form>
<form method="post" action="/admin/integrations/slack/test">!${csrfField(csrf)}<button class="link" type="submit">Send a test message</button></form>
</section>`;
    return { title: 'Integrations', body };
  }

  app.get('/admin/integrations', async (request, reply) => {
    requireAdmin(request, 'Only admins manage integrations');
    return sendPage(request, reply, await integrationsPage(request));
  });

  app.post('/admin/integrations/slack', { config: { formPage: integrationsPage } }, async (request, reply) => {
    requireAdmin(request, 'Only admins manage integrations');
    const b = request.body as Body;
    await integrations.setSlack({ url: b?.slackUrl, events: list(b?.slackEvents) });
    reply.setFlash('Slack settings saved');
    return reply.code(303).redirect('/admin/integrations');
  });

  app.post('/admin/integrations/slack/test', async (request, reply) => {
    requireAdmin(request, 'Only admins manage integrations');
    await integrations.sendSlackTest();
    reply.setFlash('A test message is on its way to Slack');
    return reply.code(303).redirect('/admin/integrations');
  });

  async function webhooksPage(request: FastifyRequest, extra: { secret?: string; errors?: AppError['errors']; values?: Record<string, string> } = {}) {
    const hooks = await integrations.listWebhooks();
    const csrf = request.csrfToken();
    const errors = extra.errors ?? [];
    return html`<h1>Webhooks</h1>
!${extra.secret ? html`<div class="flash flash-success" role="status"><p><strong>Signing secret</strong> (shown once): <code id="new-secret">${extra.secret}</code></p></div>` : ''}
!${
      hooks.length
        ? html`<table class="dash"><thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead><tbody>
!${hooks.map(
            (h) => html`<tr><td><a href="/admin/webhooks/${h.id}">${h.url}</a></td><td>${h.events.join(', ')}</td>
<td>${h.active ? (h.failingSince ? 'failing' : 'active') : `disabled${h.disabledReason ? `: ${h.disabledReason}` : ''}`}</td>
<td><form method="post" action="/admin/webhooks/${h.id}/delete" class="inline">!${csrfField(csrf)}<button class="link" type="submit">Delete</button></form></td></tr>`,
          )}
</tbody></table>`
        : html`<p>No webhooks yet.</p>`
    }
<h2>Add an endpoint</h2>
!${errorSummaryHtml(errors)}
<form class="stacked" method="post" action="/admin/webhooks" novalidate>!${csrfField(csrf)}
!${fieldHtml({ name: 'url', label: 'URL', value: extra.values?.url ?? '', errors, attrs: 'inputmode="url" required' })}
<fieldset><legend>Events</legend>!${WEBHOOK_EVENTS.map((e) => html`<label><input type="checkbox" name="events" value="${e}"> ${e}</label><br>`)}</fieldset>
!${fieldHtml({ name: 'secret', label: 'Signing secret', value: '', errors, hint: '(leave empty to generate one)' })}
<div class="actions"><button type="submit">Add webhook</button></div></form>
<p>Each delivery is a JSON POST of <code>{ "id", "event", "createdAt", "data" }</code> signed in the <code>Inkwell-Signature</code> header; see the README.</p>`;
  }

  app.get('/admin/webhooks', async (request, reply) => {
    requireAdmin(request, 'Only admins manage integrations');
    return sendPage(request, reply, { title: 'Webhooks', body: await webhooksPage(request) });
  });

  app.post('/admin/webhooks', async (request, reply) => {
    requireAdmin(request, 'Only admins manage integrations');
    const b = request.body as Body;
    try {
      const { secret } = await integrations.createWebhook({ url: b?.url, events: list(b?.events), secret: b?.secret });
      return sendPage(request, reply, { title: 'Webhooks', status: 201, body: await webhooksPage(request, { secret }) });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return sendPage(request, reply, {
        title: 'Webhooks',
        status: 422,
        body: await webhooksPage(request, { errors: err.errors, values: { url: String(b?.url ?? '') } }),
      });
    }
  });

  app.post<{ Params: { id: string } }>('/admin/webhooks/:id/delete', async (request, reply) => {
    requireAdmin(request, 'Only admins manage integrations');
    await integrations.deleteWebhook(idOf(request.params.id));
    reply.setFlash('Webhook deleted');
    return reply.code(303).redirect('/admin/webhooks');
  });

  app.get<{ Params: { id: string } }>('/admin/webhooks/:id', async (request, reply) => {
    requireAdmin(request, 'Only admins manage integrations');
    const hook = await integrations.getWebhook(idOf(request.params.id));
    const rows = await integrations.deliveries(hook.id);
    const csrf = request.csrfToken();
    const body = html`<h1>Webhook deliveries</h1><p><code>${hook.url}</code> · ${hook.events.join(', ')}</p>
!${
      rows.length
        ? html`<table class="dash"><thead><tr><th scope="col">Delivery</th><th scope="col">Status</th><th scope="col">Response</th><th scope="col">Actions</th></tr></thead><tbody>
!${rows.map(
            (d) => html`<tr><td><code>${d.delivery_id}</code><br>${d.event} · !${dateHtml(d.created_at)}</td>
<td>${d.status} (${d.attempts} attempt${d.attempts === 1 ? '' : 's'})${d.duration_ms !== null ? `, ${d.duration_ms} ms` : ''}</td>
<td>${d.response_status ?? ''} ${d.error ?? ''}<br><small>${(d.response_excerpt ?? '').slice(0, 200)}</small></td>
<td><form method="post" action="/admin/webhooks/deliveries/${d.id}/redeliver" class="inline">!${csrfField(csrf)}<button class="link" type="submit">Redeliver</button></form></td></tr>`,
          )}
</tbody></table>`
        : html`<p>No deliveries yet.</p>`
    }
<p><a href="/admin/webhooks">← All webhooks</a></p>`;
    return sendPage(request, reply, { title: 'Webhook deliveries', body });
  });

  app.post<{ Params: { id: string } }>('/admin/webhooks/deliveries/:id/redeliver', async (request, reply) => {
    requireAdmin(request, 'Only admins manage integrations');
    await integrations.redeliver(idOf(request.params.id));
    reply.setFlash('Delivery queued again');
    return reply.code(303).redirect('/admin/webhooks');
  });

  app.get('/admin/jobs', async (request, reply) => {
    requireAdmin(request, 'Only admins manage integrations');
    const [counts, failed] = await Promise.all([queue.counts(), queue.failed()]);
    const csrf = request.csrfToken();
    const body = html`<h1>Jobs</h1>
<table class="dash"><thead><tr>!${Object.keys(counts).map((k) => html`<th scope="col">${k}</th>`)}</tr></thead><tbody><tr>!${Object.values(counts).map((n) => html`<td>${n}</td>`)}</tr></tbody></table>
<h2>Failed jobs</h2>
!${
      failed.length
        ? html`<table class="dash"><thead><tr><th scope="col">Job</th><th scope="col">Error</th><th scope="col">Actions</th></tr></thead><tbody>
!${failed.map(
            (
              j,
            ) => html`<tr><td>#${j.id} ${j.type}<br><small>${j.attempts} attempts · !${dateHtml(j.finished_at)}</small></td><td><pre style="white-space:pre-wrap;max-height:8rem;overflow:auto">${j.last_error ?? ''}</pre></td>
<td><div class="actions"><form method="post" action="/admin/jobs/${j.id}/retry" class="inline">!${csrfField(csrf)}<button class="link" type="submit">Retry</button></form>
<form method="post" action="/admin/jobs/${j.id}/discard" class="inline">!${csrfField(csrf)}<button class="link" type="submit">Discard</button></form></div></td></tr>`,
          )}
</tbody></table>`
        : html`<p>No failed jobs.</p>`
    }`;
    return sendPage(request, reply, { title: 'Jobs', body });
  });

  app.post<{ Params: { id: string; action: string } }>('/admin/jobs/:id/:action', async (request, reply) => {
    requireAdmin(request, 'Only admins manage integrations');
    const id = idOf(request.params.id);
    const { action } = request.params;
    if (action !== 'retry' && action !== 'discard') throw new AppError('not_found', 'No such action');
    const ok = action === 'retry' ? await queue.retry(id) : await queue.discard(id);
    if (!ok) throw new AppError('conflict', `Job #${id} cannot be ${action === 'retry' ? 'retried' : 'discarded'} in its state`);
    reply.setFlash(action === 'retry' ? `Job #${id} queued again` : `Job #${id} discarded`);
    return reply.code(303).redirect('/admin/jobs');
  });
}
