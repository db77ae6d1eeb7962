import { html } from '../../lib/html.ts';

export interface EmailContent {
  siteName: string;
  siteUrl: string;
  heading: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  footer?: string;
}

/**
 * One email as an HTML and plain-text pair. Inline styles only: mail clients
 * ignore stylesheets. The text part carries the action URL on a line of its
 * own, so it can be followed from any client.
 */
export function renderEmail(o: EmailContent): { html: string; text: string } {
  const footer = `You received this email from ${o.siteName} (${o.siteUrl}).${o.footer ? ` ${o.footer}` : ''}`;
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${o.heading}</title></head>
<body style="margin:0;padding:24px;background:#f6f6f4;font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1d1d1f">
<div style="max-width:520px;margin:0 auto;background:#fff;border-radius:8px;padding:28px">
<p style="margin:0 0 20px;font-weight:700;font-size:18px">${o.siteName}</p>
<h1 style="font-size:22px;margin:0 0 16px">${o.heading}</h1>
!${o.paragraphs.map((p) => html`<p style="font-size:16px;line-height:1.5;margin:0 0 14px">${p}</p>`)}
!${
    o.action
      ? html`<p style="margin:24px 0"><a href="${o.action.url}" style="background:#2956b2;color:#fff;padding:12px 18px;border-radius:6px;text-decoration:none;font-weight:600">${o.action.label}</a></p>
<p style="font-size:13px;color:#5f6368;word-break:break-all">Or open this address: ${o.action.url}</p>`
      : ''
  }
</div>
<p style="max-width:520px;margin:16px auto 0;font-size:12px;color:#5f6368">${footer}</p>
</body></html>`;
  const text = [
    o.siteName,
    '',
    o.heading,
    '',
    ...o.paragraphs.flatMap((p) => [p, '']),
    ...(o.action ? [`${o.action.label}:`, o.action.url, ''] : []),
    '--',
    footer,
    '',
  ].join('\n');
  return { html: body, text };
}
