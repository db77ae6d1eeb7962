import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import { AppError, type FieldError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { csrfField, fieldHtml, submittedValue, type FormState } from '../../platform/http/forms.ts';
import { checkInput, readInput } from '../../platform/http/input.ts';
import { sendPage, type PageOptions } from '../../platform/http/layout.ts';
import type { CurrentUser } from '../../platform/http/sessions.ts';
import { canManageMedia, canUploadMedia } from './media.policy.ts';
import { LIMITS, type Media, type MediaService } from './media.service.ts';
import { MediaTextSchema, uploadText } from './media.schema.ts';
import { contentTypeOf, type MediaStorage } from './media.storage.ts';
import { formatBytes, type ReceivedUpload, receiveUpload } from './media.upload.ts';

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Parses a single-range `Range: bytes=...` header against a size: a range, 'unsatisfiable', or null (serve it all). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, or another unit: answering with the whole file is allowed (RFC 9110, 14.2).
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number, end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size || size === 0) return 'unsatisfiable';
  return { start, end };
}

/** GET /media/:key (the stored files) and the /admin/media library page. */
export async function mediaRoutes(
  app: FastifyInstance,
  opts: { media: MediaService; storage: MediaStorage; maxBytes: number; siteUrl: string; links: (request: FastifyRequest) => Promise<string> },
) {
  const { media, storage } = opts;

  app.get<{ Params: { key: string } }>(
    '/media/:key',
    {
      // After the shared caching hook: a stored file is the same for everyone and never changes.
      onSend: async (_request, reply, payload) => {
        if (reply.statusCode < 400) {
          reply.header('cache-control', IMMUTABLE);
          reply.removeHeader('vary');
        }
        return payload;
      },
    },
    async (request, reply) => {
      const { key } = request.params;
      const found = KEY.test(key) ? await media.lookupKey(key) : null;
      if (!found) throw new AppError('not_found', 'No such media file');
      // Keys are content-hashed, so the key names the bytes.
      const etag = `"${key.replace(/\.[a-z0-9]+$/, '')}"`;
      reply.header('etag', etag).header('accept-ranges', 'bytes').header('x-content-type-options', 'nosniff').header('content-type', contentTypeOf(key));
      const inm = request.headers['if-none-match'];
      if (inm?.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
        return reply.code(304).send();
      }
      const ifRange = request.headers['if-range'];
      const range = ifRange && ifRange !== etag ? null : parseRange(request.headers.range, found.bytes);
      if (range === 'unsatisfiable') {
        return reply.code(416).header('content-range', `bytes */${found.bytes}`).type('text/plain').send('Range Not Satisfiable');
      }
      const got = await storage.get(key, range ?? undefined);
      if (!got) throw new AppError('not_found', 'No such media file');
      if (range) {
        reply
          .code(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${got.bytes}`)
          .header('content-length', range.end - range.start + 1);
      } else {
        reply.header('content-length', got.bytes);
      }
      return reply.send(got.stream);
    },
  );

  // A variant by its width: /media/<id>/<width>w.<ext>. Made on the request when it is
  // missing, at a configured width only (MEDIA_WIDTHS), then always this redirect to
  // the stored, content-hashed file.
  const FORMAT_OF_EXT: Record<string, string> = { avif: 'avif', webp: 'webp', jpg: 'jpeg', png: 'png', gif: 'gif' };
  app.get<{ Params: { id: string; file: string } }>('/media/:id/:file', async (request, reply) => {
    const m = /^(\d{1,4})w\.([a-z]{3,4})$/.exec(request.params.file);
    const format = m ? FORMAT_OF_EXT[m[2]] : undefined;
    const key = m && format && /^[A-Za-z0-9]{1,40}$/.test(request.params.id) ? await media.variantKey(request.params.id, Number(m[1]), format) : null;
    if (!key) throw new AppError('not_found', 'No such variant: the width must be one of MEDIA_WIDTHS and the format one this image has');
    return reply.header('cache-control', 'public, max-age=3600').redirect(media.urlOfKey(key), 302);
  });

  function requireWriter(request: FastifyRequest): CurrentUser {
    const user = requireUser(request);
    if (!canUploadMedia(user)) throw new AppError('forbidden', 'Only authors, editors and admins use the media library');
    return user;
  }

  /** The library page; `form` is the upload form or an image's alt text form as sent, with its problems. */
  async function libraryPage(request: FastifyRequest, user: CurrentUser, form: LibraryForm = {}): Promise<PageOptions> {
    const page = await media.list({
      limit: 60,
      before: typeof (request.query as { before?: unknown }).before === 'string' ? (request.query as { before: string }).before : undefined,
    });
    return {
      title: 'Media',
      status: form.status,
      body: libraryHtml(page.items, page.nextCursor, user, request.csrfToken(), opts.maxBytes, form, opts.siteUrl, await opts.links(request)),
    };
  }

  async function showLibrary(request: FastifyRequest, reply: FastifyReply, user: CurrentUser, form: LibraryForm = {}) {
    return sendPage(request, reply, await libraryPage(request, user, form));
  }

  app.get('/admin/media', async (request, reply) => showLibrary(request, reply, requireWriter(request)));

  app.post('/admin/media', { config: { csrf: false } }, async (request, reply) => {
    const user = requireWriter(request);
    let upload: ReceivedUpload;
    try {
      upload = await receiveUpload(request, opts.maxBytes);
    } catch (e) {
      if (e instanceof AppError && e.code !== 'csrf_failed') return showLibrary(request, reply, user, { error: e.message, status: e.status });
      throw e;
    }
    try {
      // The words are checked before the image is stored: a refused one leaves nothing behind.
      const { alt } = checkInput(MediaTextSchema, uploadText(upload.fields));
      const m = await media.upload(user, upload);
      if (alt) await media.update(user, m.id, { alt });
      reply.setFlash(`Uploaded ${m.originalName}.`);
      return reply.code(303).redirect('/admin/media');
    } catch (e) {
      if (e instanceof AppError) {
        // The alt text's problem is shown beside it; the file's and any other above the form, as before.
        const errors = (e.errors ?? []).filter((f) => f.field === 'alt');
        const above = errors.length && errors.length === e.errors?.length ? undefined : e.message;
        return showLibrary(request, reply, user, { error: above, errors, alt: upload.fields.alt, status: e.status });
      }
      throw e;
    } finally {
      await upload.discard();
    }
  });

  // A refused alt text: the library again, the image's text as typed and its problem beside it.
  const altFormPage = (request: FastifyRequest, state: FormState) =>
    libraryPage(request, requireWriter(request), {
      editing: { id: (request.params as { id: string }).id, alt: submittedValue(state.values, 'alt') ?? '', errors: state.errors },
      status: 422,
    });

  app.post<{ Params: { id: string } }>('/admin/media/:id', { config: { formPage: altFormPage } }, async (request, reply) => {
    const user = requireWriter(request);
    // The form always sends its alt field; one without it clears the text, as an emptied field does.
    await media.update(user, request.params.id, readInput(request, MediaTextSchema, { defaults: { alt: '' } }));
    reply.setFlash('Alt text saved.');
    return reply.code(303).redirect('/admin/media');
  });

  app.post<{ Params: { id: string } }>('/admin/media/:id/delete', async (request, reply) => {
    const user = requireWriter(request);
    try {
      await media.delete(user, request.params.id);
      reply.setFlash('Image deleted.');
    } catch (e) {
      if (!(e instanceof AppError) || e.code !== 'conflict') throw e;
      reply.setFlash(e.message, 'error');
    }
    return reply.code(303).redirect('/admin/media');
  });
}

function thumbOf(m: Media): string {
  const small = m.variants.filter((v) => v.format === 'webp' || v.format === 'jpeg' || v.format === 'png' || v.format === 'gif');
  return (small.find((v) => v.width >= 320) ?? small[0])?.url ?? m.url;
}

/** Our own media URLs as paths, so pages work on whatever host and port they are reached at. */
const onPage = (url: string, siteUrl: string) => (url.startsWith(`${siteUrl}/media/`) ? url.slice(siteUrl.length) : url);

/** What the library's forms show again: the upload's problem or its fields' and alt text, or one image's alt text form as sent. */
interface LibraryForm {
  error?: string;
  errors?: FieldError[];
  alt?: string;
  editing?: { id: string; alt: string; errors: FieldError[] };
  status?: number;
}

/** The library page: the upload form, then every image with its alt text and a delete button. */
function libraryHtml(
  items: Media[],
  next: string | null,
  user: CurrentUser,
  csrf: string,
  maxBytes: number,
  form: LibraryForm,
  siteUrl: string,
  links: string,
): string {
  const grid = items.length
    ? html`<ul class="media-grid" id="media">!${items.map((m) => {
        const mine = canManageMedia(user, m.uploader?.id ?? null);
        const editing = form.editing?.id === m.id ? form.editing : undefined;
        return html`<li id="media-${m.id}"><figure>
  <a href="${onPage(m.url, siteUrl)}"><img src="${onPage(thumbOf(m), siteUrl)}" width="${m.width}" height="${m.height}" alt="${m.alt}" loading="lazy" style="max-width:100%;height:auto"></a>
  <figcaption>${m.originalName} · ${m.width}×${m.height} · ${formatBytes(m.bytes)}!${m.uploader ? html` · ${m.uploader.username}` : ''}!${m.variantsReady ? '' : ' · variants pending'}</figcaption>
</figure>
!${
          mine
            ? html`<form method="post" action="/admin/media/${m.id}">!${csrfField(csrf)}
  !${fieldHtml({ name: 'alt', id: `alt-${m.id}`, label: 'Alt text', value: editing ? editing.alt : m.alt, errors: editing?.errors ?? [], attrs: html`maxlength="${LIMITS.alt}"` })}
  <button type="submit">Save</button></form>
<form method="post" action="/admin/media/${m.id}/delete" class="inline">!${csrfField(csrf)}<button type="submit">Delete</button></form>`
            : html`<p>Alt text: ${m.alt || '(none)'}</p>`
        }
</li>`;
      })}</ul>!${next ? html`<p><a href="/admin/media?before=${next}">Older images</a></p>` : ''}`
    : html`<p>No images yet.</p>`;
  return html`<h1>Media</h1>
!${links ? html`<p class="subnav">!${links}</p>` : ''}
<section aria-labelledby="upload-h"><h2 id="upload-h">Upload an image</h2>
!${form.error ? html`<p class="flash flash-error" role="alert" id="upload-error">${form.error}</p>` : ''}
<form method="post" action="/admin/media" enctype="multipart/form-data">
  !${csrfField(csrf)}
  <div><label for="file">Image <span class="hint" id="file-hint">JPEG, PNG, WebP, AVIF or GIF, at most ${formatBytes(maxBytes)}. Location and camera data are removed.</span></label>
  <input type="file" id="file" name="file" accept="image/jpeg,image/png,image/webp,image/avif,image/gif" required aria-describedby="file-hint"></div>
  !${fieldHtml({ name: 'alt', label: 'Alt text', value: form.alt ?? '', errors: form.errors ?? [], hint: 'What the image shows, for people who cannot see it.', attrs: html`maxlength="${LIMITS.alt}"` })}
  <button type="submit">Upload</button>
</form></section>
<section aria-labelledby="library-h"><h2 id="library-h">Library</h2>
!${grid}</section>`;
}
