import { renderEmail, type MailMessage } from '../../platform/mail/index.ts';
import type { NotificationKind } from '../../platform/db/schema.ts';

export interface Site {
  name: string;
  url: string;
}

export interface NotificationSummary {
  kind: NotificationKind;
  actor: string;
  postTitle: string;
  excerpt: string;
  url: string;
}

export const KIND_LABELS: Record<NotificationKind, string> = {
  comment_on_post: 'Comments on your posts',
  reply_to_comment: 'Replies to your comments',
  new_follower: 'New followers',
  post_favorited: 'Favourites of your posts',
  comment_held: 'Comments awaiting approval (moderators)',
};

/** The line that says what happened, for pages and emails alike. */
export function describe(n: { kind: NotificationKind; actor: string; postTitle: string }): string {
  switch (n.kind) {
    case 'reply_to_comment':
      return `${n.actor} replied to your comment on “${n.postTitle}”`;
    case 'comment_on_post':
      return `${n.actor} commented on your post “${n.postTitle}”`;
    case 'new_follower':
      return `${n.actor} started following you`;
    case 'post_favorited':
      return `${n.actor} favourited your post “${n.postTitle}”`;
    case 'comment_held':
      return `A comment by ${n.actor} on “${n.postTitle}” awaits approval`;
  }
}

// RFC 8058: mail clients offer "unsubscribe" and POST to this URL without cookies.
function unsubscribeHeaders(url: string): Record<string, string> {
  return { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/** One email for one notification. */
export function instantEmail(site: Site, to: { email: string; name: string }, n: NotificationSummary, unsubscribeUrl: string): MailMessage {
  const subject = describe(n);
  return {
    to: to.email,
    toName: to.name,
    subject: subject.replace(/[\r\n]+/g, ' ').slice(0, 200),
    headers: unsubscribeHeaders(unsubscribeUrl),
    ...renderEmail({
      siteName: site.name,
      siteUrl: site.url,
      heading: subject,
      paragraphs: n.excerpt ? [`“${n.excerpt}”`] : [],
      action: {
        label:
          n.kind === 'new_follower'
            ? 'See their profile'
            : n.kind === 'post_favorited'
              ? 'See the post'
              : n.kind === 'comment_held'
                ? 'Open the moderation queue'
                : 'Read and reply',
        url: n.url,
      },
      footer: `Don't want these? Unsubscribe from “${KIND_LABELS[n.kind]}” with one click: ${unsubscribeUrl}`,
    }),
  };
}

/** The daily digest: everything since the last one, in one email. */
export function digestEmail(site: Site, to: { email: string; name: string }, items: NotificationSummary[], unsubscribeUrl: string): MailMessage {
  return {
    to: to.email,
    toName: to.name,
    subject: `${items.length} new ${items.length === 1 ? 'notification' : 'notifications'} on ${site.name}`,
    headers: unsubscribeHeaders(unsubscribeUrl),
    ...renderEmail({
      siteName: site.name,
      siteUrl: site.url,
      heading: 'Your daily digest',
      paragraphs: items.map((n) => (n.excerpt ? `${describe(n)}: “${n.excerpt}” ${n.url}` : `${describe(n)}: ${n.url}`)),
      action: { label: 'See all notifications', url: `${site.url}/notifications` },
      footer: `Don't want digests? Unsubscribe with one click: ${unsubscribeUrl}`,
    }),
  };
}
