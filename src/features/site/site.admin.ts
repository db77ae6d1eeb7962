import type { FastifyInstance, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import type { FieldError } from '../../platform/errors.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { csrfField, errorSummaryHtml, fieldHtml, submittedValue, type FormState } from '../../platform/http/forms.ts';
import { readPatch } from '../../platform/http/input.ts';
import { type PageOptions, sendPage } from '../../platform/http/layout.ts';
import type { MediaService } from '../media/index.ts';
import { LIMITS, SitePatchSchema } from './site.schema.ts';
import { linkLines, type SiteSettingsService } from './site.settings.ts';

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

  async function page(request: FastifyRequest, form: Form, errors: FieldError[]): Promise<PageOptions> {
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
    return { title: 'Site settings', body };
  }

  app.get('/admin/site', async (request, reply) => {
    requireAdmin(request, 'Only admins run the site');
    const s = await settings.get();
    const form = await page(
      request,
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
    return sendPage(request, reply, form);
  });

  // A refused change: the form again, as typed, with every wrong field's message.
  const formPage = (request: FastifyRequest, state: FormState) =>
    page(request, Object.fromEntries(Object.keys(LABELS).map((k) => [k, submittedValue(state.values, k) ?? ''])), state.errors);

  app.post('/admin/site', { config: { formPage } }, async (request, reply) => {
    requireAdmin(request, 'Only admins run the site');
    // The form sends every field: the link lists one a line, an empty logo for none,
    // a choice left out keeps its value (SitePatchSchema).
    const { value, errors } = readPatch(request, SitePatchSchema);
    await settings.update(value, errors);
    reply.setFlash('Settings saved');
    return reply.code(303).redirect('/admin/site');
  });
}
