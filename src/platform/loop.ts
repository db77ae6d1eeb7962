/**
 * A background sweep that never overlaps itself: run() while a run is going
 * returns that run and schedules one more after it, so a kick is never lost.
 * Used by the mail outbox and the event dispatcher.
 */
export function createSweep(work: () => Promise<number>, onError: (e: Error) => void) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = false;

  function run(): Promise<number> {
    if (stopped) return Promise.resolve(0);
    if (running) {
      again = true;
      return running;
    }
    running = work().catch((e) => {
      onError(e as Error);
      return 0;
    }).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        void run();
      }
    });
    return running;
  }

  return {
    run,
    /** Runs soon (after the current tick: a transaction that recorded work has committed). */
    kick(): void {
      setImmediate(() => void run());
    },
    start(intervalMs: number): void {
      if (timer) return;
      stopped = false;
      timer = setInterval(() => void run(), intervalMs);
      timer.unref();
    },
    /** Stops the timer and refuses new runs; waits for the one in progress. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      again = false;
      await running;
    },
  };
}
