import type { FastifyInstance, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import { AppError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { csrfField } from '../../platform/http/forms.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { MediaService } from './media.service.ts';
import { formatBytes, type ReceivedUpload, receiveUpload } from './media.upload.ts';

/** The avatar upload form shown on /settings (a plain multipart form: no JavaScript needed). */
export function avatarFormHtml(request: FastifyRequest, maxBytes: number, error?: string): string {
  return html`<section aria-labelledby="avatar-h">
<h2 id="avatar-h">Avatar</h2>
!${error ? html`<p class="flash flash-error" role="alert">${error}</p>` : ''}
<form method="post" action="/media/avatar" enctype="multipart/form-data" class="stacked">
  !${csrfField(request.csrfToken())}
  <div><label for="avatar">Upload an avatar <span class="hint" id="avatar-hint">(JPEG, PNG, WebP, AVIF or GIF, at most ${formatBytes(maxBytes)}; location and camera data are removed)</span></label>
  <input type="file" id="avatar" name="file" accept="image/jpeg,image/png,image/webp,image/avif,image/gif" required aria-describedby="avatar-hint"></div>
  <div class="actions"><button type="submit">Upload avatar</button></div>
</form>
</section>`;
}

/**
 * POST /media/avatar: anyone signed in (readers too) uploads an image that becomes
 * their avatar; the account's avatar URL is then the image's. Quota and checks are
 * those of every upload.
 */
export async function avatarRoutes(app: FastifyInstance, opts: { media: MediaService; accounts: AccountsService; maxBytes: number }) {
  const { media, accounts } = opts;
  app.post('/media/avatar', { config: { csrf: false } }, async (request, reply) => {
    const user = requireUser(request);
    let upload: ReceivedUpload | undefined;
    try {
      // Checks the CSRF token (a field before the file) before anything is written.
      upload = await receiveUpload(request, opts.maxBytes);
      const m = await media.upload(user, upload);
      await accounts.setAvatarImage(user.id, { id: m.id, url: m.url });
      reply.setFlash('Avatar updated.');
      return reply.code(303).redirect('/settings#avatar-h');
    } catch (e) {
      if (!(e instanceof AppError) || e.code === 'csrf_failed') throw e;
      reply.setFlash(`Avatar not changed: ${e.message}`, 'error');
      return reply.code(303).redirect('/settings#avatar-h');
    } finally {
      await upload?.discard();
    }
  });
}
