// What other features may use from comments.
export { createCommentsService, type CommentsService, type ThreadItem } from './comments.service.ts';
export type { Comment } from './comments.queries.ts';
export { commentHtml, threadHtml } from './views/thread.ts';
