/**
 * A background sweep that never overlaps itself: run() while a pass is going
 * queues one more after it (one, however many ask), so a kick is never lost.
 * Used by the mail outbox and the event dispatcher.
 */
export function createSweep(work: () => Promise<number>, onError: (e: Error) => void) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  // The one pass queued behind the running one, shared by everyone who asked meanwhile.
  let next: Promise<number> | undefined;
  let stopped = false;

  function pass(): Promise<number> {
    const p: Promise<number> = work()
      .catch((e) => {
        onError(e as Error);
        return 0;
      })
      .finally(() => {
        if (running === p) running = undefined;
      });
    running = p;
    return p;
  }

  // Always a pass that starts after the call: work recorded just before it is seen.
  function run(): Promise<number> {
    if (stopped) return Promise.resolve(0);
    if (next) return next;
    if (!running) return pass();
    next = running.then(() => {
      next = undefined;
      return stopped ? 0 : pass();
    });
    return next;
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
      await running;
      await next;
    },
  };
}
