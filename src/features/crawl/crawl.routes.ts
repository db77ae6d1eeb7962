import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { CrawlService } from './crawl.service.ts';
import { adminLinksHtml } from './views.ts';

/** /admin/links: broken links, redirects to update, what robots.txt keeps us from; and "check now". */
export async function crawlRoutes(app: FastifyInstance, opts: { crawl: CrawlService }) {
  const { crawl } = opts;

  app.get('/admin/links', async (request, reply) => {
    requireAdmin(request, 'Only admins see the link checker');
    const report = await crawl.report();
    return sendPage(request, reply, { title: 'Links', body: adminLinksHtml(report, request.csrfToken()) });
  });

  app.post('/admin/links/run', async (request, reply) => {
    requireAdmin(request, 'Only admins see the link checker');
    const started = await crawl.start('manual');
    if (started) reply.setFlash('Checking links now. Reload this page in a while to see what it found.');
    else reply.setFlash('A link check is already running', 'error');
    return reply.code(303).redirect('/admin/links');
  });
}
