import { html } from '../../../lib/html.ts';
import type { FieldError } from '../../../platform/errors.ts';
import { csrfField, errorSummaryHtml, fieldHtml } from '../../../platform/http/forms.ts';

/** The login form; a failed login says only that the pair didn't match. */
export function loginHtml(opts: { login: string; next: string; error: string | null; csrf: string }): string {
  return html`<h1>Log in</h1>
!${opts.error ? html`<p class="flash flash-error" role="alert">${opts.error}</p>` : ''}
<form class="stacked" method="post" action="/login">
  !${csrfField(opts.csrf)}
  <input type="hidden" name="next" value="${opts.next}">
  !${fieldHtml({ name: 'login', label: 'Email or username', value: opts.login, errors: [], attrs: 'autocomplete="username" required' })}
  !${fieldHtml({ name: 'password', label: 'Password', type: 'password', value: '', errors: [], attrs: 'autocomplete="current-password" required' })}
  <div class="actions"><button type="submit">Log in</button></div>
</form>`;
}

/** The one-time form that creates the first admin account. */
export function setupHtml(opts: { token: string; values: Record<string, string>; errors: FieldError[]; csrf: string }): string {
  const { values: v, errors } = opts;
  return html`<h1>Set up your blog</h1>
<p>Create the first account. It will be the administrator.</p>
!${errorSummaryHtml(errors, { displayName: 'Display name' })}
<form class="stacked" method="post" action="/setup" novalidate>
  !${csrfField(opts.csrf)}
  <input type="hidden" name="token" value="${opts.token}">
  !${fieldHtml({ name: 'email', label: 'Email', type: 'email', value: v.email ?? '', errors, attrs: 'autocomplete="email" required' })}
  !${fieldHtml({ name: 'username', label: 'Username', value: v.username ?? '', errors, hint: '(2–30 lowercase letters, digits or _)', attrs: 'autocomplete="username" required' })}
  !${fieldHtml({ name: 'displayName', label: 'Display name', value: v.displayName ?? '', errors, attrs: 'autocomplete="name"' })}
  !${fieldHtml({ name: 'password', label: 'Password', type: 'password', value: '', errors, hint: '(at least 8 characters)', attrs: 'autocomplete="new-password" required' })}
  <div class="actions"><button type="submit">Create admin account</button></div>
</form>`;
}
