import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import type { Static } from 'typebox';
import { AppError, type FieldError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { submittedValue, type FormState } from '../../platform/http/forms.ts';
import { readInput } from '../../platform/http/input.ts';
import { type PageOptions, sendPage } from '../../platform/http/layout.ts';
import { CommentCreateSchema, CommentEditSchema, CommentHideSchema } from './comments.schema.ts';
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
  async function formPage(request: FastifyRequest, post: Post, values: { body: string; parentId: number | null }, errors: FieldError[]): Promise<PageOptions> {
    // Only a published comment under this (published) post is quoted: an id from elsewhere
    // could be under a post that is a draft again.
    const found = values.parentId ? await comments.get(values.parentId).catch(() => undefined) : undefined;
    const parent = found && found.postId === post.id && found.status === 'published' ? found : undefined;
    const heading = parent ? `Reply to ${parent.author?.displayName ?? 'a comment'}` : `Comment on “${post.title}”`;
    return {
      title: heading,
      body: html`<h1>${heading}</h1>
<p>On <a href="/posts/${post.slug}">${post.title}</a></p>
!${parent ? quoted(parent) : ''}
!${commentFormHtml({ action: `/posts/${post.slug}/comments`, csrf: request.csrfToken(), values, errors, label: parent ? 'Your reply' : 'Your comment' })}`,
    };
  }
  // A refused comment: its form again, as typed.
  const createFormPage = async (request: FastifyRequest, state: FormState) => {
    const post = await comments.postFor(request.user, (request.params as { slug: string }).slug);
    const parent = submittedValue(state.values, 'parentId') ?? '';
    const parentId = /^\d{1,9}$/.test(parent) ? Number(parent) : null;
    return formPage(request, post, { body: submittedValue(state.values, 'body') ?? '', parentId }, state.errors);
  };

  app.get<SlugParams & { Querystring: { parent?: string } }>('/posts/:slug/comments/new', async (request, reply) => {
    requireUser(request);
    const post = await comments.postFor(request.user, request.params.slug);
    const parentId = request.query.parent && /^\d{1,9}$/.test(request.query.parent) ? Number(request.query.parent) : null;
    return sendPage(request, reply, await formPage(request, post, { body: '', parentId }, []));
  });

  app.post<SlugParams>('/posts/:slug/comments', { schema: { body: CommentCreateSchema }, config: { formPage: createFormPage } }, async (request, reply) => {
    requireUser(request);
    const post = await comments.postFor(request.user, request.params.slug);
    // The honeypot is a field of the page, not of the command.
    const website = submittedValue(request.formFields ?? undefined, 'website');
    const c = await comments.create(request.user, post.id, { ...(request.body as Static<typeof CommentCreateSchema>), website });
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

  const editPage = (request: FastifyRequest, id: number, body: string, errors: FieldError[]): PageOptions => ({
    title: 'Edit your comment',
    body: html`<h1>Edit your comment</h1>!${commentFormHtml({ action: `/comments/${id}`, csrf: request.csrfToken(), values: { body }, errors, label: 'Your comment', edit: true })}`,
  });
  const editFormPage = (request: FastifyRequest, state: FormState) =>
    editPage(request, idOf((request.params as { id: string }).id), submittedValue(state.values, 'body') ?? '', state.errors);

  const edit = async (request: FastifyRequest<IdParams>, reply: FastifyReply) => {
    const c = await comments.edit(request.user, idOf(request.params.id), readInput(request, CommentEditSchema));
    reply.setFlash('Comment updated');
    return backToThread(reply, c, `comment-${c.id}`);
  };

  const remove = async (request: FastifyRequest<IdParams>, reply: FastifyReply) => {
    const c = await comments.remove(request.user, idOf(request.params.id));
    reply.setFlash('Comment deleted');
    return backToThread(reply, c, 'comments');
  };

  app.patch<IdParams>('/comments/:id', { config: { formPage: editFormPage } }, edit);
  app.delete<IdParams>('/comments/:id', remove);
  app.post<IdParams>('/comments/:id', { config: { formPage: editFormPage } }, async (request, reply) => {
    const method = String((request.body as Body)?._method ?? '').toUpperCase();
    if (method === 'PATCH' || method === 'PUT') return edit(request, reply);
    if (method === 'DELETE') return remove(request, reply);
    throw new AppError('method_not_allowed', 'POST to a comment needs a _method field of PATCH or DELETE');
  });

  app.post<IdParams>('/comments/:id/hide', { schema: { body: CommentHideSchema } }, async (request, reply) => {
    const hidden = (request.body as Static<typeof CommentHideSchema>).hidden ?? true;
    const c = await comments.setHidden(request.user, idOf(request.params.id), hidden);
    reply.setFlash(hidden ? 'Comment hidden' : 'Comment shown again');
    return backToThread(reply, c, `comment-${c.id}`);
  });
}
