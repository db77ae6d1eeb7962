import { renderEmail, type MailMessage } from '../../platform/mail/index.ts';

export interface Site {
  name: string;
  url: string;
}

/** A published post as its email shows it. */
export interface PostSummary {
  id: number;
  title: string;
  slug: string;
  excerpt: string;
  authorId: number | null;
  authorName: string | null;
  authorUsername: string | null;
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').trim();

/**
 * RFC 2919 List-Id: `Blog name <label.subscribers.host>`, one list for the whole blog and
 * one per author, so mail clients can filter and offer "unsubscribe".
 */
export function listId(site: Site, authorUsername: string | null): string {
  const host = new URL(site.url).hostname.replace(/^\[|\]$/g, '').replace(/[^A-Za-z0-9.-]/g, '-') || 'localhost';
  const label = authorUsername ? `author-${authorUsername.toLowerCase().replace(/[^a-z0-9-]/g, '-')}` : 'posts';
  // Plain atoms only: a quote or a non-ASCII letter makes the mailer encode the whole
  // value (RFC 2047), and the <id> would be lost in it.
  const phrase = oneLine(authorUsername ? `${site.name} - ${authorUsername}` : site.name)
    .replace(/[^A-Za-z0-9 '_-]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return phrase ? `${phrase} <${label}.subscribers.${host}>` : `<${label}.subscribers.${host}>`;
}

// RFC 8058: mail clients offer "unsubscribe" and POST to this URL without cookies.
function listHeaders(site: Site, unsubscribeUrl: string, authorUsername: string | null): Record<string, string> {
  return {
    'List-Unsubscribe': `<${unsubscribeUrl}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': listId(site, authorUsername),
  };
}

const postUrl = (site: Site, p: PostSummary) => `${site.url}/posts/${p.slug}`;

/** The double opt-in message: nothing is sent to the address until its link is followed. */
export function confirmEmail(site: Site, to: string, confirmUrl: string, what: string): MailMessage {
  return {
    to,
    subject: oneLine(`Confirm your subscription to ${site.name}`).slice(0, 200),
    ...renderEmail({
      siteName: site.name,
      siteUrl: site.url,
      heading: 'Confirm your subscription',
      paragraphs: [`Someone (hopefully you) asked to get ${what} by email at this address.`, 'If it was not you, ignore this email: nothing will be sent.'],
      action: { label: 'Confirm my subscription', url: confirmUrl },
      footer: 'The link works once, for 7 days.',
    }),
  };
}

/** One new post, sent at once. */
export function postEmail(site: Site, to: string, post: PostSummary, unsubscribeUrl: string, listAuthor: string | null): MailMessage {
  return {
    to,
    subject: oneLine(post.title).slice(0, 200),
    headers: listHeaders(site, unsubscribeUrl, listAuthor),
    ...renderEmail({
      siteName: site.name,
      siteUrl: site.url,
      heading: post.title,
      paragraphs: [post.authorName ? `A new post by ${post.authorName}.` : 'A new post.', ...(post.excerpt ? [post.excerpt] : [])],
      action: { label: 'Read the post', url: postUrl(site, post) },
      footer: `You subscribed to new posts. Unsubscribe with one click: ${unsubscribeUrl}`,
    }),
  };
}

/** The weekly digest: the week's posts in one email. */
export function digestEmail(site: Site, to: string, posts: PostSummary[], unsubscribeUrl: string, listAuthor: string | null): MailMessage {
  return {
    to,
    subject: oneLine(`${posts.length} new ${posts.length === 1 ? 'post' : 'posts'} on ${site.name} this week`).slice(0, 200),
    headers: listHeaders(site, unsubscribeUrl, listAuthor),
    ...renderEmail({
      siteName: site.name,
      siteUrl: site.url,
      heading: 'This week’s posts',
      paragraphs: posts.map((p) => `${p.title}${p.authorName ? ` (${p.authorName})` : ''}: ${postUrl(site, p)}`),
      action: { label: `Visit ${site.name}`, url: site.url },
      footer: `You subscribed to a weekly digest. Unsubscribe with one click: ${unsubscribeUrl}`,
    }),
  };
}
