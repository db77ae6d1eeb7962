// The events the comments feature records, with their payloads (see EventCatalogue),
// and what is told about a comment outside the site (webhooks, Slack).

import type { Post } from '../posts/index.ts';
import type { Comment } from './comments.queries.ts';

/** A comment was posted (published or held for moderation). */
export interface CommentCreated {
  commentId: number;
  postId: number;
  parentId: number | null;
  authorId: number | null;
}

/** A comment was held for a moderator's approval (spam caught by the honeypot is not). */
export interface CommentHeld {
  commentId: number;
  postId: number;
  authorId: number | null;
}

/** A published comment's text changed where readers see it: an edit that needed no approval, or an approved edit. */
export interface CommentUpdated {
  commentId: number;
  postId: number;
  authorId: number | null;
}

/** A comment, with the post it is under, as a webhook's `data` and a Slack message carry it. */
export function commentEventData(c: Comment, post: Pick<Post, 'id' | 'slug' | 'title'>, siteUrl: string) {
  return {
    id: c.id,
    body: c.body,
    parentId: c.parentId,
    author: c.author?.username ?? null,
    createdAt: c.createdAt,
    post: { id: post.id, slug: post.slug, title: post.title },
    url: `${siteUrl}/posts/${post.slug}#comment-${c.id}`,
  };
}

declare module '../../platform/events/index.ts' {
  interface EventCatalogue {
    'comment.created': CommentCreated;
    'comment.held': CommentHeld;
    'comment.updated': CommentUpdated;
  }
}
