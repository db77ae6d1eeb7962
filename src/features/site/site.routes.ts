import type { FastifyInstance } from 'fastify';
import { html } from '../../lib/html.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { Db } from '../../platform/db/index.ts';

/** robots.txt and the admin index (the health checks are the platform's: platform/http/health.ts). */
export async function siteRoutes(app: FastifyInstance, opts: { db: Db; siteUrl: string }) {
  // Private areas stay out of indexes (their pages also say noindex); the sitemap lists the rest.
  const robots = [
    'User-agent: *',
    'Disallow: /admin',
    'Disallow: /dashboard',
    'Disallow: /settings',
    'Disallow: /notifications',
    'Disallow: /search',
    'Disallow: /api/',
    '',
    `Sitemap: ${opts.siteUrl}/sitemap.xml`,
    '',
  ].join('\n');
  app.get('/robots.txt', async (_request, reply) => reply.type('text/plain; charset=utf-8').header('cache-control', 'public, max-age=3600').send(robots));

  app.get('/admin', async (request, reply) => {
    requireAdmin(request, 'Only admins run the site');
    const pages = app.layout.chrome.adminPages();
    return sendPage(request, reply, {
      title: 'Admin',
      body: html`<h1>Admin</h1><ul class="post-list">!${pages.map((p) => html`<li><h2><a href="${p.href}">${p.name}</a></h2><p>${p.description}</p></li>`)}</ul>`,
    });
  });
}
