import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problems } from '../../platform/http/problem.schema.ts';
import type { Comment } from './comments.queries.ts';
import { CommentCreateSchema, CommentEditSchema } from './comments.schema.ts';
import type { CommentsService, ThreadItem } from './comments.service.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

export const CommentSchema = Type.Object(
  {
    id: Type.Integer({ description: 'Comment id.' }),
    postId: Type.Integer({ description: 'The post it is under.' }),
    parentId: Type.Union([Type.Integer(), Type.Null()], { description: 'The comment it answers, or null.' }),
    depth: Type.Integer({ description: 'Nesting level as drawn (0–2); deeper replies are drawn at 2 with inReplyTo.' }),
    inReplyTo: Type.Union([Type.Object({ id: Type.Integer(), name: Type.String() }), Type.Null()], { description: 'Whom a flattened reply answers.' }),
    author: Type.Union([Type.Object({ id: Type.Integer(), username: Type.String(), displayName: Type.String() }), Type.Null()], {
      description: 'Null for deleted comments, former members and guests.',
    }),
    authorName: Type.Union([Type.String(), Type.Null()], { description: 'The name a guest gave (comments imported from another blog); null for members.' }),
    body: Type.String({ description: 'Markdown source (empty for placeholders).' }),
    bodyHtml: Type.String({ description: 'Sanitized HTML.' }),
    status: Type.Enum(['published', 'held', 'spam', 'hidden', 'deleted'], {
      description: 'held: awaiting a moderator; hidden/deleted: placeholders kept for their replies.',
    }),
    createdAt: Type.String({ format: 'date-time', description: 'When it was written.' }),
    editedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Last edit, if any.' }),
  },
  { $id: 'Comment', description: 'A comment.' },
);

const IdOrSlug = Type.Object({ idOrSlug: Type.String({ maxLength: 100, description: 'Post id or slug.' }) });
const CommentId = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Comment id.' }) });

function present(c: Comment, item?: Pick<ThreadItem, 'depth' | 'inReplyTo'>) {
  return {
    id: c.id,
    postId: c.postId,
    parentId: c.parentId,
    depth: item?.depth ?? 0,
    inReplyTo: item?.inReplyTo ?? null,
    author: c.author,
    authorName: c.authorName,
    body: c.body,
    bodyHtml: c.bodyHtml,
    status: c.status,
    createdAt: c.createdAt,
    editedAt: c.editedAt,
  };
}

function flatten(items: ThreadItem[]): ReturnType<typeof present>[] {
  return items.flatMap((i) => [present(i.comment, i), ...flatten(i.replies)]);
}

/** Comments in the JSON API. */
export async function commentsApi(root: FastifyInstance, opts: { comments: CommentsService }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { comments } = opts;

  app.get(
    '/posts/:idOrSlug/comments',
    {
      schema: {
        tags: ['comments'],
        summary: 'The comment thread of a post',
        params: IdOrSlug,
        description: 'In thread order (each comment followed by its replies), with depth for indenting.',
        response: { 200: Type.Object({ comments: Type.Array(CommentSchema), count: Type.Integer({ description: 'Published comments.' }) }), ...problems(404) },
      },
    },
    async (request) => {
      const post = await comments.postFor(request.user, request.params.idOrSlug);
      const { items, count } = await comments.thread(request.user, post);
      return { comments: flatten(items), count };
    },
  );

  app.post(
    '/posts/:idOrSlug/comments',
    {
      schema: {
        tags: ['comments'],
        summary: 'Comment on a post, or reply',
        security,
        params: IdOrSlug,
        description: 'Needs a verified account. Depending on moderation the comment is published or held (status tells).',
        body: CommentCreateSchema,
        response: { 201: CommentSchema, ...problems(400, 401, 403, 404, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const c = await comments.create(request.user, request.params.idOrSlug, request.body);
      const placed = await comments.placement(c.id);
      return reply
        .code(201)
        .header('location', `/api/v1/comments/${c.id}`)
        .send(present(c, placed ?? undefined));
    },
  );

  app.patch(
    '/comments/:id',
    {
      schema: {
        tags: ['comments'],
        summary: 'Edit your comment (within 15 minutes)',
        security,
        params: CommentId,
        body: CommentEditSchema,
        response: { 200: CommentSchema, ...problems(401, 403, 404, 422) },
      },
    },
    async (request) => present(await comments.edit(request.user, request.params.id, request.body)),
  );

  app.delete(
    '/comments/:id',
    {
      schema: {
        tags: ['comments'],
        summary: 'Delete a comment (its author or a moderator)',
        security,
        params: CommentId,
        response: { 204: Type.Null({ description: 'Deleted (a placeholder stays where replies exist).' }), ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await comments.remove(request.user, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
