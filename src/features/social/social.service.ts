import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { Events } from '../../platform/events/index.ts';
import type { CurrentUser } from '../../platform/http/sessions.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Post, PostsService } from '../posts/index.ts';

/** Someone as seen by a viewer: whether the viewer follows them, and their counts. */
export interface Relation {
  username: string;
  following: boolean;
  followers: number;
  followingCount: number;
}

/**
 * Follows between people and favourites of posts. The social feature owns the
 * `follows` and `favorites` tables; posts read them for counts and the feed.
 * A new follow or favourite records an event (user.followed, post.favorited)
 * in its transaction, which the notifications feature turns into notifications.
 */
export function createSocialService(deps: { db: Kysely<Database>; clock: Clock; events?: Events; posts: PostsService }) {
  const { db, clock, events, posts } = deps;
  const now = () => clock.now().toISOString();

  // Suspended people have no public profile, so they cannot be followed either.
  async function person(username: string): Promise<{ id: number; username: string }> {
    const row = await db
      .selectFrom('users')
      .select(['id', 'username'])
      .where('username', '=', username.trim().toLowerCase())
      .where('suspended_at', 'is', null)
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', 'No user with that name');
    return row;
  }

  // Only published posts can be favourited: a draft has no readers yet.
  async function publishedPost(viewer: CurrentUser, idOrSlug: string | number): Promise<Post> {
    const post = await posts.get(viewer, idOrSlug);
    if (post.status !== 'published') throw new AppError('not_found', 'No published post with that id or slug');
    return post;
  }

  async function followingAmong(userId: number, ids: number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows = await db.selectFrom('follows').select('followee_id').where('follower_id', '=', userId).where('followee_id', 'in', ids).execute();
    return new Set(rows.map((r) => r.followee_id));
  }

  async function relationTo(viewer: CurrentUser | null, target: { id: number; username: string }): Promise<Relation> {
    const counts = await db
      .selectNoFrom((eb) => [
        eb
          .selectFrom('follows')
          .select((f) => f.fn.countAll<number | string>().as('n'))
          .where('followee_id', '=', target.id)
          .as('followers'),
        eb
          .selectFrom('follows')
          .select((f) => f.fn.countAll<number | string>().as('n'))
          .where('follower_id', '=', target.id)
          .as('following'),
      ])
      .executeTakeFirstOrThrow();
    const following = viewer ? (await followingAmong(viewer.id, [target.id])).has(target.id) : false;
    return { username: target.username, following, followers: Number(counts.followers ?? 0), followingCount: Number(counts.following ?? 0) };
  }

  const service = {
    /** The viewer starts following someone (again is a no-op); answers the new relation. */
    async follow(viewer: CurrentUser, username: string): Promise<Relation> {
      const target = await person(username);
      if (target.id === viewer.id) {
        throw new AppError('validation_failed', 'You cannot follow yourself', [{ field: 'username', message: 'is you; you cannot follow yourself' }]);
      }
      await db.transaction().execute(async (trx) => {
        const added = await trx
          .insertInto('follows')
          .values({ follower_id: viewer.id, followee_id: target.id, created_at: now() })
          .onConflict((oc) => oc.columns(['follower_id', 'followee_id']).doNothing())
          .returning('follower_id')
          .executeTakeFirst();
        if (added && events) await events.record(trx, 'user.followed', { followerId: viewer.id, followeeId: target.id });
      });
      return relationTo(viewer, target);
    },

    /** The viewer stops following someone (not following already is fine). */
    async unfollow(viewer: CurrentUser, username: string): Promise<Relation> {
      const target = await person(username);
      await db.deleteFrom('follows').where('follower_id', '=', viewer.id).where('followee_id', '=', target.id).execute();
      return relationTo(viewer, target);
    },

    /** Whether the viewer follows this person, and how many follow them and whom they follow. */
    relation: async (viewer: CurrentUser | null, username: string): Promise<Relation> => relationTo(viewer, await person(username)),

    /** Which of these people the user follows. */
    followingAmong,

    /** The viewer favourites a published post (again is a no-op); answers the post with its new count. */
    async favorite(viewer: CurrentUser, idOrSlug: string | number): Promise<Post> {
      const post = await publishedPost(viewer, idOrSlug);
      await db.transaction().execute(async (trx) => {
        const added = await trx
          .insertInto('favorites')
          .values({ user_id: viewer.id, post_id: post.id, created_at: now() })
          .onConflict((oc) => oc.columns(['user_id', 'post_id']).doNothing())
          .returning('post_id')
          .executeTakeFirst();
        if (added && events) await events.record(trx, 'post.favorited', { userId: viewer.id, postId: post.id });
      });
      return posts.get(viewer, post.id);
    },

    /** The viewer takes a favourite back (not having one is fine). */
    async unfavorite(viewer: CurrentUser, idOrSlug: string | number): Promise<Post> {
      const post = await posts.get(viewer, idOrSlug);
      await db.deleteFrom('favorites').where('user_id', '=', viewer.id).where('post_id', '=', post.id).execute();
      return posts.get(viewer, post.id);
    },
  };
  return service;
}

export type SocialService = ReturnType<typeof createSocialService>;
