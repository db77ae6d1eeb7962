import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { decodeCursor, encodeCursor, type Cursor } from '../../lib/cursor.ts';
import { dateTimeText, isoToZonedLocal, zonedLocalToIso } from '../../lib/dates.ts';
import { canCreatePost, canEditPost, canManageAllPosts } from './posts.policy.ts';
import type { Post } from './posts.queries.ts';
import { TRASH_DAYS, type PostInput, type PostsService } from './posts.service.ts';
import { dashboardHtml } from './views/dashboard.ts';
import { postFormHtml, type PostFormValues } from './views/post-form.ts';
import { postListHtml } from './views/post-list.ts';
import { postPageHtml } from './views/post-page.ts';
import { postMeta, websiteJsonLd } from './posts.seo.ts';
import { deleteConfirmHtml, previewControlsHtml, previewLinkHtml, revisionHtml, revisionsHtml, trashHtml } from './views/safer-publishing.ts';
import type { PostImagesPort } from './posts.images.ts';

type FormBody = Record<string, unknown> | undefined;
type SlugParams = { Params: { slug: string } };

function beforeParam(request: FastifyRequest): Cursor | undefined {
  const raw = (request.query as Record<string, unknown>).before;
  if (raw === undefined || raw === '') return undefined;
  const cursor = typeof raw === 'string' ? decodeCursor(raw) : null;
  if (!cursor) throw new AppError('bad_request', 'The "before" page marker is not valid; start again from the first page');
  return cursor;
}

function formInput(body: FormBody, timeZone: string, current?: Post): PostInput {
  const b = body ?? {};
  const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
  // fetch() may send JSON to these URLs, with tags as a list.
  const tags = Array.isArray(b.tags) ? b.tags.map(String) : (str('tags') ?? '');
  // <input type="datetime-local"> sends no zone: it is the site's time zone, as the form says.
  const at = str('publishedAt')?.trim();
  const publishedAt = at && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(at) ? zonedLocalToIso(at, timeZone) : at || undefined;
  // A form sent without a button (Enter in a field) keeps the post's state: saving never unpublishes.
  const kept = current?.status ?? 'draft';
  return {
    title: str('title') ?? '',
    slug: str('slug'),
    body: str('body') ?? '',
    excerpt: str('excerpt') ?? '',
    tags,
    status: str('status') ?? kept,
    publishedAt,
    // A form without the field (an old page, a script) leaves the featured image as it is.
    featureImage: str('featureImage'),
    featureImageAlt: str('featureImageAlt'),
  };
}

function formValues(input: PostInput, timeZone: string): PostFormValues {
  return {
    title: input.title ?? '',
    slug: input.slug ?? '',
    body: input.body ?? '',
    excerpt: input.excerpt ?? '',
    tags: Array.isArray(input.tags) ? input.tags.join(', ') : (input.tags ?? ''),
    status: input.status ?? 'draft',
    publishedAt: input.publishedAt ? isoToZonedLocal(input.publishedAt, timeZone) || input.publishedAt : '',
    featureImage: input.featureImage ?? '',
    featureImageAlt: input.featureImageAlt ?? '',
  };
}

function valuesOf(post: Post, timeZone: string): PostFormValues {
  return {
    title: post.title,
    slug: post.slug,
    body: post.body,
    excerpt: post.customExcerpt ?? '',
    tags: post.tags.map((t) => t.name).join(', '),
    status: post.status,
    publishedAt: post.status === 'scheduled' && post.publishedAt ? isoToZonedLocal(post.publishedAt, timeZone) : '',
    featureImage: post.featureImage?.id ?? '',
    featureImageAlt: post.featureImage?.alt ?? '',
  };
}

/** HTML pages and forms for posts. */
export async function postsRoutes(
  app: FastifyInstance,
  opts: {
    posts: PostsService;
    /** What other features show under a post (the comment thread); already HTML. */
    below?: (request: FastifyRequest, post: Post) => Promise<string>;
    /** The site's time zone (from the site settings, read on each use: an admin may change it). */
    timeZone: () => string;
    /** The site's absolute address, for preview links. */
    siteUrl: string;
    /** The body HTML as the page shows it (render-time transforms: responsive images, galleries). */
    renderBody?: (request: FastifyRequest, post: Post) => Promise<string>;
    /** Pictures of images (featured images, thumbnails, the editor's list), when a feature stores them. */
    images?: PostImagesPort;
  },
) {
  const { posts } = opts;
  const canEdit = (request: FastifyRequest, post: Post) => canEditPost(request.user, { authorId: post.author?.id ?? null, status: post.status });
  // Featured-image thumbnails for a list, in one batch.
  const thumbs = async (list: Post[]): Promise<Map<number, string>> => {
    const images = opts.images?.get();
    const withImage = list.filter((p) => p.featureImage);
    if (!images || !withImage.length) return new Map();
    const pics = await images.pictures(
      withImage.map((p) => p.featureImage!),
      { sizes: '8rem', eager: false, className: 'thumb' },
    );
    const out = new Map<number, string>();
    withImage.forEach((p, i) => {
      if (pics[i]) out.set(p.id, pics[i]);
    });
    return out;
  };
  // The featured image at the top of a post: in view at once, so not lazy.
  const featurePicture = async (post: Post): Promise<string | undefined> => {
    const images = opts.images?.get();
    if (!images || !post.featureImage) return undefined;
    const pics = await images.pictures([post.featureImage], { sizes: '(min-width: 44rem) 42rem, 100vw', eager: true });
    return pics[0] ?? undefined;
  };
  const library = async () => (await opts.images?.get()?.recent(24)) ?? [];

  const listPage = async (request: FastifyRequest, reply: FastifyReply) => {
    const before = beforeParam(request);
    const site = request.server.layout.site.settings();
    const { posts: page, nextCursor } = await posts.list(request.user, { before, limit: site.postsPerPage, summary: true });
    const front = request.url === '/' || request.url.startsWith('/?');
    return sendPage(request, reply, {
      // The front page is the blog itself: its name, and the WebSite description for search engines.
      title: front && !before ? site.name : 'Latest posts',
      ...(front && !before ? { jsonLd: websiteJsonLd(request), canonical: '/' } : {}),
      body: postListHtml({
        heading: 'Latest posts',
        posts: page,
        thumbs: await thumbs(page),
        empty: 'No posts yet.',
        olderHref: nextCursor ? `/posts?before=${encodeCursor(nextCursor)}` : null,
      }),
    });
  };
  // Anonymous answers are kept until the database changes (platform/http/response-cache.ts).
  const cached = { config: { cacheAnonymous: true } };
  app.get('/', cached, listPage);
  app.get('/posts', cached, listPage);

  app.get('/posts/new', async (request, reply) => {
    const user = requireUser(request);
    if (!canCreatePost(user)) throw new AppError('forbidden', 'Readers cannot write posts; ask an admin for the author role');
    return sendPage(request, reply, {
      title: 'Write a post',
      body: postFormHtml({
        heading: 'Write a post',
        action: '/posts',
        method: 'POST',
        values: formValues({}, opts.timeZone()),
        timeZone: opts.timeZone(),
        errors: [],
        csrf: request.csrfToken(),
        library: await library(),
      }),
    });
  });

  // Invalid input: the form again, as typed, each problem beside its field.
  const formAgain = async (request: FastifyRequest, reply: FastifyReply, err: unknown, input: PostInput, edit?: Post) => {
    if (err instanceof AppError && err.code === 'email_unverified') {
      err = new AppError('email_unverified', err.message, [
        { field: 'status', message: 'cannot be “published” until you verify your email address; save it as a draft meanwhile' },
      ]);
    }
    if (!(err instanceof AppError) || !['validation_failed', 'slug_taken', 'email_unverified'].includes(err.code)) throw err;
    const heading = edit ? `Edit “${edit.title}”` : 'Write a post';
    return sendPage(request, reply, {
      title: heading,
      status: err.status,
      body: postFormHtml({
        heading,
        action: edit ? `/posts/${edit.slug}` : '/posts',
        method: edit ? 'PUT' : 'POST',
        values: formValues(input, opts.timeZone()),
        timeZone: opts.timeZone(),
        errors: err.errors,
        csrf: request.csrfToken(),
        current: edit?.status,
        slug: edit?.slug,
        library: await library(),
      }),
    });
  };

  app.post('/posts', async (request, reply) => {
    requireUser(request);
    const input = formInput(request.body as FormBody, opts.timeZone());
    let post: Post;
    try {
      post = await posts.create(request.user, input);
    } catch (err) {
      return formAgain(request, reply, err, input);
    }
    reply.setFlash(
      post.status === 'published'
        ? 'Post published'
        : post.status === 'scheduled'
          ? `Post scheduled for ${dateTimeText(post.publishedAt!, opts.timeZone())}`
          : 'Draft saved',
    );
    return reply.code(303).redirect(`/posts/${post.slug}`);
  });

  app.get<SlugParams>('/posts/:slug', cached, async (request, reply) => {
    const post = await posts.get(request.user, request.params.slug);
    const editable = canEdit(request, post);
    const below = post.status === 'published' && opts.below ? await opts.below(request, post) : '';
    return sendPage(request, reply, {
      title: post.title,
      body:
        postPageHtml(opts.renderBody ? { ...post, bodyHtml: await opts.renderBody(request, post) } : post, {
          canEdit: editable,
          csrf: editable ? request.csrfToken() : '',
          timeZone: opts.timeZone(),
          featureImage: await featurePicture(post),
        }) + below,
      ...postMeta(request, post),
    });
  });

  app.get<SlugParams>('/posts/:slug/edit', async (request, reply) => {
    requireUser(request);
    const post = await posts.get(request.user, request.params.slug);
    if (!canEdit(request, post)) {
      throw new AppError('forbidden', 'Only the author of this post, an editor or an admin may edit it');
    }
    const csrf = request.csrfToken();
    return sendPage(request, reply, {
      title: `Edit “${post.title}”`,
      body: postFormHtml({
        heading: `Edit “${post.title}”`,
        action: `/posts/${post.slug}`,
        method: 'PUT',
        values: valuesOf(post, opts.timeZone()),
        timeZone: opts.timeZone(),
        errors: [],
        csrf,
        current: post.status,
        slug: post.slug,
        extra: previewControlsHtml(post, await posts.previewMadeAt(post.id), csrf, opts.timeZone()),
        library: await library(),
      }),
    });
  });

  const update = async (request: FastifyRequest<SlugParams>, reply: FastifyReply) => {
    requireUser(request);
    const current = await posts.get(request.user, request.params.slug);
    const input = formInput(request.body as FormBody, opts.timeZone(), current);
    let post: Post;
    try {
      post = await posts.replace(request.user, current.id, input);
    } catch (err) {
      return formAgain(request, reply, err, input, current);
    }
    reply.setFlash(
      post.status === 'published'
        ? 'Post updated'
        : post.status === 'scheduled'
          ? `Post scheduled for ${dateTimeText(post.publishedAt!, opts.timeZone())}`
          : 'Draft saved',
    );
    return reply.code(303).redirect(`/posts/${post.slug}`);
  };

  // Deleting moves the post to the trash (restorable for TRASH_DAYS days).
  const remove = async (request: FastifyRequest<SlugParams>, reply: FastifyReply) => {
    requireUser(request);
    const post = await posts.remove(request.user, request.params.slug);
    reply.setFlash(`Post “${post.title}” moved to the trash (restorable for ${TRASH_DAYS} days)`);
    return reply.code(303).redirect('/admin/posts');
  };

  // Delete asks first: a page that says what happens, with the button that does it.
  app.get<SlugParams>('/posts/:slug/delete', async (request, reply) => {
    requireUser(request);
    const post = await posts.get(request.user, request.params.slug);
    if (!canEdit(request, post)) throw new AppError('forbidden', 'Only the author of this post, an editor or an admin may delete it');
    return sendPage(request, reply, { title: `Delete “${post.title}”?`, body: deleteConfirmHtml(post, request.csrfToken()) });
  });

  app.post<SlugParams>('/posts/:slug/unpublish', async (request, reply) => {
    requireUser(request);
    const post = await posts.unpublish(request.user, request.params.slug);
    reply.setFlash('Post unpublished: it is a draft now, and only you and editors can see it');
    return reply.code(303).redirect(`/posts/${post.slug}`);
  });

  // The preview link is shown once, on this page: only its hash is kept.
  app.post<SlugParams>('/posts/:slug/preview', async (request, reply) => {
    requireUser(request);
    const token = await posts.createPreview(request.user, request.params.slug);
    const post = await posts.get(request.user, request.params.slug);
    reply.header('cache-control', 'no-store');
    return sendPage(request, reply, { title: 'Preview link', body: previewLinkHtml(post, `${opts.siteUrl}/preview/${token}`) });
  });

  app.post<SlugParams>('/posts/:slug/preview/revoke', async (request, reply) => {
    requireUser(request);
    await posts.revokePreview(request.user, request.params.slug);
    reply.setFlash('Preview link revoked: it no longer shows the draft');
    return reply.code(303).redirect(`/posts/${request.params.slug}/edit`);
  });

  // Anyone with the link sees the draft, marked as a preview; search engines are told to stay away.
  app.get<{ Params: { token: string } }>('/preview/:token', async (request, reply) => {
    const post = await posts.byPreview(request.params.token);
    if (post.status === 'published') return reply.code(303).redirect(`/posts/${post.slug}`);
    reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex').header('referrer-policy', 'no-referrer');
    return sendPage(request, reply, {
      title: `Preview: ${post.title}`,
      body: postPageHtml(post, { canEdit: false, csrf: '', timeZone: opts.timeZone(), preview: true }),
      head: '<meta name="robots" content="noindex">',
    });
  });

  app.get('/admin/posts/trash', async (request, reply) => {
    const user = requireUser(request);
    const { posts: page, nextCursor } = await posts.list(user, { status: 'trashed', before: beforeParam(request), limit: 50, summary: true });
    return sendPage(request, reply, {
      title: 'Trash',
      body: trashHtml({
        posts: page,
        csrf: request.csrfToken(),
        admin: user.role === 'admin',
        timeZone: opts.timeZone(),
        days: TRASH_DAYS,
        olderHref: nextCursor ? `/admin/posts/trash?before=${encodeCursor(nextCursor)}` : null,
      }),
    });
  });

  type IdParams = { Params: { id: string } };
  const postId = (raw: string) => {
    if (!/^\d{1,9}$/.test(raw)) throw new AppError('not_found', 'No post with that id');
    return Number(raw);
  };
  app.post<IdParams>('/admin/posts/trash/:id/restore', async (request, reply) => {
    requireUser(request);
    const post = await posts.restore(request.user, postId(request.params.id));
    reply.setFlash(`Post “${post.title}” restored`);
    return reply.code(303).redirect(`/posts/${post.slug}`);
  });
  app.post<IdParams>('/admin/posts/trash/:id/delete', async (request, reply) => {
    requireUser(request);
    const post = await posts.remove(request.user, postId(request.params.id), { permanent: true });
    reply.setFlash(`Post “${post.title}” deleted for good`);
    return reply.code(303).redirect('/admin/posts/trash');
  });

  type RevParams = { Params: { slug: string; id: string } };
  app.get<SlugParams>('/posts/:slug/revisions', async (request, reply) => {
    requireUser(request);
    const { post, revisions } = await posts.revisions(request.user, request.params.slug);
    return sendPage(request, reply, { title: `Revisions of “${post.title}”`, body: revisionsHtml(post, revisions, opts.timeZone()) });
  });
  app.get<RevParams>('/posts/:slug/revisions/:id', async (request, reply) => {
    requireUser(request);
    const { post, revision } = await posts.revision(request.user, request.params.slug, postId(request.params.id));
    return sendPage(request, reply, { title: `Revision of “${post.title}”`, body: revisionHtml(post, revision, request.csrfToken(), opts.timeZone()) });
  });
  app.post<RevParams>('/posts/:slug/revisions/:id/restore', async (request, reply) => {
    requireUser(request);
    const post = await posts.restoreRevision(request.user, request.params.slug, postId(request.params.id));
    reply.setFlash('Revision restored; the version it replaced is kept in the revisions');
    return reply.code(303).redirect(`/posts/${post.slug}`);
  });

  app.put<SlugParams>('/posts/:slug', update);
  app.delete<SlugParams>('/posts/:slug', remove);
  // HTML forms can only POST; a hidden _method field says what they mean.
  app.post<SlugParams>('/posts/:slug', async (request, reply) => {
    const method = String((request.body as FormBody)?._method ?? '').toUpperCase();
    if (method === 'PUT' || method === 'PATCH') return update(request, reply);
    if (method === 'DELETE') return remove(request, reply);
    throw new AppError('method_not_allowed', 'POST to a post needs a _method field of PUT or DELETE');
  });

  app.get<SlugParams>('/tags/:slug', cached, async (request, reply) => {
    const tag = await posts.findTag(request.params.slug);
    if (!tag) throw new AppError('not_found', 'No tag with that name');
    const { posts: page, nextCursor } = await posts.list(request.user, {
      tag: tag.slug,
      before: beforeParam(request),
      limit: request.server.layout.site.settings().postsPerPage,
      summary: true,
    });
    return sendPage(request, reply, {
      title: `Posts tagged “${tag.name}”`,
      body: postListHtml({
        heading: `Posts tagged “${tag.name}”`,
        posts: page,
        thumbs: await thumbs(page),
        empty: 'No published posts with this tag yet.',
        olderHref: nextCursor ? `/tags/${tag.slug}?before=${encodeCursor(nextCursor)}` : null,
      }),
    });
  });

  app.get('/admin/posts', async (request, reply) => {
    const user = requireUser(request);
    const { posts: page, nextCursor } = await posts.dashboard(user, beforeParam(request));
    return sendPage(request, reply, {
      title: 'Dashboard',
      body: dashboardHtml({
        posts: page,
        everyone: canManageAllPosts(user),
        csrf: request.csrfToken(),
        timeZone: opts.timeZone(),
        olderHref: nextCursor ? `/admin/posts?before=${encodeCursor(nextCursor)}` : null,
      }),
    });
  });
}
