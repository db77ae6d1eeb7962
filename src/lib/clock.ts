/** Injectable time source, so expiry and schedules are testable without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Current time as the ISO-8601 UTC string we store. */
export function nowIso(clock: Clock): string {
  return clock.now().toISOString();
}
