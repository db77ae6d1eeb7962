import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { AppError, type FieldError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { checkInput } from '../../platform/http/input.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { CurrentUser } from '../../platform/http/sessions.ts';
import type { Media, MediaService } from '../media/index.ts';
import { formOf, type GalleryForm, galleryFormHtml, galleryListHtml } from './galleries.admin-views.ts';
import { GalleryInputSchema } from './galleries.schema.ts';
import { canManageGallery, type GalleriesService, type Gallery } from './galleries.service.ts';

/** How many of the newest uploads the form offers (plus the gallery's own, wherever they are). */
const LIBRARY_SIZE = 60;
const PICK = /^(use|order|caption)_([A-Za-z0-9]{1,40})$/;

/**
 * The submitted form: its fields as typed, the command it makes (the items in their
 * chosen order), and its problems: the places', then the command schema's (the API's),
 * named as the form's fields.
 */
export function readGalleryForm(body: unknown): { form: GalleryForm; command: Static<typeof GalleryInputSchema>; errors: FieldError[] } {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '');
  const form: GalleryForm = { title: str(b.title), slug: str(b.slug), description: str(b.description), picks: new Map() };
  for (const [key, value] of Object.entries(b)) {
    const m = PICK.exec(key);
    if (!m) continue;
    const p = form.picks.get(m[2]) ?? { use: false, order: '', caption: '' };
    if (m[1] === 'use') p.use = str(value) !== '';
    else if (m[1] === 'order') p.order = str(value).trim();
    else p.caption = str(value);
    form.picks.set(m[2], p);
  }
  const errors: FieldError[] = [];
  for (const [id, p] of form.picks) {
    if (p.order && !/^\d{1,4}$/.test(p.order)) errors.push({ field: `order_${id}`, message: 'must be a whole number (1 for the first image)' });
  }
  const items = chosenOrder(form).map((id) => ({ mediaId: id, caption: form.picks.get(id)!.caption }));
  const command = { title: form.title, ...(form.slug ? { slug: form.slug } : {}), description: form.description, items };
  try {
    checkInput(GalleryInputSchema, command);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    errors.push(...formErrors(e.errors, items));
  }
  return { form, command, errors };
}

/** The ticked images' ids by their place (1 first; no place: after the others, as listed). */
function chosenOrder(form: GalleryForm): string[] {
  const place = (order: string) => (/^\d{1,4}$/.test(order) ? Number(order) : Number.POSITIVE_INFINITY);
  return [...form.picks]
    .filter(([, p]) => p.use)
    .map(([id, p], seen) => ({ id, place: place(p.order), seen }))
    .sort((a, b) => a.place - b.place || a.seen - b.seen)
    .map((c) => c.id);
}

/** The service's item errors (`items[3].caption`) as the form's fields (`caption_<id>`). */
function formErrors(errors: FieldError[], items: { mediaId: string }[]): FieldError[] {
  return errors.map((e) => {
    // The service names items[3].caption, the schema items.3.caption.
    const m = /^items(?:\[(\d+)\]|\.(\d+))\.(mediaId|caption)$/.exec(e.field);
    const id = m ? items[Number(m[1] ?? m[2])]?.mediaId : undefined;
    if (!m || !id) return e;
    return { field: `${m[3] === 'caption' ? 'caption' : 'use'}_${id}`, message: e.message };
  });
}

/** /admin/galleries: the list, and the plain forms that make, change and delete galleries. */
export async function galleriesAdmin(app: FastifyInstance, opts: { galleries: GalleriesService; media: MediaService; siteUrl: string }) {
  const { galleries, media, siteUrl } = opts;

  function requireWriter(request: FastifyRequest): CurrentUser {
    const user = requireUser(request);
    if (user.role === 'reader') throw new AppError('forbidden', 'Only authors, editors and admins make galleries');
    return user;
  }

  async function requireOwn(request: FastifyRequest, slug: string): Promise<{ user: CurrentUser; gallery: Gallery }> {
    const user = requireWriter(request);
    const gallery = await galleries.get(slug);
    if (!canManageGallery(user, gallery.owner?.id ?? null)) throw new AppError('forbidden', 'Only its maker, editors and admins may change this gallery');
    return { user, gallery };
  }

  /** The images the form offers: the gallery's (in the form's order), then the newest uploads. */
  async function imagesFor(form: GalleryForm): Promise<Media[]> {
    const picked = chosenOrder(form);
    const found = await media.findMany(picked);
    const { items: newest } = await media.list({ limit: LIBRARY_SIZE });
    const out = picked.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
    for (const m of newest) if (!found.has(m.id)) out.push(m);
    return out;
  }

  async function showForm(
    request: FastifyRequest,
    reply: FastifyReply,
    page: { heading: string; action: string; form: GalleryForm; errors?: FieldError[]; status?: number },
  ) {
    const images = await imagesFor(page.form);
    return sendPage(request, reply, {
      title: page.heading,
      status: page.status,
      body: galleryFormHtml({ ...page, errors: page.errors ?? [], images, csrf: request.csrfToken(), siteUrl }),
    });
  }

  /** Saves, or shows the form again with the problems beside their fields and everything as typed. */
  async function save(request: FastifyRequest, reply: FastifyReply, page: { heading: string; action: string }, write: (input: object) => Promise<Gallery>) {
    const { form, command, errors } = readGalleryForm(request.body);
    if (errors.length) return showForm(request, reply, { ...page, form, errors, status: 422 });
    const { items } = command;
    try {
      const g = await write(command);
      reply.setFlash(`Gallery saved. Embed it in a post with [gallery:${g.slug}].`);
      return reply.code(303).redirect('/admin/galleries');
    } catch (e) {
      if (!(e instanceof AppError) || (e.code !== 'validation_failed' && e.code !== 'conflict')) throw e;
      const shown = e.errors?.length ? formErrors(e.errors, items) : [{ field: 'title', message: e.message }];
      return showForm(request, reply, { ...page, form, errors: shown, status: e.status });
    }
  }

  app.get('/admin/galleries', async (request, reply) => {
    const user = requireWriter(request);
    const list = (await galleries.list()).map((g) => ({ g, editable: canManageGallery(user, g.owner?.id ?? null) }));
    return sendPage(request, reply, { title: 'Galleries', body: galleryListHtml(list, request.csrfToken()) });
  });

  app.get('/admin/galleries/new', async (request, reply) => {
    requireWriter(request);
    return showForm(request, reply, { heading: 'New gallery', action: '/admin/galleries', form: formOf(null) });
  });

  app.post('/admin/galleries', async (request, reply) => {
    const user = requireWriter(request);
    return save(request, reply, { heading: 'New gallery', action: '/admin/galleries' }, (input) => galleries.create(user, input));
  });

  app.get<{ Params: { slug: string } }>('/admin/galleries/:slug/edit', async (request, reply) => {
    const { gallery } = await requireOwn(request, request.params.slug);
    return showForm(request, reply, { heading: `Edit “${gallery.title}”`, action: `/admin/galleries/${gallery.slug}`, form: formOf(gallery) });
  });

  app.post<{ Params: { slug: string } }>('/admin/galleries/:slug', async (request, reply) => {
    const { user, gallery } = await requireOwn(request, request.params.slug);
    const page = { heading: `Edit “${gallery.title}”`, action: `/admin/galleries/${gallery.slug}` };
    return save(request, reply, page, (input) => galleries.replace(user, gallery.slug, input));
  });

  app.post<{ Params: { slug: string } }>('/admin/galleries/:slug/delete', async (request, reply) => {
    const { user, gallery } = await requireOwn(request, request.params.slug);
    await galleries.remove(user, gallery.slug);
    reply.setFlash(`Gallery “${gallery.title}” deleted; its images stay in the library.`);
    return reply.code(303).redirect('/admin/galleries');
  });
}
