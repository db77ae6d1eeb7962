// What other features may use from posts.
export { createPostsService, type PostsService, type SearchResult } from './posts.service.ts';
export type { Post } from './posts.queries.ts';
