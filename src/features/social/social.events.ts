// The events the social feature records, with their payloads (see EventCatalogue).

/** Someone started following someone (not recorded again for an unfollow and re-follow). */
export interface UserFollowed {
  followerId: number;
  followeeId: number;
}
/** Someone favourited a post. */
export interface PostFavorited {
  userId: number;
  postId: number;
}

declare module '../../platform/events/index.ts' {
  interface EventCatalogue {
    'user.followed': UserFollowed;
    'post.favorited': PostFavorited;
  }
}
