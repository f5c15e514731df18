import type { createClient } from 'redis';

/** A client of the `redis` package. */
export type RedisClient = ReturnType<typeof createClient>;

/**
 * A Redis client without the offline queue: while the connection is down a command fails at once
 * instead of waiting for it (every caller has a fallback for an outage). The `redis` package is
 * loaded on first use, so a process without `REDIS_URL` never loads it (about 420 modules and
 * 18 MB of a process's memory: the gateway's resident memory is one of issue 20's targets).
 */
export function redisClient(url: string): RedisClient {
  const { createClient: create } = require('redis') as typeof import('redis');
  return create({ url, disableOfflineQueue: true });
}
