import type { Generated } from 'kysely';

// The one Database type every feature queries against. Timestamps are ISO-8601
// strings in UTC on both engines (text on SQLite, timestamptz read back as ISO
// on PostgreSQL), so code never branches on the dialect to handle dates.

export type Role = 'admin' | 'editor' | 'author' | 'reader';
export type PostStatus = 'draft' | 'published';

export interface UsersTable {
  id: Generated<number>;
  email: string;
  username: string;
  display_name: string;
  password_hash: string | null;
  role: Role;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  id_hash: string;
  user_id: number;
  created_at: string;
  expires_at: string;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
}

export interface PostsTable {
  id: Generated<number>;
  author_id: number | null;
  title: string;
  slug: string;
  body: string;
  body_html: string;
  custom_excerpt: string | null;
  excerpt: string;
  status: PostStatus;
  created_at: string;
  updated_at: string;
  published_at: string | null;
}

export interface TagsTable {
  id: Generated<number>;
  name: string;
  slug: string;
  created_at: string;
}

export interface PostTagsTable {
  post_id: number;
  tag_id: number;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  posts: PostsTable;
  tags: TagsTable;
  post_tags: PostTagsTable;
  settings: SettingsTable;
}
