import { html } from '../../../lib/html.ts';
import type { FieldError } from '../../../platform/errors.ts';
import { csrfField, errorSummaryHtml, fieldHtml } from '../../../platform/http/forms.ts';
import type { Account, SignupMode } from '../accounts.service.ts';
import { ROLES } from '../accounts.validate.ts';
import { dateHtml } from '../../../lib/dates.ts';

/** The admin's list of accounts, with role, suspension, invitations and the sign-up setting. */
export function adminUsersHtml(v: {
  users: Account[];
  me: number;
  csrf: string;
  mode: SignupMode;
  olderHref: string | null;
  invite: { errors: FieldError[]; email: string; role: string };
}): string {
  const roleOptions = (current: string) => ROLES.map((r) => html`<option value="${r}"!${r === current ? ' selected' : ''}>${r}</option>`);
  const rows = v.users.map(
    (u) => html`<tr>
  <td><a href="/@${u.username}">${u.username}</a><br><small>${u.displayName}</small></td>
  <td class="opt">${u.email}!${u.verified ? '' : html` <span class="badge">unverified</span>`}</td>
  <td><form method="post" action="/admin/users/${u.id}/role" class="inline">!${csrfField(v.csrf)}
    <label class="skip" for="role-${u.id}">Role of ${u.username}</label>
    <select id="role-${u.id}" name="role">!${roleOptions(u.role)}</select> <button class="link" type="submit">Save</button></form></td>
  <td>!${
    u.id === v.me
      ? 'you'
      : html`<form method="post" action="/admin/users/${u.id}/suspend" class="inline">!${csrfField(v.csrf)}
    <input type="hidden" name="suspended" value="${u.suspended ? '0' : '1'}">
    ${u.suspended ? 'Suspended · ' : ''}<button class="link" type="submit">${u.suspended ? 'Reinstate' : 'Suspend'}<span class="skip"> ${u.username}</span></button></form>`
  }</td>
  <td class="opt">!${dateHtml(u.createdAt)}</td>
</tr>`,
  );
  return html`<h1>Users</h1>
<table class="dash">
  <thead><tr><th scope="col">User</th><th scope="col" class="opt">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col" class="opt">Joined</th></tr></thead>
  <tbody>!${rows}</tbody>
</table>
!${v.olderHref ? html`<nav class="pager" aria-label="Pagination"><span></span><a href="${v.olderHref}">Older →</a></nav>` : ''}

<section aria-labelledby="invite-h">
<h2 id="invite-h">Invite someone</h2>
!${errorSummaryHtml(v.invite.errors)}
<form class="stacked" method="post" action="/admin/users/invite" novalidate>
  !${csrfField(v.csrf)}
  !${fieldHtml({ name: 'email', label: 'Email', type: 'email', value: v.invite.email, errors: v.invite.errors, attrs: 'required' })}
  <div><label for="invite-role">Role</label><select id="invite-role" name="role">!${roleOptions(v.invite.role || 'author')}</select></div>
  <div class="actions"><button type="submit">Send invitation</button></div>
</form>
</section>

<section aria-labelledby="signup-h">
<h2 id="signup-h">Who may sign up</h2>
<form class="stacked" method="post" action="/admin/users/signup-mode">
  !${csrfField(v.csrf)}
  <fieldset><legend>Sign-up</legend>
  !${(
    [
      ['open', 'Anyone (they confirm their email before publishing)'],
      ['invite', 'Only people you invite'],
      ['closed', 'Nobody'],
    ] as const
  ).map(([m, label]) => html`<label><input type="radio" name="mode" value="${m}"!${v.mode === m ? ' checked' : ''}> ${label}</label><br>`)}
  </fieldset>
  <div class="actions"><button type="submit">Save</button></div>
</form>
</section>`;
}
