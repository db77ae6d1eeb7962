import type { FastifyInstance, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import { AppError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { csrfField, errorSummaryHtml, fieldHtml, submittedValue, type FormState } from '../../platform/http/forms.ts';
import { readInput } from '../../platform/http/input.ts';
import { sendPage, type PageOptions } from '../../platform/http/layout.ts';
import { acceptOneClickForms } from '../../platform/http/one-click.ts';
import { bodyField, limit } from '../../platform/http/rate-limit.ts';
import type { AccountsService } from '../accounts/index.ts';
import { FrequencyChangeSchema, SubscribeSchema } from './subscriptions.schema.ts';
import type { SubscriptionsService } from './subscriptions.service.ts';

type Body = Record<string, unknown> | undefined;
const FREQUENCY_LABELS = { instant: 'Each new post', weekly: 'A weekly digest' };

/** The sentence every subscribe form answers with, subscribed already or not. */
export const CHECK_INBOX = 'If this address can get our emails, a message is on its way. To start (or change) a subscription, follow the link in it.';

function frequencyRadios(selected: string): string {
  return html`<fieldset><legend>How often</legend>!${(['instant', 'weekly'] as const).map(
    (f) => html`<label><input type="radio" name="frequency" value="${f}"!${selected === f ? ' checked' : ''}> ${FREQUENCY_LABELS[f]}</label> `,
  )}</fieldset>`;
}

function subscribePage(_request: FastifyRequest, state?: FormState): PageOptions {
  const errors = state?.errors ?? [];
  const body = html`<h1>Subscribe by email</h1>
<p>Get new posts in your inbox. We send a confirmation first; every email has a one-click unsubscribe link.</p>
!${errorSummaryHtml(errors, { email: 'Email address', frequency: 'How often' })}
<form class="stacked" method="post" action="/subscribe">
!${fieldHtml({ name: 'email', label: 'Email address', type: 'email', value: submittedValue(state?.values, 'email') ?? '', errors, attrs: 'autocomplete="email" required maxlength="254"' })}
!${frequencyRadios(submittedValue(state?.values, 'frequency') ?? 'instant')}
<div class="actions"><button type="submit">Subscribe</button></div></form>`;
  return { title: 'Subscribe', body, status: state ? 422 : 200 };
}

/** Subscribing, confirming, unsubscribing, the profile button and /settings/subscriptions. */
export async function subscriptionsRoutes(app: FastifyInstance, opts: { subscriptions: SubscriptionsService; accounts: AccountsService }) {
  const { subscriptions, accounts } = opts;
  const perIp = limit(app, 'subscribe-ip', { max: 10, timeWindow: '1 hour' });
  const perAddress = limit(app, 'subscribe-address', { max: 3, timeWindow: '1 hour', key: bodyField('email') });

  app.get('/subscribe', async (request, reply) => sendPage(request, reply, subscribePage(request)));

  // No CSRF token: the footer's form is on every (cached) page, and this action uses
  // no ambient authority. It ignores the session, and a subscription starts only
  // when the address's owner follows the emailed link. It is limited per IP and address.
  app.post('/subscribe', { config: { csrf: false, formPage: subscribePage }, preHandler: [perIp, perAddress] }, async (request, reply) => {
    // Read after the rate limits, as before: a refused form counts against them too.
    const { email, frequency } = readInput(request, SubscribeSchema);
    await subscriptions.subscribe({ email, frequency });
    return sendPage(request, reply, { title: 'Check your inbox', body: html`<h1>Check your inbox</h1><p>${CHECK_INBOX}</p>`, noindex: true });
  });

  // The emailed link is the credential, used once. Mail scanners fetch every link,
  // so GET only shows a button; the POST it sends confirms.
  app.get<{ Params: { token: string } }>('/subscriptions/confirm/:token', async (request, reply) => {
    const { email, what } = await subscriptions.pendingByToken(request.params.token);
    reply.header('cache-control', 'no-store');
    return sendPage(request, reply, {
      title: 'Confirm your subscription',
      noindex: true,
      body: html`<h1>Confirm your subscription</h1><p>Send ${what} to <strong>${email}</strong>?</p>
<form method="post" action="/subscriptions/confirm/${request.params.token}"><button type="submit">Confirm subscription</button></form>`,
    });
  });
  app.post<{ Params: { token: string } }>('/subscriptions/confirm/:token', { config: { csrf: false } }, async (request, reply) => {
    const { what } = await subscriptions.confirm(request.params.token);
    return sendPage(request, reply, {
      title: 'Subscribed',
      noindex: true,
      body: html`<h1>You're subscribed</h1><p>You will get ${what} by email. Each one has a link to unsubscribe.</p>`,
    });
  });

  app.get<{ Params: { id: string; sig: string } }>('/subscriptions/unsubscribe/:id/:sig', async (request, reply) => {
    const { email, what, status } = await subscriptions.byUnsubscribeLink(idOf(request.params.id), request.params.sig);
    reply.header('cache-control', 'no-store');
    return sendPage(request, reply, {
      title: 'Unsubscribe',
      noindex: true,
      body:
        status === 'unsubscribed'
          ? html`<h1>Unsubscribed</h1><p><strong>${email}</strong> no longer gets ${what}.</p>`
          : html`<h1>Unsubscribe</h1><p>Stop sending ${what} to <strong>${email}</strong>?</p>
<form method="post" action="/subscriptions/unsubscribe/${request.params.id}/${request.params.sig}"><button type="submit">Unsubscribe</button></form>`,
    });
  });

  await app.register(async (scope) => {
    acceptOneClickForms(scope);
    // No CSRF token by design: mail clients POST "List-Unsubscribe=One-Click" here
    // cross-site and without cookies (RFC 8058); the signed link is the authority.
    scope.post<{ Params: { id: string; sig: string } }>('/subscriptions/unsubscribe/:id/:sig', { config: { csrf: false } }, async (request, reply) => {
      const oneClick = (request.body as Body)?.['List-Unsubscribe'] === 'One-Click';
      let what: string;
      try {
        ({ what } = await subscriptions.unsubscribe(idOf(request.params.id), request.params.sig));
      } catch (err) {
        if (oneClick && err instanceof AppError && err.code === 'token_invalid')
          return reply.code(400).type('text/plain; charset=utf-8').send('This unsubscribe link is invalid.\n');
        throw err;
      }
      if (oneClick) return reply.type('text/plain; charset=utf-8').send('Unsubscribed.\n');
      return sendPage(request, reply, { title: 'Unsubscribed', noindex: true, body: html`<h1>You're unsubscribed</h1><p>You will no longer get ${what}.</p>` });
    });
  });

  // A signed-in reader subscribes to one author from the author's profile.
  app.post<{ Params: { username: string } }>('/@:username/subscribe', async (request, reply) => {
    const user = requireUser(request);
    const author = await accounts.profile(request.params.username);
    if (author.role === 'reader') throw new AppError('not_found', 'This account does not publish');
    const { frequency } = readInput(request, SubscribeSchema);
    await subscriptions.subscribe({ user, authorId: author.id, frequency });
    reply.setFlash(user.verified ? `Subscribed to ${author.displayName}` : `${CHECK_INBOX}`);
    return reply.code(303).redirect(`/@${author.username}`);
  });

  app.get('/settings/subscriptions', async (request, reply) => {
    const user = requireUser(request);
    const mine = await subscriptions.mine(user);
    const csrf = request.csrfToken();
    const body = html`<h1>Email subscriptions</h1>
!${
      mine.length
        ? html`<table class="dash"><thead><tr><th scope="col">To</th><th scope="col">Address</th><th scope="col">How often</th><th scope="col">Actions</th></tr></thead><tbody>
!${mine.map(
            (
              s,
            ) => html`<tr><td>!${s.author ? html`<a href="/@${s.author}">${s.author}</a>` : 'The whole blog'}${s.status === 'pending' ? ' (waiting for confirmation)' : ''}</td><td>${s.email}</td>
<td><form method="post" action="/settings/subscriptions/${s.id}" class="inline">!${csrfField(csrf)}<select id="frequency-${s.id}" name="frequency" aria-label="How often">!${(['instant', 'weekly'] as const).map((f) => html`<option value="${f}"!${s.frequency === f ? ' selected' : ''}>${FREQUENCY_LABELS[f]}</option>`)}</select> <button type="submit">Save</button></form></td>
<td><form method="post" action="/settings/subscriptions/${s.id}/cancel" class="inline">!${csrfField(csrf)}<button type="submit">Unsubscribe</button></form></td></tr>`,
          )}</tbody></table>`
        : html`<p>You have no email subscriptions. Subscribe to an author from their profile, or to the whole blog <a href="/subscribe">here</a>.</p>`
    }
<p class="meta">Listed: subscriptions made from your account, and those to its verified address.</p>`;
    return sendPage(request, reply, { title: 'Email subscriptions', body });
  });

  app.post<{ Params: { id: string } }>('/settings/subscriptions/:id', async (request, reply) => {
    const user = requireUser(request);
    await subscriptions.change(user, idOf(request.params.id), readInput(request, FrequencyChangeSchema));
    reply.setFlash('Subscription saved');
    return reply.code(303).redirect('/settings/subscriptions');
  });

  app.post<{ Params: { id: string } }>('/settings/subscriptions/:id/cancel', async (request, reply) => {
    const user = requireUser(request);
    await subscriptions.change(user, idOf(request.params.id), { cancel: true });
    reply.setFlash('Unsubscribed');
    return reply.code(303).redirect('/settings/subscriptions');
  });
}

function idOf(raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw new AppError('not_found', 'No such subscription');
  return Number(raw);
}

/** The footer's form on every page: no CSRF token, so anonymous pages stay cacheable. */
export function footerFormHtml(): string {
  return html`<form class="subscribe inline" method="post" action="/subscribe"><label for="footer-subscribe-email">Get new posts by email</label>
<input id="footer-subscribe-email" type="email" name="email" autocomplete="email" required maxlength="254" placeholder="you@example.com"> <button type="submit">Subscribe</button></form>`;
}

/** The author's profile: a subscribe button for signed-in readers. */
export async function profileButtonHtml(
  request: FastifyRequest,
  author: { id: number; username: string; role: string },
  subscriptions: SubscriptionsService,
): Promise<string> {
  if (author.role === 'reader') return '';
  if (!request.user)
    return html`<p class="subscribe"><a href="/login?next=${encodeURIComponent(`/@${author.username}`)}">Log in</a> to get ${author.username}'s posts by email.</p>`;
  if (request.user.id === author.id) return '';
  const existing = await subscriptions.toAuthor(request.user, author.id);
  if (existing?.status === 'confirmed')
    return html`<p class="subscribe">You get ${author.username}'s posts by email (${FREQUENCY_LABELS[existing.frequency].toLowerCase()}). <a href="/settings/subscriptions">Manage</a></p>`;
  return html`<form class="subscribe inline" method="post" action="/@${author.username}/subscribe">!${csrfField(request.csrfToken())}
<label for="author-frequency">Email me</label> <select id="author-frequency" name="frequency"><option value="instant">each new post</option><option value="weekly">a weekly digest</option></select>
<button type="submit">Subscribe to ${author.username}</button></form>`;
}
