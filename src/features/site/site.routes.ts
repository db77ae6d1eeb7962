import type { FastifyInstance } from 'fastify';
import { html } from '../../lib/html.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { Db } from '../../platform/db/index.ts';

/** The admin index (the health checks are the platform's: platform/http/health.ts). */
export async function siteRoutes(app: FastifyInstance, _opts: { db: Db }) {
  app.get('/admin', async (request, reply) => {
    requireAdmin(request, 'Only admins run the site');
    const pages = app.layout.chrome.adminPages();
    return sendPage(request, reply, {
      title: 'Admin',
      body: html`<h1>Admin</h1><ul class="post-list">!${pages.map((p) => html`<li><h2><a href="${p.href}">${p.name}</a></h2><p>${p.description}</p></li>`)}</ul>`,
    });
  });
}
