import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import type { Static } from 'typebox';
import { html } from '../../lib/html.ts';
import { dateHtml } from '../../lib/dates.ts';
import { AppError } from '../../platform/errors.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { csrfField, errorSummaryHtml } from '../../platform/http/forms.ts';
import { checkInput } from '../../platform/http/input.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { reportText, type ImportReport } from './moving.service.ts';
import type { MediaService } from '../media/index.ts';
import type { ImportRuns } from './moving.jobs.ts';
import { ImportStartSchema, SITE_URL_MESSAGE } from './moving.schema.ts';

const FORBIDDEN = 'Only admins import blogs';

/** An old site's address: http(s), at most 500 characters. */
export function isSiteUrl(raw: string): boolean {
  if (raw.length > 500) return false;
  try {
    const u = new URL(raw);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname && !u.username && !u.password;
  } catch {
    return false;
  }
}

/** /admin/import: upload an export; the import runs as a background job; its progress and report. */
export async function movingRoutes(app: FastifyInstance, opts: { runs: ImportRuns; files: MediaService['privateFiles']; uploadDir: string; maxBytes: number }) {
  const { runs, files, uploadDir, maxBytes } = opts;
  mkdirSync(uploadDir, { recursive: true });

  // The file goes to disk as it arrives, never whole into memory.
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: maxBytes, files: 1, fields: 5 },
    async onFile(part) {
      const path = join(uploadDir, `${randomUUID()}.upload`);
      (this as unknown as { uploads: string[] }).uploads.push(path);
      await pipeline(part.file, createWriteStream(path));
      if (part.file.truncated) throw new AppError('payload_too_large', `The file is larger than ${Math.round(maxBytes / 1024 / 1024)} MB`);
      (part as unknown as { value: unknown }).value = { path, name: part.filename };
    },
  });
  app.decorateRequest('uploads', null as unknown as string[]);

  async function page(request: Parameters<typeof requireAdmin>[0], errors: AppError['errors'] = [], typed = { format: '', siteUrl: '' }) {
    // Each problem beside its field too, tied to it as fieldHtml does.
    const problem = (field: string, label: string) => {
      const messages = errors.filter((e) => e.field === field).map((e) => e.message);
      return {
        attrs: html`aria-invalid="${messages.length ? 'true' : 'false'}"!${messages.length ? html` aria-describedby="${field}-error"` : ''}`,
        text: messages.length ? html`<p class="field-error" id="${field}-error">${label} ${messages.join('; ')}</p>` : '',
      };
    };
    const format = problem('format', 'Format');
    const site = problem('site_url', "Old site's address");
    const file = problem('file', 'File');
    const option = (value: string, label: string) => html`<option value="${value}"!${typed.format === value ? ' selected' : ''}>${label}</option>`;
    const list = await runs.recent(20);
    return html`<h1>Import</h1>
<p>Bring a blog over from WordPress (in its dashboard, <em>Tools → Export → All content</em>) or Ghost (<em>Settings → Labs → Export your content</em>).
Posts, pages, comments, authors, categories and tags come over; old addresses redirect to the new ones. Each post or page is written whole or not at all; importing the same file again updates what it brought in and retries what failed.</p>
!${errorSummaryHtml(errors, { file: 'File', format: 'Format', site_url: "Old site's address" })}
<form class="stacked" method="post" action="/admin/import" enctype="multipart/form-data">!${csrfField(request.csrfToken())}
<div><label for="format">From</label> <select id="format" name="format" !${format.attrs}>!${option('wordpress', 'WordPress (WXR export, .xml)')}!${option('ghost', 'Ghost (JSON export, .json)')}</select>!${format.text}</div>
<div><label for="site_url">Old site's address</label> <input type="url" id="site_url" name="site_url" placeholder="https://old.example" value="${typed.siteUrl}" !${site.attrs}>!${site.text}
<p class="hint">Images are copied into the media library. Ghost exports write their own images as <code>__GHOST_URL__/content/images/…</code>: give the old site's address so they can be downloaded.</p></div>
<div><label for="file">Export file</label> <input type="file" id="file" name="file" accept=".xml,.json,application/xml,text/xml,application/json" required !${file.attrs}>!${file.text}</div>
<div class="actions"><button type="submit">Import</button></div></form>
<h2>Imports</h2>
!${
      list.length
        ? html`<table class="dash"><thead><tr><th scope="col">File</th><th scope="col">State</th><th scope="col" class="opt">Started</th></tr></thead><tbody>
!${list.map((r) => html`<tr><td><a href="/admin/import/${r.id}">${r.fileName}</a></td><td>${r.state}${r.state === 'running' ? ` (${r.progress} items)` : ''}</td><td class="opt">!${dateHtml(r.createdAt)}</td></tr>`)}
</tbody></table>`
        : html`<p>Nothing imported yet.</p>`
    }`;
  }

  app.get('/admin/import', async (request, reply) => {
    requireAdmin(request, FORBIDDEN);
    return sendPage(request, reply, { title: 'Import', body: await page(request) });
  });

  app.post(
    '/admin/import',
    {
      // Who may upload is settled before a byte is stored; a claimed length over the limit is refused unread.
      onRequest: async (request) => {
        requireAdmin(request, FORBIDDEN);
        const claimed = Number(request.headers['content-length'] ?? 0);
        if (claimed > maxBytes + 64 * 1024)
          throw new AppError('payload_too_large', `The file is larger than ${Math.round(maxBytes / 1024 / 1024)} MB; import it with the command line instead`);
        request.uploads = [];
      },
      // An upload refused later (CSRF, a bad form) leaves nothing behind.
      onResponse: async (request, reply) => {
        if (reply.statusCode >= 400) for (const p of request.uploads ?? []) rmSync(p, { force: true });
      },
    },
    async (request, reply) => {
      const user = requireAdmin(request, FORBIDDEN);
      const b = request.body as Record<string, unknown> | undefined;
      const upload = b?.file as { path: string; name: string } | undefined;
      const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
      const typed = { format: text(b?.format) ?? '', siteUrl: text(b?.site_url)?.trim() ?? '' };
      // The text fields by the command's schema (an emptied address is none), the file by hand, in the form's order.
      const command = { format: b?.format, ...(typed.siteUrl ? { site_url: typed.siteUrl } : {}) };
      let wrong: AppError['errors'] = [];
      try {
        checkInput(ImportStartSchema, command);
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        wrong = e.errors;
      }
      const errors = wrong.filter((e) => e.field === 'format');
      if (!upload || typeof upload !== 'object' || !upload.path) errors.push({ field: 'file', message: 'is required: choose the export file' });
      errors.push(...wrong.filter((e) => e.field !== 'format'));
      if (typed.siteUrl && !errors.some((e) => e.field === 'site_url') && !isSiteUrl(typed.siteUrl))
        errors.push({ field: 'site_url', message: SITE_URL_MESSAGE });
      if (errors.length) return sendPage(request, reply, { title: 'Import', status: 422, body: await page(request, errors, typed) });
      const { format, site_url: siteUrl } = command as Static<typeof ImportStartSchema>;
      // The job may run on another instance: the file goes where every instance reads it (the media storage).
      let key: string;
      try {
        key = await files.put({ path: upload!.path });
      } finally {
        rmSync(upload!.path, { force: true });
      }
      const id = await runs.start({
        format,
        fileName: upload!.name || 'export',
        key,
        userId: user.id,
        siteUrl,
      });
      return reply.code(303).redirect(`/admin/import/${id}`);
    },
  );

  app.get<{ Params: { id: string } }>('/admin/import/:id', async (request, reply) => {
    requireAdmin(request, FORBIDDEN);
    if (!/^\d{1,9}$/.test(request.params.id)) throw new AppError('not_found', 'No such import');
    const r = await runs.get(Number(request.params.id));
    const report = r.report ? (JSON.parse(r.report) as ImportReport) : null;
    const body = html`<h1>Import of ${r.fileName}</h1>
<p id="state">State: <strong>${r.state}</strong>!${r.state === 'running' || r.state === 'queued' ? html` · ${r.progress} items written so far. <a href="/admin/import/${r.id}">Reload</a> to follow it.` : ''}</p>
!${r.error ? html`<div class="error-summary" role="alert"><p>${r.error}</p></div>` : ''}
!${report ? html`<pre id="report">${reportText(report)}</pre>` : ''}
<p><a href="/admin/import">← Imports</a></p>`;
    return sendPage(request, reply, { title: 'Import', body });
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Files stored by this request's upload (removed when the request fails). */
    uploads: string[];
  }
}
