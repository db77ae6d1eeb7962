// The events the posts feature records, with their payloads (see EventCatalogue),
// and what is told about a post outside the site (webhooks, Slack).

import type { Post } from './posts.queries.ts';

/** A post became public: published now, by a schedule, or from a draft. */
export interface PostPublished {
  postId: number;
}
/** A published post was edited. */
export interface PostUpdated {
  postId: number;
}
/** A published post was deleted; what subscribers may still need to name it. */
export interface PostDeleted {
  postId: number;
  slug: string;
  title: string;
}
/** A published post was taken offline (it stays, as a draft); what subscribers may need to name it. */
export interface PostUnpublished {
  postId: number;
  slug: string;
  title: string;
}
/** A published post's slug changed: its old address should lead to the new one. */
export interface PostSlugChanged {
  postId: number;
  from: string;
  to: string;
}

/** A post as a webhook's `data` and a Slack message carry it. */
export function postEventData(p: Post, siteUrl: string) {
  return {
    id: p.id,
    slug: p.slug,
    title: p.title,
    excerpt: p.excerpt,
    status: p.status,
    author: p.author?.username ?? null,
    publishedAt: p.publishedAt,
    updatedAt: p.updatedAt,
    url: `${siteUrl}/posts/${p.slug}`,
  };
}

declare module '../../platform/events/index.ts' {
  interface EventCatalogue {
    'post.published': PostPublished;
    'post.updated': PostUpdated;
    'post.deleted': PostDeleted;
    'post.unpublished': PostUnpublished;
    'post.slug_changed': PostSlugChanged;
  }
}
