import { renderEmail } from '../../platform/mail/index.ts';
import type { MailMessage } from '../../platform/mail/index.ts';

// The account emails: each an HTML and plain-text pair through renderEmail().

export interface Site {
  name: string;
  url: string;
}

type To = { email: string; name?: string };

function message(_site: Site, to: To, subject: string, body: Parameters<typeof renderEmail>[0]): MailMessage {
  return { to: to.email, toName: to.name, subject, ...renderEmail(body) };
}

export function verifyEmail(site: Site, to: To, url: string): MailMessage {
  return message(site, to, `Confirm your email address for ${site.name}`, {
    siteName: site.name,
    siteUrl: site.url,
    heading: 'Confirm your email address',
    paragraphs: [`Welcome to ${site.name}! Please confirm this address to finish signing up.`, 'The link works for 3 days.'],
    action: { label: 'Confirm my address', url },
    footer: 'If you did not sign up, ignore this email.',
  });
}

export function resetPassword(site: Site, to: To, url: string): MailMessage {
  return message(site, to, `Reset your ${site.name} password`, {
    siteName: site.name,
    siteUrl: site.url,
    heading: 'Reset your password',
    paragraphs: ['Someone (hopefully you) asked to reset the password of this account.', 'The link works once, for one hour.'],
    action: { label: 'Choose a new password', url },
    footer: 'If you did not ask for this, ignore this email: your password stays as it is.',
  });
}

/** A personal access token as the password notice lists it. */
export interface ListedToken {
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/**
 * The notice after a password change or reset. Logins were ended; personal
 * access tokens were not (scripts depend on them), so they are listed with a
 * link to revoke them all in case someone else made them.
 */
export function passwordChanged(site: Site, to: To, personal: ListedToken[] = [], revokeUrl?: string): MailMessage {
  const day = (iso: string) => iso.slice(0, 10);
  const listed = personal.map((t) => `• "${t.name}", made ${day(t.createdAt)}, ${t.lastUsedAt ? `last used ${day(t.lastUsedAt)}` : 'never used'}`);
  const tokens =
    personal.length && revokeUrl
      ? [
          `These personal access tokens still work: ${listed.join(' ')}`,
          'If you did not make them all, revoke them with the button below (it asks you to confirm).',
        ]
      : [];
  return message(site, to, `Your ${site.name} password was changed`, {
    siteName: site.name,
    siteUrl: site.url,
    heading: 'Your password was changed',
    paragraphs: [
      'The password of your account was just changed. Every other login was ended: browser sessions and the tokens that logins in apps handed out.',
      ...tokens,
      `If this was not you, reset your password now at ${site.url}/password/forgot and tell the site's administrator.`,
    ],
    action:
      personal.length && revokeUrl
        ? { label: 'Revoke my personal access tokens', url: revokeUrl }
        : { label: 'Reset my password', url: `${site.url}/password/forgot` },
  });
}

export function confirmNewEmail(site: Site, to: To, url: string): MailMessage {
  return message(site, to, `Confirm your new email address for ${site.name}`, {
    siteName: site.name,
    siteUrl: site.url,
    heading: 'Confirm your new address',
    paragraphs: ['You asked to use this address for your account. It takes effect once you confirm it.', 'The link works for one day.'],
    action: { label: 'Use this address', url },
    footer: 'If you did not ask for this, ignore this email.',
  });
}

/** Tells the current address that a change to another was asked for (before it takes effect). */
export function emailChangeRequested(site: Site, to: To, newEmail: string): MailMessage {
  return message(site, to, `A new email address was requested for your ${site.name} account`, {
    siteName: site.name,
    siteUrl: site.url,
    heading: 'Someone asked to change your email address',
    paragraphs: [
      `Someone asked to use ${newEmail} for your account instead of this address. Nothing changes until that address confirms it.`,
      'If this was not you, reset your password now: that ends every login and cancels the change.',
    ],
    action: { label: 'Reset my password', url: `${site.url}/password/forgot` },
  });
}

export function emailChanged(site: Site, to: To, newEmail: string): MailMessage {
  return message(site, to, `Your ${site.name} email address was changed`, {
    siteName: site.name,
    siteUrl: site.url,
    heading: 'Your email address was changed',
    paragraphs: [`Your account now uses ${newEmail}. Mail will no longer come to this address.`, "If this was not you, contact the site's administrator."],
  });
}

export function invitation(site: Site, to: To, inviter: string, role: string, url: string): MailMessage {
  return message(site, to, `${inviter} invited you to ${site.name}`, {
    siteName: site.name,
    siteUrl: site.url,
    heading: `You're invited to ${site.name}`,
    paragraphs: [`${inviter} invited you to join ${site.name} as ${role === 'reader' ? 'a' : 'an'} ${role}.`, 'The invitation works for 7 days.'],
    action: { label: 'Accept the invitation', url },
  });
}
