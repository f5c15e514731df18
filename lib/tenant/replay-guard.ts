import { redisClient } from '../redis.js';
import { within } from '../async/within.js';

/**
 * Remembers the nonces of single-use signed contexts (mutations, writes on plain routes) until
 * they expire, so that a captured one is accepted once. Per process by default; shared by every
 * replica through Redis when REDIS_URL is set (docs/decisions/0013-signatures-bound-to-their-request.md).
 */
export interface ReplayGuard {
  /** True the first time a nonce is seen before `expiresAt`; false when it was used already. */
  claim(nonce: string, expiresAt: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Keeps used nonces in this process's memory until they expire. */
export function createMemoryReplayGuard(): ReplayGuard {
  const used = new Map<string, number>();
  let sweptAt = 0;
  return {
    async claim(nonce, expiresAt) {
      const now = Date.now();
      if (now - sweptAt > 1_000) {
        sweptAt = now;
        for (const [key, expires] of used) if (expires < now) used.delete(key);
      }
      const seen = used.get(nonce);
      if (seen !== undefined && seen >= now) return false;
      used.set(nonce, expiresAt);
      return true;
    },
    async close() {
      used.clear();
    },
  };
}

/**
 * Keeps used nonces in Redis (`SET NX` with an expiry), shared by every replica of every subgraph.
 * A Redis outage must not stop writes (decision 0011): a claim Redis does not answer within
 * `timeoutMs` (default 100) is decided by this process's memory instead, so during an outage a
 * replay is refused by the replica that saw the nonce, not by the others (decision 0013).
 */
export async function createRedisReplayGuard(
  url: string,
  options: { prefix?: string; log?: (message: string) => void; timeoutMs?: number } = {},
): Promise<ReplayGuard> {
  const client = redisClient(url);
  const log = options.log ?? console.error;
  const local = createMemoryReplayGuard();
  let down = false;
  client.on('error', (error) => {
    if (!down) log(`redis (replay guard): ${String(error)}; claims fall back to this process's memory`);
    down = true;
  });
  await client.connect();
  const prefix = options.prefix ?? 'commerce:context-nonce:';
  return {
    async claim(nonce, expiresAt) {
      // Remembered here too, so a replay to this replica is refused whether Redis answers or not.
      if (!(await local.claim(nonce, expiresAt))) return false;
      // A few seconds beyond the expiry: clocks of the gateway, the subgraph and Redis may differ.
      const ttl = Math.max(1_000, expiresAt - Date.now() + 5_000);
      try {
        const answer = await within(client.set(`${prefix}${nonce}`, '1', { condition: 'NX', expiration: { type: 'PX', value: ttl } }), options.timeoutMs ?? 100);
        down = false;
        return answer === 'OK';
      } catch {
        return true;
      }
    },
    async close() {
      await local.close();
      await within(client.quit(), 1_000).catch(() => client.destroy());
    },
  };
}
