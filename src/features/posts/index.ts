// What other features may use from posts.
export { createPostsService, type PostsService } from './posts.service.ts';
export type { Post } from './posts.queries.ts';
