import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Busboy } from '@fastify/busboy';

/**
 * RFC 8058 lets mail clients send the one-click unsubscribe body
 * ("List-Unsubscribe=One-Click") as multipart/form-data. Call this inside the
 * scope of the unsubscribe route only, so no other route takes multipart text.
 */
export function acceptOneClickForms(scope: FastifyInstance): void {
  if (scope.hasContentTypeParser('multipart/form-data')) scope.removeContentTypeParser('multipart/form-data');
  scope.addContentTypeParser('multipart/form-data', { bodyLimit: 64 * 1024 }, parseFormFields);
}

/** The text fields of a multipart/form-data body (files are read and dropped). */
function parseFormFields(request: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: unknown) => void): void {
  const fields: Record<string, string> = {};
  let form: InstanceType<typeof Busboy>;
  try {
    form = new Busboy({ headers: request.headers as never, limits: { fields: 20, fieldSize: 1024, files: 0 } });
  } catch (e) {
    // A missing or bad boundary.
    done(Object.assign(new Error(`bad multipart/form-data body: ${(e as Error).message}`), { statusCode: 400 }));
    return;
  }
  let answered = false;
  const answer = (err: Error | null) => {
    if (answered) return;
    answered = true;
    done(err, err ? undefined : fields);
  };
  form.on('field', (name: string, value: string) => {
    fields[name] = value;
  });
  form.on('file', (_name: string, stream: NodeJS.ReadableStream) => {
    stream.resume();
  });
  form.on('error', (e: Error) => answer(Object.assign(new Error(`bad multipart/form-data body: ${e.message}`), { statusCode: 400 })));
  form.on('finish', () => answer(null));
  payload.pipe(form);
}
