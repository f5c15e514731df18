import { appError } from '../../lib/errors.js';

export interface ResolvedTenant {
  id: string;
  slug: string;
}

export interface TenantResolver {
  /** The tenant a request is for, from `x-tenant-id` (slug or id), else the `Host` header. */
  resolve(headers: Headers): Promise<ResolvedTenant>;
}

interface CacheEntry {
  value: ResolvedTenant | null;
  expires: number;
}

/**
 * Asks the tenant subgraph (a read, through its non-public `resolveTenant` field) and caches
 * answers: known tenants for `ttlMs` (default 30 s), unknown ones for 5 s.
 */
export function createTenantResolver(options: { tenantSubgraphUrl: string; ttlMs?: number; fetch?: typeof fetch }): TenantResolver {
  const ttl = options.ttlMs ?? 30_000;
  const doFetch = options.fetch ?? fetch;
  const cache = new Map<string, CacheEntry>();

  const lookup = async (args: { slug?: string; host?: string }): Promise<ResolvedTenant | null> => {
    const key = args.slug !== undefined ? `slug:${args.slug}` : `host:${args.host}`;
    const hit = cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    let body: { data?: { resolveTenant: ResolvedTenant | null }; errors?: unknown[] };
    try {
      const response = await doFetch(options.tenantSubgraphUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'query ($slug: String, $host: String) { resolveTenant(slug: $slug, host: $host) { id slug } }',
          variables: args,
        }),
      });
      body = (await response.json()) as typeof body;
    } catch {
      throw appError('SERVICE_UNAVAILABLE', 'The tenant directory is unavailable; try again.');
    }
    if (!body.data) throw appError('SERVICE_UNAVAILABLE', 'The tenant directory is unavailable; try again.');
    const value = body.data.resolveTenant;
    cache.set(key, { value, expires: Date.now() + (value ? ttl : 5_000) });
    return value;
  };

  return {
    async resolve(headers) {
      const slug = headers.get('x-tenant-id')?.trim();
      if (slug) {
        const tenant = await lookup({ slug });
        if (!tenant) throw appError('UNAUTHENTICATED', `Unknown tenant "${slug}".`);
        return tenant;
      }
      const host = headers.get('host')?.toLowerCase().replace(/:\d+$/, '');
      const tenant = host ? await lookup({ host }) : null;
      if (!tenant) {
        throw appError('UNAUTHENTICATED', 'No tenant: send x-tenant-id or use a host name of the tenant.');
      }
      return tenant;
    },
  };
}
