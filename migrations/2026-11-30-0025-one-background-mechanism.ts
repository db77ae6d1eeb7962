import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: never import app code here.
// The job queue is the one lease-and-retry mechanism: an event's dispatch and an
// email's delivery are jobs ('event.dispatch' with { eventId }, 'mail.deliver'
// found by mail_outbox.job_id), which carry the attempts, backoff and failed
// state. The events and the outbox lose their own lease and retry columns; work
// still waiting on them becomes jobs here.

export async function up(db: Kysely<any>): Promise<void> {
  const now = new Date().toISOString();
  const job = (type: string, payload: object) => ({
    type,
    payload: JSON.stringify(payload),
    status: 'queued',
    run_at: now,
    attempts: 0,
    max_attempts: 6,
    created_at: now,
    updated_at: now,
  });
  const live = (key: string) =>
    db.selectFrom('jobs').select('id').where('idempotency_key', '=', key).where('status', 'in', ['queued', 'running']).executeTakeFirst();

  await db.schema.alterTable('mail_outbox').addColumn('job_id', 'integer').execute();
  // Messages still to be delivered: linked to their live job, or given a new one.
  const pending = await db.selectFrom('mail_outbox').select('id').where('status', '=', 'pending').execute();
  for (const { id } of pending) {
    const linked = await live(`mail:${id}`);
    const jobId = linked?.id ?? (await db.insertInto('jobs').values(job('mail.deliver', {})).returning('id').executeTakeFirstOrThrow()).id;
    await db.updateTable('mail_outbox').set({ job_id: jobId }).where('id', '=', id).execute();
  }
  // Events not yet dispatched, and with no dispatch job of their own yet.
  const undispatched = await db.selectFrom('events').select('id').where('processed_at', 'is', null).execute();
  for (const { id } of undispatched) {
    if (!(await live(`event:${id}`)))
      await db
        .insertInto('jobs')
        .values(job('event.dispatch', { eventId: id }))
        .execute();
  }

  await db.schema.dropIndex('mail_outbox_due').execute();
  await db.schema.dropIndex('events_due').execute();
  for (const table of ['mail_outbox', 'events']) {
    for (const column of ['attempts', 'next_attempt_at', 'lease_until', 'last_error']) {
      await db.schema.alterTable(table).dropColumn(column).execute();
    }
  }
  await db.schema.createIndex('mail_outbox_job').on('mail_outbox').column('job_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  const epoch = '1970-01-01T00:00:00.000Z';
  await db.schema.dropIndex('mail_outbox_job').execute();
  for (const table of ['mail_outbox', 'events']) {
    await db.schema
      .alterTable(table)
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable(table)
      .addColumn('next_attempt_at', ts, (c) => c.notNull().defaultTo(epoch))
      .execute();
    await db.schema.alterTable(table).addColumn('lease_until', ts).execute();
    await db.schema.alterTable(table).addColumn('last_error', 'text').execute();
  }
  await db.schema.alterTable('mail_outbox').dropColumn('job_id').execute();
  await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('events_due').on('events').column('id').where(sql.ref('processed_at'), 'is', null).execute();
}
