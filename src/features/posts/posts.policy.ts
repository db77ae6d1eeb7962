import type { CurrentUser } from '../../platform/http/sessions.ts';

// Who may do what with posts. Readers and visitors only read published posts;
// authors write and manage their own; editors and admins manage everyone's.

interface PostOwnership {
  authorId: number | null;
  status: 'draft' | 'published' | 'scheduled';
}

export function canCreatePost(user: CurrentUser | null): boolean {
  return !!user && user.role !== 'reader';
}

export function canManageAllPosts(user: CurrentUser | null): boolean {
  return !!user && (user.role === 'editor' || user.role === 'admin');
}

export function canEditPost(user: CurrentUser | null, post: PostOwnership): boolean {
  if (!user) return false;
  return canManageAllPosts(user) || (user.role === 'author' && post.authorId === user.id);
}

export function canViewPost(user: CurrentUser | null, post: PostOwnership): boolean {
  return post.status === 'published' || canEditPost(user, post);
}
