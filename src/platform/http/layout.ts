import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { readableOn } from '../../lib/colour.ts';
import { html } from '../../lib/html.ts';
import type { AppError } from '../errors.ts';
import { consumeFlash } from './auth.ts';
import { callbackHook } from './hooks.ts';
import type { PageChrome, Region } from './slots.ts';
import type { Site } from '../site.ts';

const css = readFileSync(new URL('./assets/inkwell.css', import.meta.url), 'utf8');

export type { Site } from '../site.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The page chrome's inputs: the blog's name and the header entries that features add. */
    layout: { site: Site; chrome: PageChrome };
  }
}

/**
 * Gives every page the site and the header navigation, and runs the entries'
 * preloads before signed-in pages (not for the API or assets: a signed-in
 * browser also fetches the stylesheet and live.js on every page).
 */
export const layoutPlugin = fp(async (app: FastifyInstance, opts: { site: Site; chrome: PageChrome }) => {
  app.decorate('layout', { site: opts.site, chrome: opts.chrome });
  const loads = opts.chrome.preloaders();
  app.get('/assets/inkwell.css', async (_request, reply) => {
    return reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css);
  });
  // Every answer but the static assets and health checks sees the current
  // settings (one change-token read when nothing changed): pages, feeds, and the
  // emails that a request causes.
  app.addHook(
    'onRequest',
    callbackHook((request) => {
      const url = request.url;
      if (!url.startsWith('/assets/') && url !== '/healthz' && url !== '/readyz') return opts.site.fresh(request.changeToken());
    }),
  );
  app.addHook(
    'preHandler',
    callbackHook((request) => {
      if (request.user && request.method === 'GET' && !request.url.startsWith('/api/') && !request.url.startsWith('/assets/')) {
        return (async () => {
          for (const load of loads) await load(request);
        })();
      }
    }),
  );
});

export interface PageOptions {
  title: string;
  /** Already-rendered HTML (from html``). */
  body: string;
  status?: number;
  /** Extra <head> elements, already HTML (feeds' alternate links). */
  head?: string;
  /** For <meta name="description"> and the sharing cards; else the site's description (or a sentence with its name). */
  description?: string;
  /** The page's own path or URL for rel=canonical; the requested path (without its query) when absent. */
  canonical?: string;
  /** An absolute image URL for the sharing cards (the large card); the site's logo (the small one) when absent. */
  image?: string;
  /** The image's size in pixels and its alt text, for og:image:width/height/alt (crawlers lay out the card before fetching it). */
  imageWidth?: number;
  imageHeight?: number;
  imageAlt?: string;
  /** Open Graph type: website (default), article, profile. */
  ogType?: 'website' | 'article' | 'profile';
  /** Structured data (schema.org), written as JSON-LD. */
  jsonLd?: Record<string, unknown>;
  /** Keep search engines away (drafts, previews, search results; admin pages always are). */
  noindex?: boolean;
}

// Private areas that search engines have no use for, whatever the page says.
const PRIVATE = /^\/(admin|dashboard|settings|notifications|editor|login|signup|posts\/new)(\/|$|\?)|^\/posts\/[^/]+\/edit/;

/** JSON for a <script> element: "<" escaped, so a value cannot end the element. */
export function jsonLdScript(data: Record<string, unknown>): string {
  const json = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `<script type="application/ld+json">${json}</script>`;
}

/** An absolute URL for a path or URL on this site. */
export function absoluteUrl(site: Site, pathOrUrl: string): string {
  return new URL(pathOrUrl, `${site.url}/`).href;
}

/** The <head> metadata every public page carries: description, canonical URL, sharing cards, JSON-LD. */
function metaHtml(request: FastifyRequest, opts: PageOptions, fullTitle: string): string {
  const { site } = request.server.layout;
  const s = site.settings();
  const description = (opts.description || s.description || `The latest posts from ${s.name}`).replace(/\s+/g, ' ').trim().slice(0, 300);
  const canonical = absoluteUrl(site, opts.canonical ?? request.url.split('?')[0]);
  // A page's own image gets the large card; the logo alone, the small one.
  const image = opts.image ?? (s.logo ? absoluteUrl(site, s.logo.url) : undefined);
  const noindex = opts.noindex || (opts.status ?? 200) >= 400 || PRIVATE.test(request.url);
  return html`
<meta name="description" content="${description}">
<link rel="canonical" href="${canonical}">
<meta property="og:site_name" content="${s.name}">
<meta property="og:title" content="${opts.title === s.name ? s.name : opts.title}">
<meta property="og:description" content="${description}">
<meta property="og:type" content="${opts.ogType ?? 'website'}">
<meta property="og:url" content="${canonical}">
<meta property="og:locale" content="${s.language.replace('-', '_')}">
!${image ? html`<meta property="og:image" content="${image}">` : ''}
!${
    opts.image && opts.imageWidth && opts.imageHeight
      ? html`<meta property="og:image:width" content="${opts.imageWidth}">
<meta property="og:image:height" content="${opts.imageHeight}">`
      : ''
  }
!${opts.image && opts.imageAlt ? html`<meta property="og:image:alt" content="${opts.imageAlt}">` : ''}
<meta name="twitter:card" content="${opts.image ? 'summary_large_image' : 'summary'}">
<meta name="twitter:title" content="${fullTitle}">
<meta name="twitter:description" content="${description}">
!${image ? html`<meta name="twitter:image" content="${image}">` : ''}
!${opts.image && opts.imageAlt ? html`<meta name="twitter:image:alt" content="${opts.imageAlt}">` : ''}
!${noindex ? '<meta name="robots" content="noindex">' : ''}
!${opts.jsonLd ? jsonLdScript(opts.jsonLd) : ''}`;
}

// The backgrounds of inkwell.css (--bg and --surface, light then dark): the
// accent is made readable on both before it colours links, buttons and focus rings.
const LIGHT = ['#fdfdfc', '#f3f2ef'];
const DARK = ['#16171b', '#202228'];

/** The accent as the admin chose it, and as text and fills readable in each colour scheme. */
function accentStyle(accent: string): string {
  // The contrast search is ~3 % of a page's CPU, and the accent rarely changes: keep the last answer.
  if (accent === lastAccent.accent) return lastAccent.style;
  const safe = /^#[0-9a-f]{6}$/i.test(accent) ? accent : '#2451b7';
  const style = `:root { --accent: ${safe}; --accent-light: ${readableOn(safe, LIGHT)}; --accent-dark: ${readableOn(safe, DARK)}; }`;
  lastAccent = { accent, style };
  return style;
}
let lastAccent = { accent: '', style: '' };

/** The document around every HTML page: header, navigation, flash message, footer. */
function documentHtml(request: FastifyRequest, opts: PageOptions, flashHtml: string): string {
  const { site, chrome } = request.server.layout;
  const s = site.settings();
  const siteName = s.name;
  const region = (r: Region) => {
    let out = '';
    for (const entry of chrome.entries(r)) {
      const h = entry.render(request);
      if (h) out += ` ${h}`;
    }
    return out;
  };
  const fullTitle = opts.title === siteName ? siteName : `${opts.title} · ${siteName}`;
  const csrfMeta = request.user ? html`<meta name="csrf-token" content="${request.csrfToken()}">` : '';
  const menu = s.navigation.length ? html`<ul class="site-menu">!${s.navigation.map((l) => html`<li><a href="${l.url}">${l.label}</a></li>`)}</ul>` : '';
  const social = s.socialLinks.length
    ? html`<ul class="social">!${s.socialLinks.map((l) => html`<li><a href="${l.url}" rel="me noopener">${l.label}</a></li>`)}</ul>`
    : '';
  return html`<!doctype html>
<html lang="${s.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${fullTitle}</title>
<link rel="stylesheet" href="/assets/inkwell.css">
<style>!${accentStyle(s.accentColor)}</style>
!${s.favicon ? html`<link rel="icon" href="${s.favicon.url}">` : ''}!${metaHtml(request, opts, fullTitle)}!${region('head')}
!${csrfMeta}!${opts.head ?? ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><div class="bar"><a class="brand" href="/">!${s.logo ? html`<img src="${s.logo.url}" alt="" class="logo"> ` : ''}${siteName}</a>
<input type="checkbox" id="menu-toggle" class="menu-toggle"><label for="menu-toggle" class="menu-label">Menu</label>
<nav aria-label="Site" class="menu">!${menu}<div class="nav-links">!${region('nav')}</div></nav></div></header>
<main id="main">
!${flashHtml}!${opts.body}
</main>
<footer class="site">!${s.footerText ? html`<p class="footer-text">${s.footerText}</p>` : ''}!${social}<div class="footer-row">${siteName}!${region('footer')}</div></footer>
</body>
</html>`;
}

/**
 * Renders a full page: sets the status and type and returns the page, for the handler to return:
 * Fastify sends a returned payload directly, while a returned `reply` is a
 * thenable it waits on by watching the response stream end (listeners and
 * allocations on every request).
 */
export function sendPage(request: FastifyRequest, reply: FastifyReply, opts: PageOptions): string {
  const flash = consumeFlash(request, reply);
  const flashHtml = flash ? html`<p class="flash flash-${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.message}</p>` : '';
  reply.code(opts.status ?? 200).type('text/html; charset=utf-8');
  return documentHtml(request, opts, flashHtml);
}

/** The page for an error that was not handled closer to where it happened. */
export function errorPage(request: FastifyRequest, err: AppError): string {
  const body = html`<section class="error"><h1>${err.status} · ${titleFor(err.status)}</h1><p>${err.message}</p>
!${err.errors.length ? html`<ul>!${err.errors.map((e) => html`<li>${e.field}: ${e.message}</li>`)}</ul>` : ''}
<p><a href="/">Back to the front page</a></p></section>`;
  return documentHtml(request, { title: titleFor(err.status), body }, '');
}

function titleFor(status: number): string {
  return (
    (
      {
        400: 'Bad request',
        401: 'Log in needed',
        403: 'Forbidden',
        404: 'Not found',
        409: 'Conflict',
        413: 'Too large',
        415: 'Unsupported',
        422: 'Invalid input',
        429: 'Slow down',
      } as Record<number, string>
    )[status] ?? (status >= 500 ? 'Server error' : 'Error')
  );
}
