import { html } from '../../../lib/html.ts';
import type { FieldError } from '../../../platform/errors.ts';
import { csrfField, errorSummaryHtml, fieldHtml } from '../../../platform/http/forms.ts';
import type { Account } from '../accounts.service.ts';
import { dateHtml } from '../../../lib/dates.ts';

export type Section = 'profile' | 'email' | 'password' | 'tokens' | 'delete';

export interface SettingsView {
  account: Account;
  tokens: { id: number; name: string; scopes: string[]; createdAt: string; lastUsedAt: string | null; expiresAt: string | null }[];
  csrf: string;
  /** The form that was sent and failed, with its errors and what was typed. */
  failed?: { section: Section; errors: FieldError[]; values: Record<string, string> };
  /** A token just created: shown this once. */
  newToken?: string;
  /** Sections other features add below the profile (already HTML). */
  more?: string;
}

/** The account settings page: one form per concern, each showing its own errors. */
export function settingsHtml(v: SettingsView): string {
  const a = v.account;
  const errs = (s: Section) => (v.failed?.section === s ? v.failed.errors : []);
  const val = (s: Section, k: string, fallback: string) => (v.failed?.section === s ? (v.failed.values[k] ?? fallback) : fallback);
  const labels = { displayName: 'Display name', avatarUrl: 'Avatar URL', currentPassword: 'Current password', newPassword: 'New password' };

  const verify = a.verified
    ? ''
    : html`<section aria-labelledby="verify-h" class="error-summary">
  <h2 id="verify-h">Confirm your email address</h2>
  <p>We sent a link to ${a.email}. Until you follow it you can read and write drafts, but not publish or comment.</p>
  <form method="post" action="/verify/resend">!${csrfField(v.csrf)}<button type="submit">Send the link again</button></form>
</section>`;

  const tokenRows = v.tokens.map(
    (t) => html`<tr>
  <td>${t.name}</td><td>${t.scopes.join(', ')}</td>
  <td class="opt">!${dateHtml(t.createdAt)}</td>
  <td>!${t.lastUsedAt ? dateHtml(t.lastUsedAt) : 'never'}</td>
  <td><form method="post" action="/settings/tokens/${t.id}" class="inline">!${csrfField(v.csrf)}<input type="hidden" name="_method" value="DELETE"><button class="link" type="submit">Revoke<span class="skip"> ${t.name}</span></button></form></td>
</tr>`,
  );

  return html`<h1>Account settings</h1>
<p>Signed in as <strong>${a.username}</strong> (${a.role}). Your public profile: <a href="/@${a.username}">/@${a.username}</a></p>
!${verify}

<section aria-labelledby="profile-h">
<h2 id="profile-h">Profile</h2>
!${errorSummaryHtml(errs('profile'), labels)}
<form class="stacked" method="post" action="/settings/profile" novalidate>
  !${csrfField(v.csrf)}
  !${fieldHtml({ name: 'displayName', label: 'Display name', value: val('profile', 'displayName', a.displayName), errors: errs('profile'), attrs: 'maxlength="80" required' })}
  !${fieldHtml({ name: 'bio', label: 'Bio', type: 'textarea', value: val('profile', 'bio', a.bio ?? ''), errors: errs('profile'), hint: '(shown on your profile)', attrs: 'maxlength="1000" rows="4" style="min-height:6rem"' })}
  !${fieldHtml({ name: 'avatarUrl', label: 'Avatar URL', value: val('profile', 'avatarUrl', a.avatarUrl ?? ''), errors: errs('profile'), hint: '(https://… an image)', attrs: 'inputmode="url"' })}
  <div class="actions"><button type="submit">Save profile</button></div>
</form>
</section>
!${v.more ?? ''}

<section aria-labelledby="email-h">
<h2 id="email-h">Email address</h2>
<p>Now: ${a.email} (${a.verified ? 'confirmed' : 'not confirmed yet'}). A new address takes effect once you follow the link we send to it.</p>
!${errorSummaryHtml(errs('email'))}
<form class="stacked" method="post" action="/settings/email" novalidate>
  !${csrfField(v.csrf)}
  !${fieldHtml({ name: 'email', id: 'new-email', label: 'New email', type: 'email', value: val('email', 'email', ''), errors: errs('email'), attrs: 'autocomplete="email" required' })}
  !${fieldHtml({ name: 'password', id: 'email-password', label: 'Password', type: 'password', value: '', errors: errs('email'), hint: '(to confirm it is you)', attrs: 'autocomplete="current-password" required' })}
  <div class="actions"><button type="submit">Change email</button></div>
</form>
</section>

<section aria-labelledby="password-h">
<h2 id="password-h">Password</h2>
<p>Changing it logs out your other sessions.</p>
!${errorSummaryHtml(errs('password'), labels)}
<form class="stacked" method="post" action="/settings/password" novalidate>
  !${csrfField(v.csrf)}
  !${fieldHtml({ name: 'currentPassword', label: 'Current password', type: 'password', value: '', errors: errs('password'), attrs: 'autocomplete="current-password" required' })}
  !${fieldHtml({ name: 'newPassword', label: 'New password', type: 'password', value: '', errors: errs('password'), hint: '(at least 8 characters)', attrs: 'autocomplete="new-password" required' })}
  <div class="actions"><button type="submit">Change password</button></div>
</form>
</section>

<section aria-labelledby="tokens-h">
<h2 id="tokens-h">API tokens</h2>
<p>Personal access tokens let scripts and front ends use the API as you: send <code>Authorization: Bearer &lt;token&gt;</code>.</p>
!${v.newToken ? html`<div class="flash flash-success" role="status"><p><strong>Your new token.</strong> Copy it now: it is shown only this once.</p><p><code id="new-token">${v.newToken}</code></p></div>` : ''}
!${v.tokens.length ? html`<table class="dash"><thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col" class="opt">Created</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead><tbody>!${tokenRows}</tbody></table>` : html`<p>No tokens yet.</p>`}
!${errorSummaryHtml(errs('tokens'))}
<form class="stacked" method="post" action="/settings/tokens" novalidate>
  !${csrfField(v.csrf)}
  !${fieldHtml({ name: 'name', id: 'token-name', label: 'Token name', value: val('tokens', 'name', ''), errors: errs('tokens'), hint: '(what will use it, e.g. "my front end")', attrs: 'maxlength="80" required' })}
  <fieldset><legend>Scopes</legend>
    <label><input type="checkbox" name="scopes" value="read" checked> read</label>
    <label><input type="checkbox" name="scopes" value="write"> write</label>
    !${errs('tokens').some((e) => e.field === 'scopes') ? html`<p class="field-error" id="scopes-error">Scopes must be read, write or both</p>` : ''}
  </fieldset>
  <div class="actions"><button type="submit">Create token</button></div>
</form>
</section>

<section aria-labelledby="delete-h">
<h2 id="delete-h">Delete account</h2>
<p>This cannot be undone. Your drafts are deleted. Your published posts stay on the blog, shown without an author, so links to them keep working; ask an editor if you want them removed too. Your comments stay in their threads, signed “A former member”.</p>
!${errorSummaryHtml(errs('delete'))}
<form class="stacked" method="post" action="/settings/delete" novalidate>
  !${csrfField(v.csrf)}
  !${fieldHtml({ name: 'password', id: 'delete-password', label: 'Password', type: 'password', value: '', errors: errs('delete'), hint: '(to confirm)', attrs: 'autocomplete="current-password" required' })}
  <div class="actions"><button type="submit" class="danger">Delete my account</button></div>
</form>
</section>`;
}
