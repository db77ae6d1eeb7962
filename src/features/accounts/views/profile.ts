import { html } from '../../../lib/html.ts';
import type { Post } from '../../posts/index.ts';
import { postListHtml } from '../../posts/views/post-list.ts';

export interface Profile {
  username: string;
  displayName: string;
  bio: string | null;
  avatarUrl: string | null;
  joinedAt: string;
}

/** A public author page: who they are, then their published posts. */
export function profileHtml(p: Profile, posts: Post[], olderHref: string | null, aside = ''): string {
  const intro = html`<div class="profile">
  !${p.avatarUrl ? html`<img class="avatar" src="${p.avatarUrl}" alt="" width="72" height="72">` : ''}
  <p class="meta">@${p.username}</p>
  !${p.bio ? html`<p class="bio">${p.bio}</p>` : ''}
  !${aside}
</div>`;
  return postListHtml({ heading: p.displayName, intro, posts, olderHref, empty: 'No published posts yet.' });
}
