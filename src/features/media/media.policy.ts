import type { CurrentUser } from '../../platform/http/sessions.ts';

// Who may do what with images: writers (authors and up) upload; the uploader,
// editors and admins change or delete an image; anyone may view a stored file.

/** Authors, editors and admins may upload; readers may not. */
export function canUploadMedia(user: CurrentUser | null): boolean {
  return !!user && user.role !== 'reader';
}

/** The uploader, editors and admins manage an image. */
export function canManageMedia(user: CurrentUser | null, ownerId: number | null): boolean {
  if (!user) return false;
  return user.role === 'admin' || user.role === 'editor' || (user.role === 'author' && ownerId === user.id);
}
