import type { EventBus } from '../../../lib/events/event-bus.js';
import { reportGauge } from '../../../lib/observability/metrics.js';
import { within } from '../../../lib/async/within.js';

/** Whether the gateway's event bus answers, watched by a ping loop; subscribers and the storefront cache follow it. */
export interface BusMonitor {
  /** The last ping answered in time (true until one did not). */
  readonly up: boolean;
  /** Calls `listener` on every change (down, then up again); returns the function that removes it. */
  onChange(listener: (up: boolean) => void): () => void;
  start(): void;
  stop(): void;
}

export interface BusMonitorOptions {
  /** Time between pings (default 1 s). */
  intervalMs?: number;
  /** A ping unanswered this long is a miss (default 1 s). */
  timeoutMs?: number;
  /** Misses in a row that mean the bus is down (default 2): one slow answer is not an outage. */
  missesBeforeDown?: number;
  log?: (message: string) => void;
}

/**
 * Pings the bus every `intervalMs`; `missesBeforeDown` pings in a row unanswered within
 * `timeoutMs` (a stopped or unreachable Redis) mark it down, the next answered one up again.
 * One miss alone does not: under a storm of connections this process's own event loop can hold an
 * answer back past the deadline, and marking the bus down then interrupts every subscriber for
 * nothing. Reported as `gateway_bus_up`.
 */
export function createBusMonitor(bus: EventBus, options: BusMonitorOptions = {}): BusMonitor {
  const intervalMs = options.intervalMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const missesBeforeDown = Math.max(1, options.missesBeforeDown ?? 2);
  let misses = 0;
  const log = options.log ?? console.error;
  const listeners = new Set<(up: boolean) => void>();
  let up = true;
  let timer: NodeJS.Timeout | undefined;
  let checking = false;
  let unreport: (() => void) | undefined;

  const set = (now: boolean) => {
    if (now === up) return;
    up = now;
    log(now ? 'event bus: answers again; live updates resume' : `event bus: ${missesBeforeDown} pings in a row unanswered within ${timeoutMs} ms; live updates are interrupted`);
    for (const listener of listeners) listener(now);
  };
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      const answered = await within(bus.ping(), timeoutMs).then(() => true, () => false);
      misses = answered ? 0 : misses + 1;
      if (answered) set(true);
      else if (misses >= missesBeforeDown) set(false);
    } finally {
      checking = false;
    }
  };

  return {
    get up() {
      return up;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    start() {
      if (timer) return;
      timer = setInterval(() => void check(), intervalMs);
      timer.unref();
      unreport = reportGauge('gateway_bus_up', 'Whether the gateway event bus answered its last ping in time (1) or not (0).', [], (put) => put({}, up ? 1 : 0));
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      unreport?.();
      listeners.clear();
    },
  };
}
