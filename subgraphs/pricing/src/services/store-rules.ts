import type { EntityManager } from 'typeorm';

/** A price list as stored (any currency, time window, channel and group: the caller picks). */
export interface PriceListRow {
  id: string;
  currency_code: string;
  store_ids: string[];
  channel: string | null;
  customer_group: string | null;
  priority: number;
  starts_at: Date | null;
  ends_at: Date | null;
}

/**
 * The rules of one store that change only through a rule write (`pricing.rules.changed`): its
 * pricing setting, the price lists that apply to it (every currency, window, channel and group)
 * and its tax rates. Prices, list prices, promotions (their use counts move with every claim)
 * and item facts are read per request.
 */
export interface StoreRules {
  settings: { currency_code: string; prices_include_tax: boolean } | undefined;
  lists: PriceListRow[];
  taxRows: { category: string; name: string; rate: string }[];
}

export type StoreRulesLoader = (m: EntityManager, tenantId: string, storeId: string) => Promise<StoreRules>;

const q = (m: EntityManager, table: string) => `"${m.connection.driver.schema}"."${table}"`;

/** Reads a store's rules in the caller's transaction. */
export const loadStoreRules: StoreRulesLoader = async (m, tenantId, storeId) => {
  const [settings]: { currency_code: string; prices_include_tax: boolean }[] = await m.query(
    `SELECT currency_code, prices_include_tax FROM ${q(m, 'store_pricing')} WHERE tenant_id = $1 AND store_id = $2`,
    [tenantId, storeId],
  );
  const lists: PriceListRow[] = await m.query(
    `SELECT id, currency_code, store_ids, channel, customer_group, priority, starts_at, ends_at FROM ${q(m, 'price_list')}
      WHERE tenant_id = $1 AND (cardinality(store_ids) = 0 OR $2 = ANY(store_ids))`,
    [tenantId, storeId],
  );
  const taxRows: { category: string; name: string; rate: string }[] = await m.query(
    `SELECT category, name, rate::text FROM ${q(m, 'tax_rate')} WHERE tenant_id = $1 AND store_id = $2`,
    [tenantId, storeId],
  );
  return { settings, lists, taxRows };
};

/** The price lists of a store's rules that apply: in `currencyCode`, open at `now`, for that channel and group (null: only lists for every channel / group). */
export const applicableLists = (lists: readonly PriceListRow[], currencyCode: string, now: Date, channel: string | null, customerGroup: string | null) =>
  lists.filter(
    (l) =>
      l.currency_code.trim() === currencyCode &&
      (l.starts_at === null || l.starts_at <= now) &&
      (l.ends_at === null || l.ends_at > now) &&
      (l.channel === null || l.channel === channel) &&
      (l.customer_group === null || l.customer_group === customerGroup),
  );

/** How long a process keeps a store's rules that another process may have changed (a rule write in this process clears them at once). */
export const STORE_RULES_TTL_MS = 2_000;
const MAX_STORES = 1_000;

/**
 * Store rules kept per (tenant, store) for the storefront's shown prices (`Variant.price`), which
 * every subscription event and product page asks for: three reads fewer per store and request.
 * A rule write in this process clears the tenant's entries when it commits, and a read that began
 * before that write does not put its answer back (a per-tenant generation); a write made by another
 * pricing process is seen within `ttlMs`. Quotes (what checkout charges) never read from it.
 */
export class StoreRulesCache {
  private readonly entries = new Map<string, { rules: StoreRules; at: number }>();
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly read: StoreRulesLoader = loadStoreRules,
    private readonly ttlMs = STORE_RULES_TTL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  readonly load: StoreRulesLoader = async (m, tenantId, storeId) => {
    const key = `${tenantId}\n${storeId}`;
    const kept = this.entries.get(key);
    if (kept && this.now() - kept.at < this.ttlMs) return kept.rules;
    const generation = this.generations.get(tenantId) ?? 0;
    const at = this.now();
    const rules = await this.read(m, tenantId, storeId);
    if ((this.generations.get(tenantId) ?? 0) === generation) {
      this.entries.delete(key);
      if (this.entries.size >= MAX_STORES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { rules, at });
    }
    return rules;
  };

  /** A rule of the tenant changed (and committed): its stores' rules are read again. */
  invalidate(tenantId: string): void {
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
    for (const key of this.entries.keys()) if (key.startsWith(`${tenantId}\n`)) this.entries.delete(key);
  }
}
