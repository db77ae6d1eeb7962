import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { safeEqual } from '../../lib/secrets.ts';

/** One received multipart upload: the file in a temporary directory, and the text fields. */
export interface ReceivedUpload {
  path: string;
  bytes: number;
  name: string | undefined;
  fields: Record<string, string>;
  /** Removes the temporary file; always call it (finally). */
  discard(): Promise<void>;
}

const FIELDS = new Set(['_csrf', 'alt', 'caption', 'credit']);

/**
 * Streams one multipart file to a temporary file (never whole into memory),
 * within MEDIA_MAX_BYTES and one file per request.
 *
 * The route turns off the shared CSRF hook (it runs before the handler reads a
 * multipart body, so it cannot see a form field) and this checks the same token
 * instead: from the X-CSRF-Token header or a `_csrf` field sent before the file,
 * so a forged cross-site upload is refused before a byte of it is written.
 */
export async function receiveUpload(request: FastifyRequest, maxBytes: number): Promise<ReceivedUpload> {
  if (!request.isMultipart()) {
    throw new AppError('unsupported_media_type', 'Send the image as multipart/form-data, in a field named "file"');
  }
  const needsCsrf = request.authVia === 'session';
  const header = request.headers['x-csrf-token'];
  let csrfOk = !needsCsrf || (typeof header === 'string' && safeEqual(header, request.csrfToken()));
  const dir = await mkdtemp(join(tmpdir(), 'inkwell-upload-'));
  const discard = () => rm(dir, { recursive: true, force: true });
  const fields: Record<string, string> = {};
  let file: { path: string; bytes: number; name: string | undefined } | null = null;
  try {
    const parts = request.parts({ limits: { fileSize: maxBytes, files: 1, fields: 10, fieldSize: 10_000, parts: 12 } });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (!FIELDS.has(part.fieldname) || typeof part.value !== 'string') continue;
        fields[part.fieldname] = part.value;
        if (part.fieldname === '_csrf' && needsCsrf) csrfOk = safeEqual(part.value, request.csrfToken());
        continue;
      }
      if (!csrfOk) throw new AppError('csrf_failed');
      if (part.fieldname !== 'file') {
        throw new AppError('validation_failed', `Send the image in a field named "file", not "${part.fieldname}"`, [{ field: 'file', message: 'is required' }]);
      }
      const path = join(dir, 'upload');
      await pipeline(part.file, createWriteStream(path, { flags: 'wx' }));
      if (part.file.truncated) {
        throw new AppError('payload_too_large', `The file is larger than the limit of ${formatBytes(maxBytes)} (MEDIA_MAX_BYTES)`);
      }
      file = { path, bytes: part.file.bytesRead, name: part.filename };
    }
    if (!csrfOk) throw new AppError('csrf_failed');
    if (!file) throw new AppError('validation_failed', 'No file was sent', [{ field: 'file', message: 'is required' }]);
    return { ...file, fields, discard };
  } catch (e) {
    await discard();
    // Read the rest of the body, so the client gets to read our answer.
    request.raw.resume();
    const code = (e as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE')
      throw new AppError('payload_too_large', `The file is larger than the limit of ${formatBytes(maxBytes)} (MEDIA_MAX_BYTES)`);
    if (code === 'FST_FILES_LIMIT') throw new AppError('payload_too_large', 'Send one file per request');
    if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') throw new AppError('payload_too_large', 'The form has too many fields');
    if (e instanceof AppError) throw e;
    throw new AppError('bad_request', 'The multipart body is malformed or incomplete');
  }
}

/** 20971520 -> "20 MB". */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}
