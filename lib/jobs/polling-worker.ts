/**
 * A background pass that runs on a timer and whenever it is nudged, never two at a time: a nudge
 * during a pass runs one more pass after it. `isStopped` lets a long pass end early on stop.
 */
export function pollingWorker(pass: (isStopped: () => boolean) => Promise<void>, options: { pollMs: number; log: (message: string) => void; name: string }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  const isStopped = () => stopped;

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = pass(isStopped)
      .catch((error: unknown) => options.log(`${options.name}: pass failed: ${String(error)}`))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          kick();
        }
      });
  }

  return {
    /** Work is waiting: run a pass now rather than at the next poll. */
    nudge: kick,
    start() {
      stopped = false;
      timer = setInterval(kick, options.pollMs);
      timer.unref();
      kick();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
