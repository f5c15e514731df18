import { GATEWAY_CALLER, type SubgraphClient } from '../subgraph-client.js';

export interface ResolvedTenant {
  id: string;
  slug: string;
}

export interface ApiKeyIdentity {
  apiKeyId: string;
  role: string;
  storeIds: string[] | null;
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

/**
 * Asks the tenant subgraph through its non-public fields, as the `gateway` role. Tenants are
 * cached for `ttlMs` (default 30 s), API keys for 5 s (and dropped on revocation events),
 * unknown answers for 5 s (so a repeated bad key or slug is one lookup, not one per request). At
 * most `maxEntries` answers are kept (default 10,000): guessed keys cannot grow it without bound.
 */
export function createTenantDirectory(options: { client: SubgraphClient; subgraph?: string; ttlMs?: number; maxEntries?: number }): TenantDirectory {
  const subgraph = options.subgraph ?? 'tenant';
  const unavailableMessage = 'The tenant directory is unavailable; try again.';
  const ttl = options.ttlMs ?? 30_000;
  const max = options.maxEntries ?? 10_000;
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

  const ask = async <T>(cacheKey: string, query: string, variables: Record<string, unknown>, field: string, keepMs: number): Promise<T | null> => {
    const hit = cache.get(cacheKey);
    if (hit && hit.expires > Date.now()) return hit.value as T | null;
    const body = await options.client.query<Record<string, T | null>>(subgraph, { query, variables }, { caller: GATEWAY_CALLER, unavailableMessage });
    if (!body.data) throw options.client.unavailable(subgraph, unavailableMessage);
    const value = body.data[field] ?? null;
    keep(cacheKey, { value, expires: Date.now() + (value ? keepMs : 5_000), fetchedAt: Date.now() });
    return value;
  };

  const tenantQuery = 'query GatewayResolveTenant($slug: String, $host: String) { resolveTenant(slug: $slug, host: $host) { id slug } }';
  return {
    bySlug: (slug) => ask(`slug:${slug}`, tenantQuery, { slug }, 'resolveTenant', ttl),
    byHost: (host) => ask(`host:${host}`, tenantQuery, { host }, 'resolveTenant', ttl),
    byApiKeyHash: (keyHash) =>
      ask(
        `key:${keyHash}`,
        'query GatewayApiKey($keyHash: String!) { authenticateApiKey(keyHash: $keyHash) { apiKeyId role storeIds tenant { id slug } } }',
        { keyHash },
        'authenticateApiKey',
        5_000,
      ),
    forgetApiKey: (keyHash) => void cache.delete(`key:${keyHash}`),
    async webhookSecret(tenantSlug, source, fresh) {
      const key = `webhook:${source}:${tenantSlug}`;
      if (fresh) cache.delete(key);
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
      for (const key of cache.keys()) if (key.startsWith('webhook:')) cache.delete(key);
    },
  };
}
