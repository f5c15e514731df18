import { redisClient } from '../../../lib/redis.js';
import { within } from '../../../lib/async/within.js';

/** Automatic persisted queries: documents by their SHA-256, kept per tenant. */
export interface PersistedQueryStore {
  get(scope: string, hash: string): Promise<string | undefined>;
  /** Keeps `query` under `hash` for `scope`, dropping that scope's least recently used documents past the bounds. */
  set(scope: string, hash: string, query: string): Promise<void>;
  close(): Promise<void>;
}

/** The bounds of the store (docs/limits.md). */
export const PERSISTED_QUERY_BOUNDS = {
  /** A longer document runs but is not kept (its clients send it whole each time). */
  maxDocumentBytes: 64 * 1024,
  /** Documents one tenant may have kept. */
  maxDocumentsPerTenant: 1_000,
  /** Bytes of documents one tenant may have kept. */
  maxBytesPerTenant: 4 * 1024 * 1024,
  /** Bytes of documents one gateway keeps in memory over all tenants. */
  maxBytesInMemory: 64 * 1024 * 1024,
} as const;

type Bounds = Partial<Record<keyof typeof PERSISTED_QUERY_BOUNDS, number>>;

/** In this process: per tenant, least recently used out first; and all tenants within `maxBytesInMemory`. */
export function createMemoryPersistedQueryStore(bounds: Bounds = {}): PersistedQueryStore & { stats(): { scopes: number; documents: number; bytes: number } } {
  const { maxDocumentsPerTenant, maxBytesPerTenant, maxBytesInMemory } = { ...PERSISTED_QUERY_BOUNDS, ...bounds };
  // Maps keep insertion order: re-inserting on use makes the first entry the least recently used.
  const scopes = new Map<string, { documents: Map<string, string>; bytes: number }>();
  let total = 0;
  const evictOldest = (scope: { documents: Map<string, string>; bytes: number }) => {
    const [hash, query] = scope.documents.entries().next().value as [string, string];
    scope.documents.delete(hash);
    scope.bytes -= query.length;
    total -= query.length;
  };
  return {
    async get(scopeName, hash) {
      const scope = scopes.get(scopeName);
      const query = scope?.documents.get(hash);
      if (!scope || query === undefined) return undefined;
      scope.documents.delete(hash);
      scope.documents.set(hash, query);
      scopes.delete(scopeName);
      scopes.set(scopeName, scope);
      return query;
    },
    async set(scopeName, hash, query) {
      let scope = scopes.get(scopeName);
      if (scope?.documents.has(hash)) return;
      if (!scope) scope = { documents: new Map(), bytes: 0 };
      scopes.delete(scopeName);
      scopes.set(scopeName, scope);
      scope.documents.set(hash, query);
      scope.bytes += query.length;
      total += query.length;
      while (scope.documents.size > maxDocumentsPerTenant || scope.bytes > maxBytesPerTenant) evictOldest(scope);
      // Over all tenants: the least recently used tenant gives up its oldest documents first.
      for (const [name, oldest] of scopes) {
        if (total <= maxBytesInMemory) break;
        while (oldest.documents.size > 0 && total > maxBytesInMemory) evictOldest(oldest);
        if (oldest.documents.size === 0) scopes.delete(name);
      }
    },
    stats() {
      let documents = 0;
      for (const scope of scopes.values()) documents += scope.documents.size;
      return { scopes: scopes.size, documents, bytes: total };
    },
    async close() {
      scopes.clear();
      total = 0;
    },
  };
}

// Adds a document and drops the tenant's least recently used ones past the bounds, atomically.
// KEYS: documents (hash), use order (sorted set), byte count. ARGV: hash, query, now, max documents, max bytes, ttl ms.
const SET_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local total = redis.call('INCRBY', KEYS[3], string.len(ARGV[2]))
while redis.call('ZCARD', KEYS[2]) > tonumber(ARGV[4]) or total > tonumber(ARGV[5]) do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  local length = redis.call('HSTRLEN', KEYS[1], oldest[1])
  redis.call('HDEL', KEYS[1], oldest[1])
  total = redis.call('DECRBY', KEYS[3], length)
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
return 1
`;

/**
 * Shared by every gateway: a hash of documents, their use order and their byte count per tenant
 * in Redis, with an in-process store in front. A request never waits more than `timeoutMs` for
 * Redis: unanswered, a lookup is a miss (the client sends the whole query, which is kept here and
 * in Redis when it answers again).
 */
export async function createRedisPersistedQueryStore(
  url: string,
  options: { prefix?: string; timeoutMs?: number; ttlMs?: number; bounds?: Bounds; log?: (message: string) => void } = {},
): Promise<PersistedQueryStore> {
  const prefix = options.prefix ?? 'apq';
  const timeoutMs = options.timeoutMs ?? 100;
  const ttlMs = options.ttlMs ?? 30 * 24 * 3_600_000;
  const log = options.log ?? console.error;
  const { maxDocumentsPerTenant, maxBytesPerTenant } = { ...PERSISTED_QUERY_BOUNDS, ...options.bounds };
  const client = redisClient(url);
  client.on('error', () => undefined);
  await client.connect();
  const local = createMemoryPersistedQueryStore(options.bounds);
  const keys = (scope: string) => [`${prefix}:{${scope}}:documents`, `${prefix}:{${scope}}:used`, `${prefix}:{${scope}}:bytes`];
  let warned = false;
  const failed = (error: unknown) => {
    if (!warned) log(`persisted queries: Redis did not answer (${String(error)}); using this gateway's own documents`);
    warned = true;
  };
  return {
    async get(scope, hash) {
      const kept = await local.get(scope, hash);
      if (kept !== undefined) return kept;
      try {
        const query = await within(client.hGet(keys(scope)[0]!, hash), timeoutMs);
        warned = false;
        if (query === null || query === undefined) return undefined;
        await local.set(scope, hash, query);
        return query;
      } catch (error) {
        failed(error);
        return undefined;
      }
    },
    async set(scope, hash, query) {
      await local.set(scope, hash, query);
      try {
        await within(
          client.eval(SET_SCRIPT, { keys: keys(scope), arguments: [hash, query, String(Date.now()), String(maxDocumentsPerTenant), String(maxBytesPerTenant), String(ttlMs)] }),
          timeoutMs,
        );
        warned = false;
      } catch (error) {
        failed(error);
      }
    },
    async close() {
      await local.close();
      await within(client.quit(), 1_000).catch(() => client.destroy());
    },
  };
}
