import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// Accounts grow profiles, verification and suspension; one-time tokens for
// verification, password reset, email change and invitations; and the mail outbox.

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const id = (c: any) => (pg ? c : c.autoIncrement()).primaryKey();
  const idType = pg ? 'serial' : 'integer';

  await db.schema.alterTable('users').addColumn('bio', 'text').execute();
  await db.schema.alterTable('users').addColumn('avatar_url', 'text').execute();
  await db.schema.alterTable('users').addColumn('email_verified_at', ts).execute();
  await db.schema.alterTable('users').addColumn('suspended_at', ts).execute();
  // Accounts that existed before verification did were made by admins: trust them.
  await db.updateTable('users').set({ email_verified_at: sql`created_at` }).execute();

  await db.schema.alterTable('api_tokens').addColumn('expires_at', ts).execute();

  await db.schema
    .createTable('account_tokens')
    .addColumn('id', idType, id)
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('email', 'text')
    .addColumn('role', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .addColumn('used_at', ts)
    .execute();
  await db.schema.createIndex('account_tokens_user').on('account_tokens').columns(['user_id', 'purpose']).execute();

  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', idType, id)
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('to_name', 'text')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('html', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    // pending -> sent | failed (SMTP), or kept (no SMTP configured: read it at /admin/mail)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', ts, (c) => c.notNull())
    .addColumn('lease_until', ts)
    .addColumn('last_error', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('sent_at', ts)
    .execute();
  await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['status', 'next_attempt_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mail_outbox').execute();
  await db.schema.dropTable('account_tokens').execute();
  await db.schema.alterTable('api_tokens').dropColumn('expires_at').execute();
  for (const col of ['suspended_at', 'email_verified_at', 'avatar_url', 'bio']) {
    await db.schema.alterTable('users').dropColumn(col).execute();
  }
}
