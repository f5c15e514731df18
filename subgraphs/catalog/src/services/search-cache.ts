/**
 * Storefront search answers kept per tenant, audience and normalized arguments, under the
 * tenant's search generation (decision 0043): the migration 1740053000000-search-generation bumps
 * it, at commit, on any write to what a search reads, so an answer read at generation g is served
 * only while the tenant is still at g — a write is visible in the next search, never a kept answer.
 *
 * Bounded in bytes (`SEARCH_CACHE_MAX_BYTES`, default 32 MiB, 0 turns it off; docs/limits.md):
 * the oldest answers go first. A tenant's answers of an older generation are dropped as soon as a
 * newer generation is seen. Identical searches missing at the same time are computed once.
 */
export const DEFAULT_SEARCH_CACHE_BYTES = 32 * 1024 * 1024;

/** SEARCH_CACHE_MAX_BYTES: a whole number of bytes (0: no cache). */
export function readSearchCacheBytes(env: Record<string, string | undefined> = process.env): number {
  const raw = env.SEARCH_CACHE_MAX_BYTES;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEARCH_CACHE_BYTES;
  if (!/^\d{1,12}$/.test(raw.trim())) throw new Error(`SEARCH_CACHE_MAX_BYTES must be a whole number of bytes (0 turns the search cache off), not "${raw}"`);
  return Number(raw.trim());
}

interface Entry<T> {
  tenantId: string;
  bytes: number;
  value: T;
}

export class SearchAnswerCache<T> {
  /** Insertion order is age: eviction takes from the front. */
  private readonly entries = new Map<string, Entry<T>>();
  private readonly tenants = new Map<string, { generation: string; keys: Set<string> }>();
  private readonly inFlight = new Map<string, Promise<T>>();
  private bytes = 0;
  readonly stats = { hits: 0, misses: 0, evictions: 0, invalidations: 0 };

  constructor(readonly maxBytes: number) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  /** The kept answer for `key` at `generation`, or `compute()` (shared by identical concurrent misses) kept under it. */
  async get(tenantId: string, generation: string, key: string, compute: () => Promise<{ value: T; generation: string }>): Promise<T> {
    this.see(tenantId, generation);
    const full = `${tenantId}\u0000${generation}\u0000${key}`;
    const entry = this.entries.get(full);
    if (entry) {
      this.stats.hits++;
      return entry.value;
    }
    const running = this.inFlight.get(full);
    if (running) {
      this.stats.hits++;
      return running;
    }
    this.stats.misses++;
    const work = compute().then(({ value, generation: at }) => {
      // Kept under the generation it was computed at (read in its own transaction), which may be newer.
      this.see(tenantId, at);
      if (this.tenants.get(tenantId)?.generation === at) this.keep(`${tenantId}\u0000${at}\u0000${key}`, tenantId, value);
      return value;
    });
    this.inFlight.set(full, work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(full);
    }
  }

  /** A tenant's generation seen: its answers of any other generation are dropped (generations only grow). */
  private see(tenantId: string, generation: string): void {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) {
      this.tenants.set(tenantId, { generation, keys: new Set() });
      return;
    }
    if (tenant.generation === generation || BigInt(generation) < BigInt(tenant.generation)) return;
    if (tenant.keys.size) this.stats.invalidations++;
    for (const key of tenant.keys) this.drop(key);
    tenant.generation = generation;
  }

  private keep(key: string, tenantId: string, value: T): void {
    // Approximate bytes: the answer as JSON (UTF-16) and its key.
    const bytes = 2 * (JSON.stringify(value).length + key.length);
    if (bytes > this.maxBytes) return;
    this.drop(key);
    while (this.bytes + bytes > this.maxBytes && this.entries.size > 0) {
      this.drop(this.entries.keys().next().value!);
      this.stats.evictions++;
    }
    this.entries.set(key, { tenantId, bytes, value });
    this.bytes += bytes;
    this.tenants.get(tenantId)!.keys.add(key);
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    const tenant = this.tenants.get(entry.tenantId);
    tenant?.keys.delete(key);
  }
}
