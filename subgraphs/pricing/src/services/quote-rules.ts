import type { DataSource } from 'typeorm';
import { readInOneRoundTrip } from '../../../../lib/db/data-source.js';
import { embeddedWriteCounter } from '../../../../lib/db/embedded-postgres.js';
import { promotionJson, type RulesRow } from './rules.service.js';

type Promotions = RulesRow['promotions'];
type ListPrice = RulesRow['list_prices'][number];

/** What one preview quote keeps of a store's rules, all read at one `generation` of the tenant's rules. */
interface KeptRules {
  generation: string;
  settings: RulesRow['settings'];
  lists: NonNullable<RulesRow['lists']>;
  taxRows: NonNullable<RulesRow['tax_rows']>;
  /** Automatic promotions without a usage or per-customer limit: nothing but a rule write changes them. */
  promotions: Promotions;
  /** The list prices of each sku a quote asked for (an empty array: none), added to as quotes ask for more. */
  listPrices: Map<string, ListPrice[]>;
}

/** Bounds per process (docs/limits.md): stores kept, skus' list prices kept per store, and whole answers kept on embedded PGlite. */
export const QUOTE_RULES_LIMITS = { stores: 1_000, skusPerStore: 20_000, answers: 1_000 } as const;

/** The write counter of the embedded database a data source is on (none: PostgreSQL), looked up once. */
const countersOf = new WeakMap<DataSource, Int32Array | null>();
function writeCounterOf(dataSource: DataSource): Int32Array | null {
  let counter = countersOf.get(dataSource);
  if (counter === undefined) {
    const url = (dataSource.options as { url?: string }).url;
    counter = (url && embeddedWriteCounter(url)) || null;
    countersOf.set(dataSource, counter);
  }
  return counter;
}

const isKeptPromotion = (p: Promotions[number]) => p.coupon_code === null && p.usage_limit === null && p.per_customer_limit === null;

/**
 * The rules a preview `quote` keeps in memory between quotes, per (tenant, store), under the
 * tenant's rules generation (migration 1740065000000): the store's pricing setting, its price
 * lists and tax rates, the tenant's automatic promotions without limits, and the list prices of
 * the skus quoted so far. Each quote still sends ONE statement, in one round trip: it reads the
 * generation, and in the same snapshot what is never kept (base prices, item facts, the store's
 * existence, coupon promotions and every promotion with a limit, with their use counts as they
 * are now) plus, when the generation is the one kept, only the list prices of skus not kept yet;
 * when it is not, everything, and the store's entry starts again under the new generation.
 * Every committed rule write bumps the generation in its own transaction, so what a quote uses
 * is exactly what its snapshot would have read. Claims (`claimQuote`) never use it.
 */
export class QuoteRulesCache {
  private readonly entries = new Map<string, KeptRules>();
  /** On embedded PGlite: whole answers by tenant, customer and parameters, with the write count they were read at. */
  private readonly answers = new Map<string, { writes: number; row: RulesRow }>();

  constructor(private readonly limits: { stores: number; skusPerStore: number; answers?: number } = QUOTE_RULES_LIMITS) {}

  /**
   * The rules row of a preview quote: `params` are the rules statement's ($1 tenant, $2 store,
   * $3 skus, $4 coupon codes, $5 customer id, $6 promotions to leave out).
   *
   * On embedded PGlite, the same question asked again while no message that may write has begun
   * in the database since the answer was read (its thread's write counter, read before the
   * statement was sent, is unchanged) gets that answer without a round trip: the database is as
   * that read saw it (decision 0050). The answer is shared: no caller changes it.
   */
  async read(dataSource: DataSource, tenantId: string, customerId: string, params: readonly unknown[]): Promise<RulesRow> {
    const writes = writeCounterOf(dataSource);
    if (!writes) return this.readRules(dataSource, tenantId, customerId, params);
    const key = JSON.stringify([tenantId, customerId, params]);
    const known = this.answers.get(key);
    const before = Atomics.load(writes, 0);
    if (known && known.writes === before) return known.row;
    const row = await this.readRules(dataSource, tenantId, customerId, params);
    this.answers.delete(key);
    if (this.answers.size >= (this.limits.answers ?? QUOTE_RULES_LIMITS.answers)) this.answers.delete(this.answers.keys().next().value!);
    this.answers.set(key, { writes: before, row });
    return row;
  }

  private async readRules(dataSource: DataSource, tenantId: string, customerId: string, params: readonly unknown[]): Promise<RulesRow> {
    const storeId = params[1] as string;
    const skus = params[2] as string[];
    const excluded = params[5] as string[];
    const key = `${tenantId}\n${storeId}`;
    const kept = this.entries.get(key);
    const missing = kept ? skus.filter((s) => !kept.listPrices.has(s)) : skus;
    // Taken now: another quote may clear the entry's list prices (its bound) while this one waits.
    const keptPrices = kept ? skus.flatMap((s) => kept.listPrices.get(s) ?? []) : [];
    const [row] = await readInOneRoundTrip<RulesRow & { generation: string }>(
      dataSource, tenantId, keptRulesStatement(String(dataSource.driver.schema)), [...params, kept?.generation ?? '-1', missing], customerId, 'quote_rules',
    );
    const fresh = row!;
    if (kept && fresh.generation === kept.generation) {
      // The same generation: the kept rules are what this snapshot would have read.
      if (missing.length) addListPrices(kept, missing, fresh.list_prices, this.limits.skusPerStore);
      return {
        ...fresh,
        settings: kept.settings,
        lists: kept.lists,
        tax_rows: kept.taxRows,
        list_prices: missing.length ? [...keptPrices, ...fresh.list_prices] : keptPrices,
        promotions: [...kept.promotions.filter((p) => !excluded.includes(p.id)), ...fresh.promotions],
      };
    }
    // Another generation (or nothing kept): this row holds every rule; keep it unless a newer
    // generation is kept already (a quote that began earlier may answer later).
    const current = this.entries.get(key);
    if (excluded.length === 0 && (!current || BigInt(current.generation) < BigInt(fresh.generation))) {
      const entry: KeptRules = {
        generation: fresh.generation,
        settings: fresh.settings,
        lists: fresh.lists ?? [],
        taxRows: fresh.tax_rows ?? [],
        promotions: fresh.promotions.filter(isKeptPromotion),
        listPrices: new Map(),
      };
      addListPrices(entry, skus, fresh.list_prices, this.limits.skusPerStore);
      this.entries.delete(key);
      if (this.entries.size >= this.limits.stores) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, entry);
    }
    return fresh;
  }
}

function addListPrices(entry: KeptRules, skus: readonly string[], rows: readonly ListPrice[], max: number) {
  if (entry.listPrices.size + skus.length > max) entry.listPrices.clear();
  for (const sku of skus) entry.listPrices.set(sku, []);
  for (const row of rows) entry.listPrices.get(row[1])?.push(row);
}

/**
 * The rules statement of a preview quote that keeps rules: $1–$6 as the rules statement's
 * (rules.service.ts), $7 the generation kept ('-1': none), $8 the skus whose list prices are not
 * kept. A part that is kept is NULL (its subquery never runs) when the generation is $7.
 */
const keptRulesStatement = (schema: string) => {
  const q = (table: string) => `"${schema}"."${table}"`;
  const same = 'g.generation = $7::bigint';
  return `WITH g AS (SELECT coalesce((SELECT generation FROM ${q('rules_generation')} WHERE tenant_id = $1), 0) AS generation)
    SELECT
      g.generation::text AS generation,
      EXISTS (SELECT 1 FROM ${q('known_store')} WHERE tenant_id = $1 AND store_id = $2) AS store_known,
      CASE WHEN ${same} THEN NULL ELSE (SELECT json_build_object('currency_code', currency_code, 'prices_include_tax', prices_include_tax)
        FROM ${q('store_pricing')} WHERE tenant_id = $1 AND store_id = $2) END AS settings,
      CASE WHEN ${same} THEN NULL ELSE (SELECT coalesce(json_agg(json_build_array(id, currency_code, store_ids, channel, customer_group, priority, starts_at, ends_at)), '[]')
        FROM ${q('price_list')} WHERE tenant_id = $1 AND (cardinality(store_ids) = 0 OR $2 = ANY(store_ids))) END AS lists,
      CASE WHEN ${same} THEN NULL ELSE (SELECT coalesce(json_agg(json_build_array(category, name, rate::text)), '[]')
        FROM ${q('tax_rate')} WHERE tenant_id = $1 AND store_id = $2) END AS tax_rows,
      (SELECT coalesce(json_agg(json_build_array(sku, amount::text, currency_code)), '[]') FROM ${q('price')}
        WHERE tenant_id = $1 AND store_id = $2 AND sku = ANY($3::text[])) AS base,
      (SELECT coalesce(json_agg(json_build_array(pp.price_list_id, pp.sku, pp.min_quantity, pp.amount::text, pp.starts_at, pp.ends_at)), '[]') FROM ${q('price_list_price')} pp
        WHERE pp.tenant_id = $1 AND pp.sku = ANY(CASE WHEN ${same} THEN $8::text[] ELSE $3::text[] END)
          AND pp.price_list_id IN (SELECT id FROM ${q('price_list')} WHERE tenant_id = $1 AND (cardinality(store_ids) = 0 OR $2 = ANY(store_ids)))) AS list_prices,
      (SELECT coalesce(json_agg(${promotionJson(q('promotion_redemption'))}), '[]')
         FROM ${q('promotion')} p
        WHERE p.tenant_id = $1 AND NOT (p.id = ANY($6::uuid[]))
          AND (p.coupon_code = ANY($4::text[])
            OR p.coupon_code IS NULL AND (NOT ${same} OR p.usage_limit IS NOT NULL OR p.per_customer_limit IS NOT NULL))) AS promotions,
      (SELECT coalesce(json_agg(json_build_array(sku, brand, category_ids)), '[]') FROM ${q('item_facts')}
        WHERE tenant_id = $1 AND sku = ANY($3::text[])) AS facts
    FROM g`;
};
