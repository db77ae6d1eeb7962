import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { html } from '../../lib/html.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { Db } from '../../platform/db/index.ts';

const css = readFileSync(new URL('../../platform/http/assets/inkwell.css', import.meta.url), 'utf8');
const liveJs = readFileSync(new URL('../../platform/http/assets/live.js', import.meta.url), 'utf8');

/** Health checks and the stylesheet. */
export async function siteRoutes(app: FastifyInstance, opts: { db: Db }) {
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const ok = await opts.db.ping();
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', database: ok ? 'reachable' : 'unreachable' });
  });

  app.get('/assets/inkwell.css', async (_request, reply) => {
    return reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css);
  });

  app.get('/admin', async (request, reply) => {
    requireAdmin(request, 'Only admins run the site');
    const pages: [string, string, string][] = [
      ['/admin/posts', 'Posts', 'Everyone\'s drafts and published posts'],
      ['/admin/comments', 'Comments', 'The moderation queue and setting'],
      ['/admin/users', 'Users', 'Roles, suspension, invitations, who may sign up'],
      ['/admin/mail', 'Mail', 'Every email sent or kept, with delivery status'],
      ['/admin/jobs', 'Jobs', 'The background queue: counts, failed jobs, retry'],
      ['/admin/webhooks', 'Webhooks', 'Endpoints, delivery logs, redelivery'],
      ['/admin/integrations', 'Integrations', 'Slack'],
      ['/admin/links', 'Links', 'Broken and redirected links found by the nightly check'],
    ];
    return sendPage(request, reply, {
      title: 'Admin',
      body: html`<h1>Admin</h1><ul class="post-list">!${pages.map(([href, name, what]) => html`<li><h2><a href="${href}">${name}</a></h2><p>${what}</p></li>`)}</ul>`,
    });
  });

  app.get('/assets/live.js', async (_request, reply) => {
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(liveJs);
  });
}
