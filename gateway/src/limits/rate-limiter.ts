import { createClient } from 'redis';

/** Fixed one-minute windows per caller: a count, and when the window ends. */
export interface RateLimitStore {
  /** Counts one request of `subject`; returns the count in the current window and the seconds left in it. */
  hit(subject: string): Promise<{ count: number; resetSeconds: number }>;
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
  return {
    async hit(subject) {
      const now = Date.now();
      let window = windows.get(subject);
      if (!window || now - window.start >= WINDOW_MS) {
        window = { start: now, count: 0 };
        windows.set(subject, window);
      }
      window.count += 1;
      return { count: window.count, resetSeconds: Math.ceil((window.start + WINDOW_MS - now) / 1000) };
    },
    async close() {
      clearInterval(sweep);
    },
  };
}

/** Shared by every gateway process: INCR on a key per subject and minute. */
export async function createRedisRateLimitStore(url: string, prefix = 'ratelimit'): Promise<RateLimitStore> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return {
    async hit(subject) {
      const now = Date.now();
      const window = Math.floor(now / WINDOW_MS);
      const key = `${prefix}:${subject}:${window}`;
      const [count] = (await client.multi().incr(key).pExpire(key, WINDOW_MS).exec()) as unknown as [number];
      return { count: Number(count), resetSeconds: Math.ceil(((window + 1) * WINDOW_MS - now) / 1000) };
    },
    async close() {
      await client.quit().catch(() => undefined);
    },
  };
}
