import type { Kysely } from 'kysely';
import type { Database } from './db/schema.ts';

/** A small key-value store in the database for site-wide settings and one-off state. */
export function createSettings(db: Kysely<Database>) {
  return {
    async get(key: string): Promise<string | undefined> {
      const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
      return row?.value;
    },
    async set(key: string, value: string): Promise<void> {
      await db
        .insertInto('settings')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
        .execute();
    },
    /** Sets the key only if it is absent, and returns the value that won (safe across instances). */
    async getOrInit(key: string, make: () => string): Promise<string> {
      await db
        .insertInto('settings')
        .values({ key, value: make() })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      return (await this.get(key))!;
    },
    /** Sets the key if absent; true only for the one caller (of any instance) that set it. */
    async claim(key: string, value: string): Promise<boolean> {
      const row = await db
        .insertInto('settings')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .executeTakeFirst();
      return row !== undefined;
    },
    async delete(key: string): Promise<void> {
      await db.deleteFrom('settings').where('key', '=', key).execute();
    },
  };
}

export type Settings = ReturnType<typeof createSettings>;
