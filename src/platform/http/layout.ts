import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import type { AppError } from '../errors.ts';
import { consumeFlash } from './auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Unread notifications of the signed-in user, for the header badge (set by the notifications feature). */
    unreadCount: number | null;
  }
}

export interface PageOptions {
  title: string;
  /** Already-rendered HTML (from html``). */
  body: string;
  status?: number;
  /** Extra <head> elements, already HTML (feeds' alternate links, canonical URL). */
  head?: string;
}

let siteName = 'Inkwell';
/** Set once at start from the site settings. */
export function setSiteName(name: string): void {
  siteName = name;
}

/** The document around every HTML page: header, navigation, flash message, footer. */
function documentHtml(request: FastifyRequest, opts: PageOptions, flashHtml: string): string {
  const user = request.user;
  const admin = user?.role === 'admin' ? html`<a href="/admin">Admin</a>` : '';
  const moderate = user && (user.role === 'admin' || user.role === 'editor') ? html`<a href="/admin/comments">Comments</a>` : '';
  const unread = request.unreadCount ?? 0;
  const bell = user
    ? html`<a href="/notifications">Notifications <span id="unread-badge" class="badge-count" aria-label="${unread} unread"!${unread ? '' : ' hidden'}>${unread}</span></a>`
    : '';
  const nav = user
    ? html`<a href="/feed">Feed</a> !${user.role !== 'reader' ? html`<a href="/posts/new">Write</a> <a href="/admin/posts">Dashboard</a>` : ''} !${moderate} !${admin} !${bell}
        <a href="/settings">Settings</a>
        <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${request.csrfToken()}"><button class="link">Log out ${user.username}</button></form>`
    : html`<a href="/login">Log in</a> <a href="/signup">Sign up</a>`;
  const csrfMeta = user ? html`<meta name="csrf-token" content="${request.csrfToken()}">` : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title === siteName ? siteName : `${opts.title} · ${siteName}`}</title>
<link rel="stylesheet" href="/assets/inkwell.css">
<script src="/assets/live.js" defer></script>
<link rel="alternate" type="application/rss+xml" title="${siteName} (RSS)" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" title="${siteName} (Atom)" href="/atom.xml">
!${csrfMeta}!${opts.head ?? ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><nav aria-label="Site"><a class="brand" href="/">${siteName}</a><span class="nav-links"><form method="get" action="/search" role="search" class="site-search"><input type="search" name="q" aria-label="Search posts" placeholder="Search" maxlength="200"></form> !${nav}</span></nav></header>
<main id="main">
!${flashHtml}!${opts.body}
</main>
<footer class="site"><p>${siteName} · <a href="/feed.xml">RSS</a> · <a href="/atom.xml">Atom</a> · <a href="/api/docs">API</a></p></footer>
</body>
</html>`;
}

/** Renders a full page and sends it. */
export function sendPage(request: FastifyRequest, reply: FastifyReply, opts: PageOptions): FastifyReply {
  const flash = consumeFlash(request, reply);
  const flashHtml = flash
    ? html`<p class="flash flash-${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.message}</p>`
    : '';
  return reply
    .code(opts.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(documentHtml(request, opts, flashHtml));
}

/** The page for an error that was not handled closer to where it happened. */
export function errorPage(request: FastifyRequest, err: AppError): string {
  const body = html`<section class="error"><h1>${err.status} · ${titleFor(err.status)}</h1><p>${err.message}</p>
!${err.errors.length ? html`<ul>!${err.errors.map((e) => html`<li>${e.field}: ${e.message}</li>`)}</ul>` : ''}
<p><a href="/">Back to the front page</a></p></section>`;
  return documentHtml(request, { title: titleFor(err.status), body }, '');
}

function titleFor(status: number): string {
  return ({ 400: 'Bad request', 401: 'Log in needed', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict', 413: 'Too large', 415: 'Unsupported', 422: 'Invalid input', 429: 'Slow down' } as Record<number, string>)[status]
    ?? (status >= 500 ? 'Server error' : 'Error');
}
