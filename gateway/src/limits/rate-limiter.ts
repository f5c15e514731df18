import { redisClient } from '../../../lib/redis.js';
import { within } from '../../../lib/async/within.js';
import { metrics, reportGauge } from '../../../lib/observability/metrics.js';

/** Fixed one-minute windows per caller: a count, and when the window ends. */
export interface RateLimitStore {
  /** Counts one request of `subject`; returns the count in the current window and the seconds left in it. */
  hit(subject: string): Promise<{ count: number; resetSeconds: number }>;
  /** The count of `subject` in the current window, without counting. */
  peek(subject: string): Promise<{ count: number; resetSeconds: number }>;
  close(): Promise<void>;
}

const WINDOW_MS = 60_000;

export function createMemoryRateLimitStore(): RateLimitStore {
  const windows = new Map<string, { start: number; count: number }>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [subject, window] of windows) if (now - window.start >= WINDOW_MS) windows.delete(subject);
  }, WINDOW_MS);
  sweep.unref();
  const current = (subject: string, now: number) => {
    const window = windows.get(subject);
    return window && now - window.start < WINDOW_MS ? window : undefined;
  };
  return {
    async hit(subject) {
      const now = Date.now();
      let window = current(subject, now);
      if (!window) {
        window = { start: now, count: 0 };
        windows.set(subject, window);
      }
      window.count += 1;
      return { count: window.count, resetSeconds: Math.ceil((window.start + WINDOW_MS - now) / 1000) };
    },
    async peek(subject) {
      const now = Date.now();
      const window = current(subject, now);
      return window ? { count: window.count, resetSeconds: Math.ceil((window.start + WINDOW_MS - now) / 1000) } : { count: 0, resetSeconds: 60 };
    },
    async close() {
      clearInterval(sweep);
    },
  };
}

export interface RedisRateLimitOptions {
  /** Key prefix (default `ratelimit`). */
  prefix?: string;
  /** Longest wait for Redis on a request before counting locally (default 100 ms). */
  timeoutMs?: number;
  /** After Redis failed to answer, how long requests count locally before Redis is tried again (default 1 s). */
  retryMs?: number;
  log?: (message: string) => void;
}

/**
 * Shared by every gateway process: INCR on a key per subject and minute. Fails open to a local
 * count: a request never waits more than `timeoutMs` for Redis (no offline queue, a timeout race);
 * when Redis does not answer, each gateway counts in its own memory (the same limits, per process)
 * until Redis answers again. `redis_up{client="rate_limit"}` and `rate_limit_fallback_total` show it.
 */
export async function createRedisRateLimitStore(url: string, options: RedisRateLimitOptions = {}): Promise<RateLimitStore> {
  const prefix = options.prefix ?? 'ratelimit';
  const timeoutMs = options.timeoutMs ?? 100;
  const retryMs = options.retryMs ?? 1_000;
  const log = options.log ?? console.error;
  // Without the offline queue a command fails at once while the connection is down, instead of waiting for it.
  const client = redisClient(url);
  client.on('error', () => undefined);
  await client.connect();
  const local = createMemoryRateLimitStore();
  let up = true;
  let retryAt = 0;
  let probing = false;
  const unreport = reportGauge('redis_up', 'Whether Redis answered the last command in time (1) or not (0), by client (bus, rate_limit).', ['client'], (set) =>
    set({ client: 'rate_limit' }, up ? 1 : 0),
  );

  /** Runs `command` on Redis within the bound, or answers from the local store. */
  const bounded = async (command: () => Promise<{ count: number; resetSeconds: number }>, fallback: () => Promise<{ count: number; resetSeconds: number }>) => {
    // While Redis is down, one request at a time looks whether it is back; the others count locally.
    if (!up && (probing || Date.now() < retryAt)) {
      metrics.rateLimitFallbacks.inc();
      return fallback();
    }
    probing = !up;
    try {
      const answer = await within(command(), timeoutMs);
      if (!up) log('rate limiter: Redis answers again; counting there');
      up = true;
      return answer;
    } catch (error) {
      if (up) log(`rate limiter: Redis did not answer (${String(error)}); counting in this process until it does`);
      up = false;
      retryAt = Date.now() + retryMs;
      metrics.rateLimitFallbacks.inc();
      return fallback();
    } finally {
      probing = false;
    }
  };

  const windowOf = (subject: string) => {
    const now = Date.now();
    const window = Math.floor(now / WINDOW_MS);
    return { key: `${prefix}:${subject}:${window}`, resetSeconds: Math.ceil(((window + 1) * WINDOW_MS - now) / 1000) };
  };
  return {
    hit: (subject) =>
      bounded(
        async () => {
          const { key, resetSeconds } = windowOf(subject);
          const [count] = (await client.multi().incr(key).pExpire(key, WINDOW_MS).exec()) as unknown as [number];
          return { count: Number(count), resetSeconds };
        },
        () => local.hit(subject),
      ),
    peek: (subject) =>
      bounded(
        async () => {
          const { key, resetSeconds } = windowOf(subject);
          return { count: Number((await client.get(key)) ?? 0), resetSeconds };
        },
        () => local.peek(subject),
      ),
    async close() {
      unreport();
      await local.close();
      await within(client.quit(), 1_000).catch(() => client.destroy());
    },
  };
}
