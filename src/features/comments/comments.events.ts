// The events the comments feature records, with their payloads (see EventCatalogue).

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

declare module '../../platform/events/index.ts' {
  interface EventCatalogue {
    'comment.created': CommentCreated;
    'comment.held': CommentHeld;
    'comment.updated': CommentUpdated;
  }
}
