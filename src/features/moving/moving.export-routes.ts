import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { html } from '../../lib/html.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import type { Exporter } from './moving.export.ts';

const FORBIDDEN = 'Only admins export the blog';
const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

async function sendArchive(reply: FastifyReply, exporter: Exporter, siteName: string) {
  const name = `${
    siteName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'inkwell'
  }-${new Date().toISOString().slice(0, 10)}.tar.gz`;
  const stream = await exporter.exportArchive();
  return reply
    .type('application/gzip')
    .header('content-disposition', `attachment; filename="${name}"`)
    .header('cache-control', 'private, no-store')
    .send(stream);
}

/** /admin/export: what the archive holds, and its download. */
export async function exportRoutes(app: FastifyInstance, opts: { exporter: Exporter; siteName: () => string }) {
  app.get('/admin/export', async (request, reply) => {
    requireAdmin(request, FORBIDDEN);
    const body = html`<h1>Export</h1>
<p>One archive (<code>.tar.gz</code>) of everything the blog owns: <code>inkwell.json</code> (posts, tags, comments, users without passwords or tokens, settings without secrets, redirects; the format is described in the README) and <code>markdown/</code>, one file per post with YAML front matter for static site generators.</p>
<p>Another Inkwell takes it back with <code>npm run inkwell -- import inkwell FILE</code>.</p>
<p><a class="button" href="/admin/export/download" download>Download the archive</a></p>`;
    return sendPage(request, reply, { title: 'Export', body });
  });

  app.get('/admin/export/download', async (request, reply) => {
    requireAdmin(request, FORBIDDEN);
    return sendArchive(reply, opts.exporter, opts.siteName());
  });
}

/** GET /api/v1/export: the same archive, streamed, for admins. */
export async function exportApi(app: FastifyInstance, opts: { exporter: Exporter; siteName: () => string }) {
  app.get(
    '/export',
    {
      schema: {
        tags: ['export'],
        summary: 'Export the whole blog',
        security,
        description: 'A gzipped tar: inkwell.json (format "inkwell-export", version 1; see the README) and markdown/<slug>.md per post. Streamed. Admins only.',
        response: { 200: Type.String({ description: 'The archive (application/gzip).', contentMediaType: 'application/gzip' }), ...problems(401, 403) },
      },
    },
    async (request, reply) => {
      requireAdmin(request, FORBIDDEN);
      return sendArchive(reply, opts.exporter, opts.siteName());
    },
  );
}
