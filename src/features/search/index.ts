// What other features may use from search. The posts feature keeps the index
// current (reindexPost in each writing transaction) and answers ?q= through it.
export { reindexPost, searchPublished, type SearchHit } from './search.queries.ts';
export { decodeSearchCursor, encodeSearchCursor, MAX_OFFSET, MAX_QUERY_LENGTH, MAX_TERMS, searchTerms } from './search.input.ts';
