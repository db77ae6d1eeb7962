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
  <div class="actions"><button type="submit">Log in</button> <a href="/password/forgot">Forgot your password?</a> <a href="/signup">Create an account</a></div>
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

/** The sign-up form (open blogs, or with an invitation). */
export function signupHtml(opts: {
  values: Record<string, string>;
  errors: FieldError[];
  csrf: string;
  invite?: { token: string; email: string; role: string };
}): string {
  const { values: v, errors } = opts;
  return html`<h1>${opts.invite ? 'Accept your invitation' : 'Create an account'}</h1>
!${opts.invite ? html`<p>You were invited to join as ${opts.invite.role === 'reader' ? 'a' : 'an'} ${opts.invite.role}.</p>` : ''}
!${errorSummaryHtml(errors, { displayName: 'Display name' })}
<form class="stacked" method="post" action="/signup" novalidate>
  !${csrfField(opts.csrf)}
  !${opts.invite ? html`<input type="hidden" name="invite" value="${opts.invite.token}">` : ''}
  !${fieldHtml({ name: 'email', label: 'Email', type: 'email', value: v.email ?? opts.invite?.email ?? '', errors, attrs: html`autocomplete="email" required!${opts.invite ? ' readonly' : ''}` })}
  !${fieldHtml({ name: 'username', label: 'Username', value: v.username ?? '', errors, hint: '(2–30 lowercase letters, digits or _; your profile is /@username)', attrs: 'autocomplete="username" required' })}
  !${fieldHtml({ name: 'displayName', label: 'Display name', value: v.displayName ?? '', errors, hint: '(optional)', attrs: 'autocomplete="name"' })}
  !${fieldHtml({ name: 'password', label: 'Password', type: 'password', value: '', errors, hint: '(at least 8 characters, not a common one)', attrs: 'autocomplete="new-password" required' })}
  <div class="actions"><button type="submit">Create account</button> <a href="/login">I have an account</a></div>
</form>`;
}

/** Asks for the address to send a reset link to. */
export function forgotHtml(opts: { email: string; errors: FieldError[]; csrf: string; sent: boolean }): string {
  return html`<h1>Forgot your password?</h1>
!${opts.sent ? html`<p class="flash flash-success" role="status">If an account uses that address, a link to reset its password is on its way. It works for one hour.</p>` : ''}
!${errorSummaryHtml(opts.errors)}
<form class="stacked" method="post" action="/password/forgot" novalidate>
  !${csrfField(opts.csrf)}
  !${fieldHtml({ name: 'email', label: 'Email', type: 'email', value: opts.email, errors: opts.errors, attrs: 'autocomplete="email" required' })}
  <div class="actions"><button type="submit">Send me a reset link</button></div>
</form>`;
}

/** Sets a new password from a reset link. */
export function resetHtml(opts: { token: string; errors: FieldError[]; csrf: string }): string {
  return html`<h1>Choose a new password</h1>
!${errorSummaryHtml(opts.errors)}
<form class="stacked" method="post" action="/password/reset/${opts.token}" novalidate>
  !${csrfField(opts.csrf)}
  !${fieldHtml({ name: 'password', label: 'New password', type: 'password', value: '', errors: opts.errors, hint: '(at least 8 characters)', attrs: 'autocomplete="new-password" required' })}
  <div class="actions"><button type="submit">Set password</button></div>
</form>`;
}

/** The confirmation page behind a password notice's revoke link: only its POST button revokes (mail scanners fetch links). */
export function revokeTokensHtml(opts: { token: string; count: number; csrf: string }): string {
  return html`<h1>Revoke your personal access tokens</h1>
<p>${opts.count === 1 ? 'One personal access token' : `${opts.count} personal access tokens`} made before your password changed still ${opts.count === 1 ? 'works' : 'work'}. Revoke ${opts.count === 1 ? 'it' : 'them all'} if you did not make ${opts.count === 1 ? 'it' : 'them'} or no longer use ${opts.count === 1 ? 'it' : 'them'}: scripts using ${opts.count === 1 ? 'it' : 'them'} will stop working.</p>
<form class="stacked" method="post" action="/settings/tokens/revoke/${opts.token}">
  !${csrfField(opts.csrf)}
  <div class="actions"><button type="submit">Revoke ${opts.count === 1 ? 'it' : 'them all'}</button></div>
</form>`;
}
