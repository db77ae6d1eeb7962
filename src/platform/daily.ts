import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.ts';
import type { Database } from './db/schema.ts';
import type { Scheduler } from './jobs/scheduler.ts';
import type { Site } from './site.ts';

/** How often a daily task looks at the clock: it starts within this many minutes of its time. */
const CHECK = '*/5 * * * *';
const DAY_MS = 86_400_000;

const formats = new Map<string, Intl.DateTimeFormat>();

/** The date (YYYY-MM-DD) and minute of the day of an instant in a time zone. */
function localDayAndMinute(at: Date, timeZone: string): { day: string; minute: number } {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  return { day: `${p.year}-${p.month}-${p.day}`, minute: Number(p.hour) * 60 + Number(p.minute) };
}

/**
 * Registers a task that runs once a day, from a time of day (HH:MM) in the site's
 * time zone on. The zone is read from the site settings at every check, so a change
 * at /admin/site applies at the next one, without a restart; a cron expression is fixed
 * in TIMEZONE when it is registered. Once per local day across instances (the
 * daily_runs row is the claim), whatever the clocks do: a day of 23 or 25 hours runs
 * it once. Missed while every instance was down, it runs at the next check of the same
 * day. Like a cron schedule, a task seen for the first time after its hour waits for
 * the next day. A run that fails gives its claim back, and the next check tries again.
 */
export function registerDaily(
  deps: { scheduler: Scheduler; site: Pick<Site, 'refresh'>; db: { kysely: Kysely<Database> }; clock: Clock },
  name: string,
  at: string,
  run: () => Promise<void>,
): void {
  const m = /^(\d\d):(\d\d)$/.exec(at);
  if (!m) throw new Error(`registerDaily: "${at}" is not HH:MM`);
  const target = Number(m[1]) * 60 + Number(m[2]);
  const db = deps.db.kysely;
  const claim = async (day: string) =>
    (await db
      .insertInto('daily_runs')
      .values({ name, day, claimed_at: deps.clock.now().toISOString() })
      .onConflict((oc) => oc.columns(['name', 'day']).doNothing())
      .returning('day')
      .executeTakeFirst()) !== undefined;

  deps.scheduler.register(name, CHECK, async (tickAt) => {
    const { timeZone } = await deps.site.refresh();
    const { day, minute } = localDayAndMinute(tickAt, timeZone);
    const seen = await db.selectFrom('daily_runs').select('day').where('name', '=', name).limit(1).executeTakeFirst();
    if (!seen) {
      // First sight: today counts as done if its hour has passed, yesterday otherwise.
      await claim(minute >= target ? day : localDayAndMinute(new Date(tickAt.getTime() - DAY_MS), timeZone).day);
      return;
    }
    if (minute < target || !(await claim(day))) return;
    try {
      await run();
    } catch (e) {
      await db.deleteFrom('daily_runs').where('name', '=', name).where('day', '=', day).execute();
      throw e;
    }
    // A week of claims is plenty to tell days apart when the zone changes.
    const old = localDayAndMinute(new Date(tickAt.getTime() - 7 * DAY_MS), timeZone).day;
    await db.deleteFrom('daily_runs').where('name', '=', name).where('day', '<', old).execute();
  });
}
