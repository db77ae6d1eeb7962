import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import { AppError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { Post } from '../posts/index.ts';
import type { CommentsService } from './comments.service.ts';
import type { Comment } from './comments.queries.ts';
import { commentFormHtml } from './views/thread.ts';

type Body = Record<string, unknown> | undefined;
type SlugParams = { Params: { slug: string } };
type IdParams = { Params: { id: string } };

function idOf(raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw new AppError('not_found', 'No such comment');
  return Number(raw);
}

const quoted = (c: Comment) => html`<blockquote><p class="meta">${c.author?.displayName ?? 'A former member'} wrote:</p>!${c.bodyHtml}</blockquote>`;

/** Comment forms and actions that work without JavaScript; each answers 303 back to the thread. */
export async function commentsRoutes(app: FastifyInstance, opts: { comments: CommentsService }) {
  const { comments } = opts;

  /** A page of its own for a comment form: replying, or fixing what was refused. */
  async function formPage(
    request: FastifyRequest,
    reply: FastifyReply,
    post: Post,
    values: { body: string; parentId: number | null },
    errors: AppError['errors'],
    status = 200,
  ) {
    // Only a published comment under this (published) post is quoted: an id from elsewhere
    // could be under a post that is a draft again.
    const found = values.parentId ? await comments.get(values.parentId).catch(() => undefined) : undefined;
    const parent = found && found.postId === post.id && found.status === 'published' ? found : undefined;
    const heading = parent ? `Reply to ${parent.author?.displayName ?? 'a comment'}` : `Comment on “${post.title}”`;
    return sendPage(request, reply, {
      title: heading,
      status,
      body: html`<h1>${heading}</h1>
<p>On <a href="/posts/${post.slug}">${post.title}</a></p>
!${parent ? quoted(parent) : ''}
!${commentFormHtml({ action: `/posts/${post.slug}/comments`, csrf: request.csrfToken(), values, errors, label: parent ? 'Your reply' : 'Your comment' })}`,
    });
  }

  app.get<SlugParams & { Querystring: { parent?: string } }>('/posts/:slug/comments/new', async (request, reply) => {
    requireUser(request);
    const post = await comments.postFor(request.user, request.params.slug);
    const parentId = request.query.parent && /^\d{1,9}$/.test(request.query.parent) ? Number(request.query.parent) : null;
    return formPage(request, reply, post, { body: '', parentId }, []);
  });

  app.post<SlugParams>('/posts/:slug/comments', async (request, reply) => {
    requireUser(request);
    const post = await comments.postFor(request.user, request.params.slug);
    const b = request.body as Body;
    const body = typeof b?.body === 'string' ? b.body : '';
    const parentId = typeof b?.parentId === 'string' && /^\d{1,9}$/.test(b.parentId) ? Number(b.parentId) : null;
    let c: Comment;
    try {
      c = await comments.create(request.user, post.id, { body, parentId: b?.parentId, website: b?.website });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return formPage(request, reply, post, { body, parentId }, err.errors, 422);
    }
    // Spam caught by the honeypot hears the same as a held comment: no hint for the bot.
    reply.setFlash(c.status === 'published' ? 'Comment posted' : 'Thanks! Your comment will appear once a moderator approves it.');
    return reply.code(303).redirect(`/posts/${post.slug}#comment-${c.id}`);
  });

  async function backToThread(reply: FastifyReply, c: Comment, anchor: string) {
    const post = await comments.postFor(null, c.postId).catch(() => null);
    return reply.code(303).redirect(post ? `/posts/${post.slug}#${anchor}` : '/');
  }

  app.get<IdParams>('/comments/:id/edit', async (request, reply) => {
    const user = requireUser(request);
    const c = await comments.get(idOf(request.params.id));
    if (c.author?.id !== user.id) throw new AppError('forbidden', 'Only its author may edit a comment');
    return sendPage(request, reply, {
      title: 'Edit your comment',
      body: html`<h1>Edit your comment</h1>!${commentFormHtml({ action: `/comments/${c.id}`, csrf: request.csrfToken(), values: { body: c.body }, errors: [], label: 'Your comment', edit: true })}`,
    });
  });

  const edit = async (request: FastifyRequest<IdParams>, reply: FastifyReply) => {
    const id = idOf(request.params.id);
    const body = typeof (request.body as Body)?.body === 'string' ? (request.body as Record<string, string>).body : '';
    let c: Comment;
    try {
      c = await comments.edit(request.user, id, { body });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return sendPage(request, reply, {
        title: 'Edit your comment',
        status: 422,
        body: html`<h1>Edit your comment</h1>!${commentFormHtml({ action: `/comments/${id}`, csrf: request.csrfToken(), values: { body }, errors: err.errors, label: 'Your comment', edit: true })}`,
      });
    }
    reply.setFlash('Comment updated');
    return backToThread(reply, c, `comment-${c.id}`);
  };

  const remove = async (request: FastifyRequest<IdParams>, reply: FastifyReply) => {
    const c = await comments.remove(request.user, idOf(request.params.id));
    reply.setFlash('Comment deleted');
    return backToThread(reply, c, 'comments');
  };

  app.patch<IdParams>('/comments/:id', edit);
  app.delete<IdParams>('/comments/:id', remove);
  app.post<IdParams>('/comments/:id', async (request, reply) => {
    const method = String((request.body as Body)?._method ?? '').toUpperCase();
    if (method === 'PATCH' || method === 'PUT') return edit(request, reply);
    if (method === 'DELETE') return remove(request, reply);
    throw new AppError('method_not_allowed', 'POST to a comment needs a _method field of PATCH or DELETE');
  });

  app.post<IdParams>('/comments/:id/hide', async (request, reply) => {
    const hidden = String((request.body as Body)?.hidden ?? '1') !== '0';
    const c = await comments.setHidden(request.user, idOf(request.params.id), hidden);
    reply.setFlash(hidden ? 'Comment hidden' : 'Comment shown again');
    return backToThread(reply, c, `comment-${c.id}`);
  });
}
