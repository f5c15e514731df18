import { In, type EntityManager } from 'typeorm';
import { readInOneRoundTrip } from '../../../../lib/db/data-source.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { on, type Reaction } from '../../../../lib/events/on.js';
import { badInput } from '../../../../lib/errors.js';
import { isUuid, requireTenant } from '../../../../lib/graphql/context.js';
import { pageSize } from '../../../../lib/graphql/pagination.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import type { EventEnvelope } from '../../../../lib/events/envelope.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { ProductEntity } from '../data/entities/product.entity.js';
import { definitionsSql, type AttributeDefinition } from './attributes.service.js';
import { readSearchCacheBytes, SearchAnswerCache } from './search-cache.js';
import { seesDrafts } from './audience.js';
import { readSearchIndexMaxProducts, SearchIndex, type RawSearch } from './search-index.js';

export type SearchSortName = 'RELEVANCE' | 'PRICE_ASC' | 'PRICE_DESC' | 'NEWEST' | 'TITLE';

export interface SearchArgs {
  query?: string | null;
  filter?: {
    categoryIds?: readonly string[] | null;
    brands?: readonly string[] | null;
    attributes?: readonly { name: string; values?: readonly string[] | null; min?: number | null; max?: number | null }[] | null;
    price?: { min?: string | null; max?: string | null } | null;
    inStock?: boolean | null;
  } | null;
  sort?: SearchSortName | null;
  storeId?: string | null;
  first?: number | null;
  after?: string | null;
}

export interface SearchFacet {
  name: string;
  label: string;
  values: { value: string; label: string; count: number }[];
}

export interface SearchResult {
  totalCount: number;
  edges: { cursor: string; node: ProductEntity }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  facets: SearchFacet[];
}

/** Longest search text (the bound; docs/limits.md). */
export const MAX_SEARCH_QUERY = 200;
/** Upper bounds of the price buckets (the search function's width_bucket uses the same). */
const PRICE_BOUNDS = [10, 25, 50, 100, 250, 500];
const DECIMAL = /^(0|[1-9]\d{0,14})(\.\d{1,4})?$/;
/** Most words a synonym group, and most groups a tenant, may have. */
export const MAX_SYNONYM_GROUPS = 100;

/** The storefront's search: a read model in the catalog database (decision 0018). */
export class SearchService extends TenantScopedService {
  /** Answers kept until the tenant's next write to what a search reads (search-cache.ts). */
  readonly cache = new SearchAnswerCache<SearchResult>(readSearchCacheBytes());
  /** Filters, facets, sorts and pages from memory; the database only matches the words (search-index.ts, decision 0049). */
  readonly index = new SearchIndex(this.dataSource, readSearchIndexMaxProducts());

  async search(ctx: SubgraphContext, args: SearchArgs): Promise<SearchResult> {
    const limit = pageSize(args.first);
    const query = args.query?.trim() || null;
    if (query && query.length > MAX_SEARCH_QUERY) throw badInput(`query is longer than ${MAX_SEARCH_QUERY} characters`, 'query');
    const filter = args.filter ?? {};
    const store = args.storeId ?? null;
    if (store !== null && !isUuid(store)) throw badInput('storeId is not a store id', 'storeId');
    const priceMin = decimal(filter.price?.min, 'filter.price.min');
    const priceMax = decimal(filter.price?.max, 'filter.price.max');
    if (priceMin !== null && priceMax !== null && Number(priceMin) > Number(priceMax)) throw badInput('filter.price.min is greater than max', 'filter.price');
    if ((filter.price || (filter.inStock !== null && filter.inStock !== undefined)) && !store) {
      throw badInput('price and inStock are evaluated in a store: pass storeId with them', 'storeId');
    }
    const attributeFilters = filter.attributes ?? [];
    for (const a of attributeFilters) {
      if (a.min != null && a.max != null && a.min > a.max) throw badInput(`filter.attributes: "${a.name}" has min greater than max`, 'filter.attributes');
      if (!Number.isFinite(a.min ?? 0) || !Number.isFinite(a.max ?? 0)) throw badInput('filter.attributes: min and max must be finite', 'filter.attributes');
    }
    if (new Set(attributeFilters.map((a) => a.name)).size !== attributeFilters.length) throw badInput('filter.attributes names an attribute twice', 'filter.attributes');
    const categoryIds = filter.categoryIds ?? null;
    if (categoryIds?.some((id) => !isUuid(id))) throw badInput('filter.categoryIds holds an id that is not a category id', 'filter.categoryIds');
    const sort: SearchSortName = args.sort ?? (query ? 'RELEVANCE' : 'NEWEST');
    if (sort === 'RELEVANCE' && !query) throw badInput('sort RELEVANCE needs a query', 'sort');
    const after = decodeSearchCursor(args.after, sort);

    const compute = () => this.tx(ctx, async (m, tenantId) => {
      // The generation first (the data this transaction sees is never older), with the definitions
      // and, when the index will match them, the words' expansion (decision 0053) in the same round trip.
      const expand = query !== null && this.index.matchesWords(tenantId);
      const [{ generation, definitions, tsquery }]: [{ generation: string; definitions: AttributeDefinition[]; tsquery?: string | null }] = await m.query(
        `SELECT coalesce((${GENERATION_SQL(m.connection.driver.schema!)}), '0') AS generation, (${definitionsSql(m)}) AS definitions` +
          (expand ? `, "${m.connection.driver.schema}".storefront_search_tsquery($2) AS tsquery` : ''),
        expand ? [tenantId, query] : [tenantId],
      );
      const attrs = attributeFilters.length ? attributeConditions(attributeFilters, definitions) : null;
      const fromIndex = await this.index.search(m, tenantId, generation, {
        query, drafts: seesDrafts(ctx), store, brands: filter.brands ?? null, categoryIds, priceMin, priceMax, inStock: filter.inStock ?? null,
        sort, afterKey: after?.key ?? null, afterSeq: after?.seq ?? null, page: limit + 1, attributes: attrs,
        facetAttributes: new Set(definitions.filter((d) => d.filterable).map((d) => d.name)),
      }, expand ? { tsquery: tsquery ?? null } : undefined);
      const [{ result }]: [{ result: RawSearch | null }] = fromIndex ? [{ result: fromIndex }] : await m.query(
        `SELECT "${m.connection.driver.schema}".storefront_search($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) AS result`,
        [query, seesDrafts(ctx), store, filter.brands ?? null, categoryIds, priceMin, priceMax, filter.inStock ?? null, sort, after?.key ?? null, after?.seq ?? null, limit + 1,
          attrs && JSON.stringify(attrs), definitions.some((d) => d.filterable)],
      );
      const raw: RawSearch = result ?? { total: 0, page: [], brands: [], categories: [], prices: [], stock: [] };
      const page = raw.page.slice(0, limit);
      const ids = page.map(([id]) => id);
      // The page's products, and the facets' category labels with them (one round trip, not two).
      const filed = raw.categories.map(([id]) => id);
      let products: ProductEntity[] = [];
      let categories: FacetCategory[] | undefined;
      if (ids.length && filed.length) {
        const { entities, raw: rows } = await m
          .getRepository(ProductEntity)
          .createQueryBuilder('p')
          .where('p.tenantId = :tenantId AND p.id IN (:...ids)', { tenantId, ids })
          .addSelect(`(SELECT json_agg(json_build_object('id', c.id, 'name', c.name, 'path_ids', c.path_ids)) FROM (${CATEGORIES_SQL(m, ':tenantId', ':filed')}) c)`, 'facet_categories')
          .setParameter('filed', filed)
          .getRawAndEntities<{ facet_categories: FacetCategory[] | null }>();
        products = entities;
        categories = rows[0]?.facet_categories ?? [];
      } else if (ids.length) products = await m.getRepository(ProductEntity).findBy({ tenantId, id: In(ids) });
      const byId = new Map(products.map((p) => [p.id, p]));
      const edges = page.flatMap(([id, seq, key]) => {
        const node = byId.get(id);
        return node ? [{ cursor: encodeSearchCursor(sort, key, seq), node }] : [];
      });
      const value: SearchResult = {
        totalCount: raw.total,
        edges,
        pageInfo: { hasNextPage: raw.page.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
        facets: [...(await facetsOf(m, tenantId, raw, store !== null, categories)), ...attributeFacets(raw, definitions)],
      };
      return { value, generation };
    });
    if (!this.cache.enabled) return (await compute()).value;
    // Keyed by audience (drafts or not) and the arguments as the search function receives them.
    const key = JSON.stringify([seesDrafts(ctx), query, store, filter.brands ?? null, categoryIds, priceMin, priceMax, filter.inStock ?? null, attributeFilters, sort, after ?? null, limit]);
    // One round trip (BEGIN, the settings, the read and COMMIT in one message): on a hit it is all
    // the database work a search does, and on the embedded default every transaction's round trips
    // hold PGlite's one session.
    const tenantId = requireTenant(ctx);
    const [row] = await readInOneRoundTrip<{ generation: string }>(this.dataSource, tenantId, GENERATION_SQL(this.dataSource.driver.schema!), [tenantId], ctx.customerId ?? '', 'search_generation');
    return this.cache.get(tenantId, row?.generation ?? '0', key, compute);
  }

  /** Replaces the tenant's synonym groups; each word of a group finds the others. */
  async setSynonyms(ctx: SubgraphContext, groups: readonly (readonly string[])[]): Promise<string[][]> {
    if (groups.length > MAX_SYNONYM_GROUPS) throw badInput(`at most ${MAX_SYNONYM_GROUPS} synonym groups`, 'groups');
    const cleaned = groups.map((group) => [...new Set(group.map((word) => word.trim().toLowerCase()).filter(Boolean))]);
    if (cleaned.some((group) => group.length < 2)) throw badInput('a synonym group needs at least two different words', 'groups');
    const stored = await this.tx(ctx, async (m, tenantId) => {
      const s = m.connection.driver.schema;
      await m.query(`DELETE FROM "${s}".search_synonym WHERE tenant_id = $1`, [tenantId]);
      const pairs = cleaned.flatMap((group) => group.flatMap((term) => group.filter((other) => other !== term).map((other) => [term, other])));
      // A multi-word entry is found by its group's single words (a query is matched word by word).
      const single = pairs.filter(([term]) => !/\s/.test(term!));
      await m.query(
        `INSERT INTO "${s}".search_synonym (tenant_id, term, synonym)
         SELECT $1::uuid, t, y FROM unnest($2::text[], $3::text[]) AS x(t, y) ON CONFLICT DO NOTHING`,
        [tenantId, single.map(([t]) => fold(t!)), single.map(([, y]) => fold(y!))],
      );
      // Cached storefront answers may change: the gateway forgets them on the event.
      await outboxOf('catalog')(m, tenantId, 'catalog.search.synonyms-set', { groups: cleaned });
      return cleaned;
    });
    await this.afterCommit();
    return stored;
  }
}

/** The tenant's search generation (bumped at commit by every write to what a search reads). */
const GENERATION_SQL = (schema: string) => `SELECT generation::text AS generation FROM "${schema}".search_generation WHERE tenant_id = $1`;

interface FacetCategory {
  id: string;
  name: string;
  path_ids: string[] | null;
}

/** The filed categories and their ancestors in one read (each filed category's path holds its ancestors and itself). */
const CATEGORIES_SQL = (m: EntityManager, tenant: string, filed: string) =>
  `SELECT c.id, c.name, c.path_ids FROM "${m.connection.driver.schema}".category c
    WHERE c.tenant_id = ${tenant} AND c.id IN (SELECT unnest(coalesce(f.path_ids, ARRAY[f.id])) FROM "${m.connection.driver.schema}".category f WHERE f.tenant_id = ${tenant} AND f.id = ANY(CAST(${filed} AS uuid[])))`;

/** `read`: the categories, when the caller read them with the page's products. */
async function facetsOf(m: EntityManager, tenantId: string, raw: RawSearch, inStore: boolean, read?: FacetCategory[]): Promise<SearchFacet[]> {
  // Counted per category the products are filed under; a category also counts its descendants'.
  const filed = raw.categories.map(([id]) => id);
  const categories: FacetCategory[] = read ?? (filed.length ? await m.query(CATEGORIES_SQL(m, '$1', '$2'), [tenantId, filed]) : []);
  const leaves = categories.filter((c) => filed.includes(c.id));
  const counts = new Map<string, number>();
  const leafCounts = new Map(raw.categories);
  for (const leaf of leaves) for (const id of leaf.path_ids ?? [leaf.id]) counts.set(id, (counts.get(id) ?? 0) + (leafCounts.get(leaf.id) ?? 0));
  const names = new Map(categories.map((c) => [c.id, c.name]));
  const categoryValues = [...counts]
    .sort(([a, x], [b, y]) => y - x || (names.get(a) ?? a).localeCompare(names.get(b) ?? b))
    .slice(0, 100)
    .map(([id, count]) => ({ value: id, label: names.get(id) ?? id, count }));
  const facets: SearchFacet[] = [
    { name: 'brand', label: 'Brand', values: raw.brands.map(([brand, count]) => ({ value: brand, label: brand, count })) },
    { name: 'category', label: 'Category', values: categoryValues },
  ];
  if (inStore) {
    facets.push({
      name: 'price',
      label: 'Price',
      values: raw.prices.map(([bucket, count]) => {
        const low = bucket === 0 ? 0 : PRICE_BOUNDS[bucket - 1]!;
        const high = PRICE_BOUNDS[bucket];
        return { value: high === undefined ? `${low}-` : `${low}-${high}`, label: high === undefined ? `${low} and more` : `${low} to ${high}`, count };
      }),
    });
    facets.push({
      name: 'inStock',
      label: 'Availability',
      values: raw.stock.map(([inStock, count]) => ({ value: String(inStock), label: inStock ? 'In stock' : 'Out of stock', count })),
    });
  }
  return facets;
}

/**
 * The search function's attribute conditions: each filter on a declared, filterable attribute;
 * `min`/`max` only on numbers; `values` as the stored text (numbers canonical, "250" for "250.0").
 */
function attributeConditions(filters: NonNullable<NonNullable<SearchArgs['filter']>['attributes']>, definitions: AttributeDefinition[]) {
  const byName = new Map(definitions.filter((d) => d.filterable).map((d) => [d.name, d]));
  return filters.map((f) => {
    const definition = byName.get(f.name);
    if (!definition) throw badInput(`unknown attribute "${f.name}" (not declared, or not filterable)`, 'filter.attributes');
    if ((f.min != null || f.max != null) && definition.kind !== 'NUMBER') throw badInput(`attribute "${f.name}" is ${definition.kind}: min and max are for numbers`, 'filter.attributes');
    if (f.values == null && f.min == null && f.max == null) throw badInput(`filter on "${f.name}" needs values, min or max`, 'filter.attributes');
    const values = f.values?.map((v) => (definition.kind === 'NUMBER' && Number.isFinite(Number(v)) && v.trim() !== '' ? String(Number(v)) : v));
    return { name: f.name, ...(values ? { values } : {}), ...(f.min != null ? { min: f.min } : {}), ...(f.max != null ? { max: f.max } : {}) };
  });
}

/** One facet per filterable attribute the matches carry (`attribute:<name>`), in the definitions' order. */
function attributeFacets(raw: RawSearch, definitions: AttributeDefinition[]): SearchFacet[] {
  const rows = raw.attributes ?? [];
  return definitions
    .filter((d) => d.filterable && rows.some(([name]) => name === d.name))
    .map((d) => ({
      name: `attribute:${d.name}`,
      label: d.label,
      values: rows
        .filter(([name]) => name === d.name)
        .map(([, value, count]) => ({ value, label: d.unit ? `${value} ${d.unit}` : value, count })),
    }));
}

/** Accents and case dropped, as the documents are (unaccent). */
const fold = (word: string) => word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

function decimal(value: string | null | undefined, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (!DECIMAL.test(value)) throw badInput(`${field} must be a decimal amount such as "12.50"`, field);
  return value;
}

function encodeSearchCursor(sort: SearchSortName, key: string, seq: number | string): string {
  return Buffer.from(JSON.stringify([sort, key, seq]), 'utf8').toString('base64url');
}

/** The cursor's key, for the same sort only (a cursor of another sort would skip or repeat). */
function decodeSearchCursor(cursor: string | null | undefined, sort: SearchSortName): { key: string; seq: string } | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badInput('after is not a valid cursor', 'after');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== sort || typeof parsed[1] !== 'string' || !/^\d+$/.test(String(parsed[2]))) {
    throw badInput('after is not a cursor of this search and sort', 'after');
  }
  if (sort !== 'TITLE' && !Number.isFinite(Number(parsed[1])) && !/^-?Infinity$/.test(parsed[1])) throw badInput('after is not a valid cursor', 'after');
  return { key: parsed[1], seq: String(parsed[2]) };
}

/**
 * The search read model's offers, from pricing's and inventory's events (never their tables):
 * a variant's price or availability in a store, then its product's lowest price and whether any
 * of its variants is available there (read model `catalog.search-offers`).
 */
export const searchOffers: Reaction[] = [
  on('pricing.price.changed', async (m, event) => {
    const { sku, storeId, price } = event.payload;
    await applyOffers(m, event, 'price', [{ sku, storeId, value: price.amount }]);
  }),
  on('inventory.stock-level.changed', async (m, event) => {
    const { sku, storeId, available } = event.payload;
    await applyOffers(m, event, 'available', [{ sku, storeId, value: available }]);
  }),
  // Bulk work's batches (decision 0042): the same, one statement per batch.
  on('pricing.prices.changed', async (m, event) => {
    await applyOffers(m, event, 'price', event.payload.changes.map(({ sku, storeId, price }) => ({ sku, storeId, value: price.amount })));
  }),
  on('inventory.stock-levels.changed', async (m, event) => {
    await applyOffers(m, event, 'available', event.payload.changes.map(({ sku, storeId, available }) => ({ sku, storeId, value: available })));
  }),
];

/**
 * `catalog.search.changed`, in the transaction that applied `cause` to the search read model: the
 * gateway's storefront cache forgets the tenant's answers when it arrives, that is once the change
 * is committed (forgetting on the cause alone could keep an answer computed in between).
 */
export const announceSearchChange = (m: EntityManager, cause: EventEnvelope) =>
  outboxOf('catalog')(m, cause.tenantId, 'catalog.search.changed', { cause: cause.type, causeEventId: cause.eventId });

/** Sets one column of variants' offers, then refreshes their products' offers in those stores. */
async function applyOffers(m: EntityManager, cause: EventEnvelope, column: 'price' | 'available', offers: { sku: string; storeId: string; value: string | number }[]) {
  if (offers.length === 0) return;
  const tenantId = cause.tenantId;
  // A (sku, store) twice in one statement would fail ON CONFLICT: the last value wins, as one by one.
  const unique = [...new Map(offers.map((o) => [`${o.sku}@${o.storeId}`, o])).values()];
  const s = m.connection.driver.schema;
  const type = column === 'price' ? 'numeric' : 'int';
  await m.query(
    `INSERT INTO "${s}".search_variant_offer (tenant_id, sku, store_id, ${column})
     SELECT $1, sku, store_id, value FROM unnest($2::text[], $3::uuid[], $4::${type}[]) AS o(sku, store_id, value)
     ON CONFLICT (tenant_id, sku, store_id) DO UPDATE SET ${column} = EXCLUDED.${column}`,
    [tenantId, unique.map((o) => o.sku), unique.map((o) => o.storeId), unique.map((o) => o.value)],
  );
  await m.query(`SELECT "${s}".refresh_search_offer($1, $2, $3)`, [tenantId, unique.map((o) => o.sku), unique.map((o) => o.storeId)]);
  await announceSearchChange(m, cause);
}
