import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { checkInput } from '../../platform/http/input.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import { canUploadMedia } from './media.policy.ts';
import type { MediaService } from './media.service.ts';
import { MediaTextSchema, uploadText } from './media.schema.ts';
import { formatBytes, receiveUpload } from './media.upload.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

export const MediaSchema = Type.Object(
  {
    id: Type.String({ description: 'Media id; stable for the life of the image.' }),
    url: Type.String({ description: 'Absolute URL of the full-size cleaned image (metadata removed, orientation applied).' }),
    mime: Type.String({ description: 'The type, from the bytes: image/jpeg, image/png, image/webp, image/avif or image/gif.' }),
    width: Type.Integer({ description: 'Width in pixels, after orientation.' }),
    height: Type.Integer({ description: 'Height in pixels, after orientation.' }),
    bytes: Type.Integer({ description: 'Size of the full-size image in bytes.' }),
    animated: Type.Boolean({ description: 'Whether it is an animation (GIF or WebP).' }),
    originalName: Type.String({ description: 'The file name as uploaded (its last part only).' }),
    alt: Type.String({ description: 'Alternative text for people who cannot see the image; empty until set.' }),
    caption: Type.String({ description: 'Caption shown under the image.' }),
    credit: Type.String({ description: 'Who made the image.' }),
    placeholder: Type.Union([Type.String(), Type.Null()], { description: 'A thumbhash (base64) to show a blurred preview while the image loads.' }),
    uploader: Type.Union([Type.Object({ id: Type.Integer({ description: 'User id.' }), username: Type.String({ description: 'Username.' }) }), Type.Null()], {
      description: 'Who uploaded it; null once that account is deleted.',
    }),
    variants: Type.Array(
      Type.Object({
        url: Type.String({ description: 'Absolute URL of this variant (content-hashed: cache it for ever).' }),
        width: Type.Integer({ description: 'Width in pixels.' }),
        height: Type.Integer({ description: 'Height in pixels.' }),
        format: Type.String({ description: 'avif, webp, jpeg, png or gif.' }),
      }),
      { description: 'Resized copies for srcset, by width then format. Made in the background: empty just after upload; until then use url.' },
    ),
    variantsReady: Type.Boolean({ description: 'Whether every variant has been made.' }),
    createdAt: Type.String({ format: 'date-time', description: 'When it was uploaded (UTC).' }),
    updatedAt: Type.String({ format: 'date-time', description: 'When its text last changed (UTC).' }),
  },
  { $id: 'Media', description: 'An uploaded image and its responsive variants.' },
);

const MediaId = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9]{1,40}$', description: 'Media id.' }) });

/** Media in the JSON API. */
export async function mediaApi(root: FastifyInstance, opts: { media: MediaService; maxBytes: number }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { media } = opts;

  app.post(
    '/media',
    {
      // Checked in receiveUpload, before the file is written (see there).
      config: { csrf: false },
      schema: {
        tags: ['media'],
        summary: 'Upload an image',
        security,
        consumes: ['multipart/form-data'],
        description:
          `multipart/form-data with the image in a field named "file" (one per request, at most ${formatBytes(opts.maxBytes)}), and optionally ` +
          '"alt", "caption" and "credit". JPEG, PNG, WebP, AVIF and GIF; the type is read from the bytes. Metadata (EXIF, GPS, XMP, IPTC) is removed ' +
          'and the orientation applied. Answers once the image is stored; variants follow in the background. Authors, editors and admins. ' +
          'With a session cookie, send the X-CSRF-Token header (or a _csrf field before the file).',
        response: { 201: MediaSchema, ...problems(400, 401, 403, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      if (!canUploadMedia(user)) throw new AppError('forbidden', 'Only authors, editors and admins may upload images');
      const upload = await receiveUpload(request, opts.maxBytes);
      try {
        // The words are checked before the image is stored: a refused one leaves nothing behind.
        const text = checkInput(MediaTextSchema, uploadText(upload.fields));
        let m = await media.upload(user, upload);
        if (Object.keys(text).length) m = await media.update(user, m.id, text);
        return reply.code(201).header('location', `/api/v1/media/${m.id}`).send(m);
      } finally {
        await upload.discard();
      }
    },
  );

  app.get(
    '/media',
    {
      schema: {
        tags: ['media'],
        summary: 'The media library',
        security,
        description: 'Newest first, with cursor pagination: pass the returned `nextCursor` as `before`. Authors, editors and admins.',
        querystring: Type.Object(
          {
            uploader: Type.Optional(Type.String({ maxLength: 100, description: 'Only images uploaded by this username.' })),
            before: Type.Optional(Type.String({ maxLength: 100, description: 'The nextCursor of the previous page.' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Images per page (default 20).' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            media: Type.Array(MediaSchema, { description: 'This page of images.' }),
            nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `before` for the next page; null on the last one.' }),
          }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request) => {
      const user = requireUser(request);
      if (!canUploadMedia(user)) throw new AppError('forbidden', 'Only authors, editors and admins see the media library');
      const page = await media.list({ uploader: request.query.uploader, before: request.query.before, limit: request.query.limit ?? 20 });
      return { media: page.items, nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/media/:id',
    {
      schema: {
        tags: ['media'],
        summary: 'One image, with its variants and placeholder',
        params: MediaId,
        description: 'Images are public once uploaded (their files are served to anyone who has the URL).',
        response: { 200: MediaSchema, ...problems(404) },
      },
    },
    async (request) => media.get(request.params.id),
  );

  app.patch(
    '/media/:id',
    {
      schema: {
        tags: ['media'],
        summary: 'Change alt text, caption or credit',
        security,
        params: MediaId,
        description: 'The uploader, editors and admins.',
        body: MediaTextSchema,
        response: { 200: MediaSchema, ...problems(401, 403, 404, 422) },
      },
    },
    async (request) => media.update(requireUser(request), request.params.id, request.body),
  );

  app.delete(
    '/media/:id',
    {
      schema: {
        tags: ['media'],
        summary: 'Delete an image and all its files',
        security,
        params: MediaId,
        description: 'The uploader, editors and admins. Refused (409, listing where) while a post uses the image.',
        response: { 204: Type.Null({ description: 'Deleted.' }), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await media.delete(requireUser(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
