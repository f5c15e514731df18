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
  /** A ping unanswered this long means the bus is down (default 1 s). */
  timeoutMs?: number;
  log?: (message: string) => void;
}

/**
 * Pings the bus every `intervalMs`; one ping unanswered within `timeoutMs` (a stopped or
 * unreachable Redis) marks it down, the next answered one up again. Reported as `gateway_bus_up`.
 */
export function createBusMonitor(bus: EventBus, options: BusMonitorOptions = {}): BusMonitor {
  const intervalMs = options.intervalMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const log = options.log ?? console.error;
  const listeners = new Set<(up: boolean) => void>();
  let up = true;
  let timer: NodeJS.Timeout | undefined;
  let checking = false;
  let unreport: (() => void) | undefined;

  const set = (now: boolean) => {
    if (now === up) return;
    up = now;
    log(now ? 'event bus: answers again; live updates resume' : `event bus: no answer within ${timeoutMs} ms; live updates are interrupted`);
    for (const listener of listeners) listener(now);
  };
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      set(await within(bus.ping(), timeoutMs).then(() => true, () => false));
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
