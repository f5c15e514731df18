import { GATEWAY_CALLER, type SubgraphClient } from '../subgraph-client.js';

export interface ResolvedTenant {
  id: string;
  slug: string;
}

export interface ApiKeyIdentity {
  apiKeyId: string;
  role: string;
  storeIds: string[] | null;
  /** Runs only the tenant's published persisted documents. */
  persistedDocumentsOnly?: boolean;
  tenant: ResolvedTenant;
}

/** The gateway's view of the tenant subgraph: tenants by slug or host, API keys by hash; cached. */
export interface TenantDirectory {
  bySlug(slug: string): Promise<ResolvedTenant | null>;
  byHost(host: string): Promise<ResolvedTenant | null>;
  byApiKeyHash(keyHash: string): Promise<ApiKeyIdentity | null>;
  /** Forgets a key at once (its revocation event arrived). */
  forgetApiKey(keyHash: string): void;
  /** A tenant's secret for a webhook source, by tenant slug; `fresh` skips the cache. */
  webhookSecret(tenantSlug: string, source: string, fresh?: boolean): Promise<WebhookSecret | null>;
  /** Forgets every cached webhook secret (a source was configured or rotated). */
  forgetWebhookSecrets(): void;
  /**
   * A published persisted document of the tenant by its id (the SHA-256 of its body). A document
   * found is kept (its id is its body's hash: it never changes; 16 MiB of them, least recently used
   * out first); one not found is asked again next time, so it runs as soon as it is published.
   */
  persistedDocument(tenantId: string, documentId: string): Promise<string | null>;
}

export interface WebhookSecret {
  tenantId: string;
  source: string;
  secret: string;
  currencyCode: string;
  /** When the gateway fetched it. */
  fetchedAt: number;
}

interface Entry<T> {
  value: T;
  expires: number;
  fetchedAt: number;
}

export interface TenantDirectoryOptions {
  /** Calls the tenant subgraph (`subgraph`, default `tenant`). */
  client: SubgraphClient;
  subgraph?: string;
  ttlMs?: number;
  maxEntries?: number;
  /** Lookups sent to the tenant subgraph at once (default 16); more wait their turn. */
  maxConcurrentLookups?: number;
  /** Tries of a lookup that found the tenant subgraph unavailable (default 3), 50 ms, 200 ms … apart with jitter. */
  attempts?: number;
  /** How long an expired tenant is still answered while the tenant subgraph is unavailable (default 10 min). */
  staleIfErrorMs?: number;
}

/**
 * Asks the tenant subgraph through its non-public fields, as the `gateway` role. Tenants are
 * cached for `ttlMs` (default 30 s), API keys for 5 s (and dropped on revocation events),
 * unknown answers for 5 s (so a repeated bad key or slug is one lookup, not one per request). At
 * most `maxEntries` answers are kept (default 10,000): guessed keys cannot grow it without bound.
 *
 * A connection storm (a POS fleet reconnecting at once) must not become a lookup storm: callers
 * waiting for the same answer share one lookup (single-flight), at most `maxConcurrentLookups`
 * go to the tenant subgraph at once, a lookup that finds it unavailable is tried again, and a
 * tenant (never an API key) whose entry expired is still answered from the cache while the
 * subgraph stays unavailable. What still fails is SERVICE_UNAVAILABLE: retryable, never UNAUTHENTICATED.
 */
export function createTenantDirectory(options: TenantDirectoryOptions): TenantDirectory {
  const subgraph = options.subgraph ?? 'tenant';
  const unavailableMessage = 'The tenant directory is unavailable; try again.';
  const ttl = options.ttlMs ?? 30_000;
  const max = options.maxEntries ?? 10_000;
  const attempts = Math.max(1, options.attempts ?? 3);
  const staleIfError = options.staleIfErrorMs ?? 10 * 60_000;
  const inFlight = new Map<string, Promise<unknown>>();
  const turns = createTurns(options.maxConcurrentLookups ?? 16);
  const cache = new Map<string, Entry<unknown>>();
  const keep = (key: string, entry: Entry<unknown>) => {
    if (cache.size >= max) {
      const now = Date.now();
      for (const [k, e] of cache) if (e.expires <= now) cache.delete(k);
      // Still full of live answers: the oldest goes.
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
    }
    cache.set(key, entry);
  };

  /** One request to the tenant subgraph: the field's answer, or SERVICE_UNAVAILABLE. */
  const lookup = async <T>(query: string, variables: Record<string, unknown>, field: string): Promise<T | null> => {
    const body = await options.client.query<Record<string, T | null>>(subgraph, { query, variables }, { caller: GATEWAY_CALLER, unavailableMessage });
    if (!body.data) throw options.client.unavailable(subgraph, unavailableMessage);
    return body.data[field] ?? null;
  };

  /** Tries a lookup again while the tenant subgraph is unavailable (refused, reset, overloaded). */
  const lookupWithRetries = async <T>(query: string, variables: Record<string, unknown>, field: string): Promise<T | null> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await turns.run(() => lookup<T>(query, variables, field));
      } catch (error) {
        if (attempt >= attempts || !isUnavailable(error)) throw error;
        // 50 ms, 200 ms, 800 ms …, each with up to as much again of jitter: retries of a storm spread out.
        const wait = 50 * 4 ** (attempt - 1);
        await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * wait));
      }
    }
  };

  const ask = async <T>(
    cacheKey: string,
    query: string,
    variables: Record<string, unknown>,
    field: string,
    keepMs: number,
    stale: 'stale-if-error' | 'never' = 'never',
  ): Promise<T | null> => {
    const hit = cache.get(cacheKey);
    if (hit && hit.expires > Date.now()) return hit.value as T | null;
    const running = inFlight.get(cacheKey);
    if (running) return running as Promise<T | null>;
    // Assigned before the lookup can answer; compared with inFlight then.
    let answer: Promise<T | null> | undefined;
    // eslint-disable-next-line prefer-const -- the lookup reads it, so it is declared first
    answer = (async () => {
      try {
        const value = await lookupWithRetries<T>(query, variables, field);
        // Forgotten meanwhile (a revocation event): this answer may predate it, so it is not kept.
        if (inFlight.get(cacheKey) === answer) keep(cacheKey, { value, expires: Date.now() + (value ? keepMs : 5_000), fetchedAt: Date.now() });
        return value;
      } catch (error) {
        if (stale === 'stale-if-error' && hit?.value && isUnavailable(error) && Date.now() - hit.expires < staleIfError) return hit.value as T;
        throw error;
      } finally {
        if (inFlight.get(cacheKey) === answer) inFlight.delete(cacheKey);
      }
    })();
    inFlight.set(cacheKey, answer);
    return answer;
  };
  const forget = (cacheKey: string) => {
    cache.delete(cacheKey);
    inFlight.delete(cacheKey);
  };

  // Published documents found, least recently used first out past 16 MiB: a document never changes (its id is its body's hash).
  const documents = new Map<string, string>();
  const maxDocumentBytes = 16 * 1024 * 1024;
  let documentBytes = 0;
  const tenantQuery = 'query GatewayResolveTenant($slug: String, $host: String) { resolveTenant(slug: $slug, host: $host) { id slug } }';
  return {
    bySlug: (slug) => ask(`slug:${slug}`, tenantQuery, { slug }, 'resolveTenant', ttl, 'stale-if-error'),
    byHost: (host) => ask(`host:${host}`, tenantQuery, { host }, 'resolveTenant', ttl, 'stale-if-error'),
    byApiKeyHash: (keyHash) =>
      ask(
        `key:${keyHash}`,
        'query GatewayApiKey($keyHash: String!) { authenticateApiKey(keyHash: $keyHash) { apiKeyId role storeIds persistedDocumentsOnly tenant { id slug } } }',
        { keyHash },
        'authenticateApiKey',
        5_000,
      ),
    forgetApiKey: (keyHash) => forget(`key:${keyHash}`),
    async webhookSecret(tenantSlug, source, fresh) {
      const key = `webhook:${source}:${tenantSlug}`;
      if (fresh) forget(key);
      const found = await ask<Omit<WebhookSecret, 'fetchedAt'>>(
        key,
        'query GatewayWebhookSecret($tenantSlug: String!, $source: String!) { webhookSecret(tenantSlug: $tenantSlug, source: $source) { tenantId source secret currencyCode } }',
        { tenantSlug, source },
        'webhookSecret',
        ttl,
      );
      return found ? { ...found, fetchedAt: cache.get(key)?.fetchedAt ?? Date.now() } : null;
    },
    forgetWebhookSecrets: () => {
      for (const key of [...cache.keys(), ...inFlight.keys()]) if (key.startsWith('webhook:')) forget(key);
    },
    async persistedDocument(tenantId, documentId) {
      const key = `${tenantId}:${documentId}`;
      const kept = documents.get(key);
      if (kept !== undefined) {
        // Re-inserted: the first entry is the least recently used.
        documents.delete(key);
        documents.set(key, kept);
        return kept;
      }
      const lookupKey = `document:${key}`;
      const body = await ask<string>(
        lookupKey,
        'query GatewayPersistedDocument($tenantId: ID!, $id: String!) { persistedDocument(tenantId: $tenantId, id: $id) }',
        { tenantId, id: documentId },
        'persistedDocument',
        0,
      );
      // Not kept in the answer cache: a document is kept below (bounded by bytes), a miss not at all.
      forget(lookupKey);
      if (body === null) return null;
      documents.set(key, body);
      documentBytes += body.length;
      while (documentBytes > maxDocumentBytes) {
        const [oldest, text] = documents.entries().next().value as [string, string];
        documents.delete(oldest);
        documentBytes -= text.length;
      }
      return body;
    },
  };
}

const isUnavailable = (error: unknown) => (error as { extensions?: { code?: unknown } } | null)?.extensions?.code === 'SERVICE_UNAVAILABLE';

/** At most `limit` tasks run at once; the others wait in arrival order. */
function createTurns(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      else running += 1;
      try {
        return await task();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else running -= 1;
      }
    },
  };
}
