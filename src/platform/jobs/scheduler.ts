import { Cron } from 'croner';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';

interface Log {
  info(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

interface Schedule {
  name: string;
  cron: Cron;
  run: (tickAt: Date) => Promise<void>;
}

/**
 * Cron tasks registered in code (docs/architecture.md, "Background work"). Each instance checks
 * the schedules every few seconds; a tick is claimed by inserting its
 * (name, time) row, so exactly one instance runs it. A tick missed while every
 * instance was down runs once (the latest one) at the next start.
 */
export function createScheduler(deps: { db: Kysely<Database>; clock: Clock; timezone: string; log?: Log }) {
  const { db, clock, log } = deps;
  const schedules: Schedule[] = [];
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;

  async function lastTick(name: string): Promise<Date | null> {
    const row = await db
      .selectFrom('cron_ticks')
      .select((eb) => eb.fn.max('tick_at').as('last'))
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.last ? new Date(row.last as string) : null;
  }

  async function claim(name: string, tickAt: Date): Promise<boolean> {
    const row = await db
      .insertInto('cron_ticks')
      .values({ name, tick_at: tickAt.toISOString(), claimed_at: clock.now().toISOString() })
      .onConflict((oc) => oc.columns(['name', 'tick_at']).doNothing())
      .returning('name')
      .executeTakeFirst();
    return row !== undefined;
  }

  async function check(s: Schedule): Promise<void> {
    const now = clock.now();
    const [latest] = s.cron.previousRuns(1, now);
    if (!latest) return;
    const last = await lastTick(s.name);
    if (last === null) {
      // First time this schedule is seen: start counting from here, run nothing retroactively.
      await claim(s.name, latest);
      return;
    }
    if (latest.getTime() <= last.getTime()) return;
    if (!(await claim(s.name, latest))) return;
    log?.info({ schedule: s.name, tick: latest.toISOString() }, 'running scheduled task');
    try {
      await s.run(latest);
    } catch (e) {
      log?.error({ schedule: s.name, err: (e as Error).message }, 'scheduled task failed');
    }
  }

  return {
    /** Registers a task: a name, a cron expression (in the site's time zone) and what to do. */
    register(name: string, expression: string, run: (tickAt: Date) => Promise<void>): void {
      // For UTC, croner's fixed offset gives the same runs as the zone name without
      // building an Intl.DateTimeFormat (time and ICU memory at start-up).
      const zone = deps.timezone === 'UTC' ? { utcOffset: 0 } : { timezone: deps.timezone };
      schedules.push({ name, cron: new Cron(expression, { ...zone, paused: true }), run });
    },

    /** Checks every schedule once; runs what is due. */
    async tick(): Promise<void> {
      if (ticking) return ticking;
      ticking = (async () => {
        for (const s of schedules) await check(s);
      })().finally(() => {
        ticking = undefined;
      });
      return ticking;
    },

    names: () => schedules.map((s) => ({ name: s.name, expression: s.cron.getPattern() ?? '', next: s.cron.nextRun(clock.now()) })),

    start(pollMs = 10_000): void {
      if (timer) return;
      timer = setInterval(() => void this.tick(), pollMs);
      timer.unref();
      void this.tick();
    },

    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await ticking;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
