import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import { AppError, type FieldError } from '../../platform/errors.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { csrfField, errorSummaryHtml, fieldHtml } from '../../platform/http/forms.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { MediaService } from '../media/index.ts';
import { LIMITS, linkLines, parseLinkLines, type SiteSettingsService } from './site.settings.ts';

type Form = Record<string, string>;

const LABELS: Record<string, string> = {
  name: 'Name',
  description: 'Description',
  logoId: 'Logo',
  faviconId: 'Favicon',
  accentColor: 'Accent colour',
  language: 'Language',
  timeZone: 'Time zone',
  postsPerPage: 'Posts per page',
  footerText: 'Footer text',
  socialLinks: 'Social links',
  navigation: 'Menu',
  signupMode: 'Who may sign up',
  signupRole: 'Role of new accounts',
  commenting: 'Who may comment',
};

const CHOICES: Record<string, Record<string, string>> = {
  signupMode: { open: 'Anyone', invite: 'By invitation only', closed: 'Nobody' },
  signupRole: { reader: 'Reader (reads, comments, follows)', author: 'Author (publishes on the front page)' },
  commenting: { 'signed-in': 'Everyone signed in', verified: 'Accounts with a verified email', nobody: 'Nobody' },
};

function selectHtml(name: string, value: string, options: Record<string, string>, errors: FieldError[]): string {
  const bad = errors.some((e) => e.field === name);
  return html`<div><label for="${name}">${LABELS[name]}</label>
<select id="${name}" name="${name}" aria-invalid="${bad ? 'true' : 'false'}">!${Object.entries(options).map(([v, label]) => html`<option value="${v}"!${v === value ? ' selected' : ''}>${label}</option>`)}</select>
!${
    bad
      ? html`<p class="field-error">${LABELS[name]} ${errors
          .filter((e) => e.field === name)
          .map((e) => e.message)
          .join('; ')}</p>`
      : ''
  }</div>`;
}

/** /admin/site: one plain form for the blog's settings. */
export async function siteAdminRoutes(app: FastifyInstance, opts: { settings: SiteSettingsService; media: MediaService }) {
  const { settings, media } = opts;

  async function page(request: FastifyRequest, reply: FastifyReply, form: Form, errors: FieldError[], status = 200) {
    const { items } = await media.list({ limit: 100 });
    const images: Record<string, string> = { '': 'None' };
    for (const m of items) images[m.id] = `${m.alt || m.originalName} (${m.width}×${m.height})`;
    for (const k of ['logoId', 'faviconId']) if (form[k] && !images[form[k]]) images[form[k]] = form[k];
    const f = (name: string, label: string, extra: { type?: 'text' | 'textarea'; hint?: string; attrs?: string } = {}) =>
      fieldHtml({ name, label, value: form[name] ?? '', errors, ...extra });
    const body = html`<h1>Site settings</h1>
!${errorSummaryHtml(errors, LABELS)}
<form method="post" action="/admin/site" class="stacked" novalidate>
!${csrfField(request.csrfToken())}
<fieldset><legend>The blog</legend>
!${f('name', 'Name', { attrs: html`maxlength="${LIMITS.name}" required` })}
!${f('description', 'Description', { type: 'textarea', hint: 'For search engines, sharing cards and the feeds.', attrs: html`maxlength="${LIMITS.description}"` })}
!${selectHtml('logoId', form.logoId ?? '', images, errors)}
!${selectHtml('faviconId', form.faviconId ?? '', images, errors)}
<p class="hint">Upload images in the <a href="/admin/media">media library</a> first.</p>
!${f('accentColor', 'Accent colour', { hint: 'Like #2451b7.' })}
!${f('language', 'Language', { hint: 'A language tag: en, de, pt-BR.' })}
!${f('timeZone', 'Time zone', { hint: 'Like Europe/Berlin; daily digests go out at 08:00 there.' })}
!${f('postsPerPage', 'Posts per page')}
!${f('footerText', 'Footer text', { attrs: html`maxlength="${LIMITS.footerText}"` })}
!${f('socialLinks', 'Social links', { type: 'textarea', hint: 'One a line: Label | https://…' })}
!${f('navigation', 'Menu', { type: 'textarea', hint: 'One a line, in order: Label | /pages/about, /tags/news or https://…' })}
</fieldset>
<fieldset><legend>Members</legend>
!${selectHtml('signupMode', form.signupMode ?? 'open', CHOICES.signupMode, errors)}
!${selectHtml('signupRole', form.signupRole ?? 'reader', CHOICES.signupRole, errors)}
!${selectHtml('commenting', form.commenting ?? 'verified', CHOICES.commenting, errors)}
</fieldset>
<p><button type="submit">Save settings</button></p>
</form>`;
    return sendPage(request, reply, { title: 'Site settings', status, body });
  }

  app.get('/admin/site', async (request, reply) => {
    requireAdmin(request, 'Only admins run the site');
    const s = await settings.get();
    return page(
      request,
      reply,
      {
        name: s.name,
        description: s.description,
        logoId: s.logo?.id ?? '',
        faviconId: s.favicon?.id ?? '',
        accentColor: s.accentColor,
        language: s.language,
        timeZone: s.timeZone,
        postsPerPage: String(s.postsPerPage),
        footerText: s.footerText,
        socialLinks: linkLines(s.socialLinks),
        navigation: linkLines(s.navigation),
        signupMode: s.signupMode,
        signupRole: s.signupRole,
        commenting: s.commenting,
      },
      [],
    );
  });

  app.post('/admin/site', async (request, reply) => {
    requireAdmin(request, 'Only admins run the site');
    const raw = (request.body ?? {}) as Record<string, unknown>;
    const form: Form = {};
    for (const k of Object.keys(LABELS)) form[k] = typeof raw[k] === 'string' ? (raw[k] as string) : '';
    try {
      await settings.update({
        ...form,
        logoId: form.logoId || null,
        faviconId: form.faviconId || null,
        socialLinks: parseLinkLines(form.socialLinks),
        navigation: parseLinkLines(form.navigation),
        // A choice left out of the form keeps its value; a wrong one is an error beside it.
        signupMode: form.signupMode || undefined,
        signupRole: form.signupRole || undefined,
        commenting: form.commenting || undefined,
      });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return page(request, reply, form, err.errors, 422);
    }
    reply.setFlash('Settings saved');
    return reply.code(303).redirect('/admin/site');
  });
}
