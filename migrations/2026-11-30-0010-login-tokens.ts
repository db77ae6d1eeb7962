import type { Kysely } from 'kysely';

// Frozen in time: never import app code here.
// A password change or reset must end every login (browser sessions and the
// bearer tokens handed out by API and RealWorld logins) yet keep the tokens a
// person made by hand, which scripts depend on. Until now both kinds were rows
// of api_tokens told apart only by a name anyone could type, so the kind is
// stored. Existing login tokens were the ones that expire (personal ones never
// do). registered_via remembers accounts made through the RealWorld adapter:
// that protocol has no email verification, so only those accounts may publish
// through it unverified.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('api_tokens')
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('personal'))
    .execute();
  await db.updateTable('api_tokens').set({ kind: 'login' }).where('expires_at', 'is not', null).where('name', 'in', ['API login', 'RealWorld login']).execute();
  await db.schema.alterTable('users').addColumn('registered_via', 'text').execute();
  await db.schema.createIndex('api_tokens_user').on('api_tokens').columns(['user_id', 'kind']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('api_tokens_user').execute();
  await db.schema.alterTable('users').dropColumn('registered_via').execute();
  await db.schema.alterTable('api_tokens').dropColumn('kind').execute();
}
