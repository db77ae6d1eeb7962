// Full-text search over published posts, a part of the posts feature: the
// posts service keeps the index current (reindexPost in each writing
// transaction) and answers ?q= through it; /search (search.routes.ts) is its page.
export { reindexPost, searchPublished, type SearchHit } from './search.queries.ts';
export { decodeSearchCursor, encodeSearchCursor, MAX_OFFSET, MAX_QUERY_LENGTH, MAX_TERMS, searchTerms } from './search.input.ts';
