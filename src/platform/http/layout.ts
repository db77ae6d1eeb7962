import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { html } from '../../lib/html.ts';
import type { AppError } from '../errors.ts';
import { consumeFlash } from './auth.ts';
import type { PageChrome, Region } from './slots.ts';

const css = readFileSync(new URL('./assets/inkwell.css', import.meta.url), 'utf8');

/** What every page shows of the blog itself. */
export interface Site {
  /** The public origin, e.g. https://blog.example (no trailing slash). */
  url: string;
  name(): string;
}

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
  app.addHook('preHandler', async (request) => {
    if (request.user && request.method === 'GET' && !request.url.startsWith('/api/') && !request.url.startsWith('/assets/')) {
      for (const load of loads) await load(request);
    }
  });
});

export interface PageOptions {
  title: string;
  /** Already-rendered HTML (from html``). */
  body: string;
  status?: number;
  /** Extra <head> elements, already HTML (feeds' alternate links, canonical URL). */
  head?: string;
}

/** The document around every HTML page: header, navigation, flash message, footer. */
function documentHtml(request: FastifyRequest, opts: PageOptions, flashHtml: string): string {
  const { site, chrome } = request.server.layout;
  const siteName = site.name();
  const region = (r: Region) => {
    let out = '';
    for (const entry of chrome.entries(r)) {
      const h = entry.render(request);
      if (h) out += ` ${h}`;
    }
    return out;
  };
  const csrfMeta = request.user ? html`<meta name="csrf-token" content="${request.csrfToken()}">` : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title === siteName ? siteName : `${opts.title} · ${siteName}`}</title>
<link rel="stylesheet" href="/assets/inkwell.css">!${region('head')}
!${csrfMeta}!${opts.head ?? ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><nav aria-label="Site"><a class="brand" href="/">${siteName}</a><span class="nav-links">!${region('nav')}</span></nav></header>
<main id="main">
!${flashHtml}!${opts.body}
</main>
<footer class="site"><p>${siteName}!${region('footer')}</p></footer>
</body>
</html>`;
}

/** Renders a full page and sends it. */
export function sendPage(request: FastifyRequest, reply: FastifyReply, opts: PageOptions): FastifyReply {
  const flash = consumeFlash(request, reply);
  const flashHtml = flash ? html`<p class="flash flash-${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.message}</p>` : '';
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
