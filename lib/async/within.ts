/**
 * `promise`, or a rejection after `ms`; the late outcome of `promise` is ignored.
 *
 * A timer that fires late because this process's event loop was busy (a burst of sockets, a
 * long synchronous step) must not beat an answer that arrived meanwhile: Node runs expired timers
 * before it reads sockets, so the deadline is decided one turn later (`setImmediate`, after the
 * loop's I/O), and an answer already waiting in a socket wins.
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  let late: NodeJS.Immediate | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = setImmediate(() => reject(new Error(`no answer within ${ms} ms`)));
      }, ms);
      timer.unref();
    }),
  ]).finally(() => {
    clearTimeout(timer);
    if (late) clearImmediate(late);
  });
}
