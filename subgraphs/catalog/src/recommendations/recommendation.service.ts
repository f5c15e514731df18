import { In, type EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { badInput } from '../../../../lib/errors.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { ProductEntity } from '../data/entities/product.entity.js';

export type RecommendationKind = 'FREQUENTLY_BOUGHT_TOGETHER' | 'SIMILAR';

/** Default and most products a recommendation answers (docs/limits.md). */
const DEFAULT_FIRST = 10;
export const MAX_RECOMMENDATIONS = 50;
/** Days of sales `trending` ranks by. */
export const TRENDING_DAYS = 7;

/**
 * Only what a shopper may be shown in the store: published, not archived, available there
 * (catalog's own copy of inventory's availability, `search_offer`), never the product itself.
 */
const SHOWN = (s: string | undefined) => `p.published AND p.archived_at IS NULL AND EXISTS (
  SELECT 1 FROM "${s}".search_offer o WHERE o.tenant_id = p.tenant_id AND o.store_id = $2 AND o.product_id = p.id AND o.in_stock)`;

/** Products to show beside a product, and what sells fastest in a store (issue 15). */
export class RecommendationService extends TenantScopedService {
  recommendations(ctx: SubgraphContext, productId: string, args: { storeId: string; kind: RecommendationKind; first?: number | null }): Promise<ProductEntity[]> {
    const { storeId, first } = checkArgs(args);
    return this.tx(ctx, async (m, tenantId) => {
      const ids = args.kind === 'FREQUENTLY_BOUGHT_TOGETHER' ? await boughtTogether(m, tenantId, storeId, productId, first) : [];
      // Cold start (too few orders yet) falls back to similar products.
      if (ids.length < first) ids.push(...(await similar(m, tenantId, storeId, productId, first - ids.length, ids)));
      return productsInOrder(m, tenantId, ids);
    });
  }

  trending(ctx: SubgraphContext, args: { storeId: string; first?: number | null }): Promise<ProductEntity[]> {
    const { storeId, first } = checkArgs(args);
    return this.tx(ctx, async (m, tenantId) => {
      const s = m.connection.driver.schema;
      const rows: { id: string }[] = await m.query(
        `SELECT p.id FROM "${s}".recommendation_sale x
           JOIN "${s}".variant v ON v.tenant_id = x.tenant_id AND v.sku = x.sku
           JOIN "${s}".product p ON p.tenant_id = v.tenant_id AND p.id = v.product_id
          WHERE x.tenant_id = $1 AND x.store_id = $2 AND x.day > (now() AT TIME ZONE 'UTC')::date - $4::int AND ${SHOWN(s)}
          GROUP BY p.id ORDER BY sum(x.units) DESC, max(p.seq) DESC LIMIT $3`,
        [tenantId, storeId, first, TRENDING_DAYS],
      );
      return productsInOrder(m, tenantId, rows.map((r) => r.id));
    });
  }
}

function checkArgs(args: { storeId: string; first?: number | null }): { storeId: string; first: number } {
  if (!isUuid(args.storeId)) throw badInput('storeId is not a store id', 'storeId');
  const first = args.first ?? DEFAULT_FIRST;
  if (!Number.isInteger(first) || first < 1 || first > MAX_RECOMMENDATIONS) throw badInput(`first must be between 1 and ${MAX_RECOMMENDATIONS}`, 'first');
  return { storeId: args.storeId, first };
}

/** Products in the most orders with this one (`recommendation_pair`, learnt from placed orders). */
async function boughtTogether(m: EntityManager, tenantId: string, storeId: string, productId: string, first: number): Promise<string[]> {
  if (!isUuid(productId)) return [];
  const s = m.connection.driver.schema;
  const rows: { id: string }[] = await m.query(
    `SELECT p.id FROM "${s}".recommendation_pair r JOIN "${s}".product p ON p.tenant_id = r.tenant_id AND p.id = r.other_id
      WHERE r.tenant_id = $1 AND r.product_id = $4 AND p.id <> $4 AND ${SHOWN(s)}
      ORDER BY r.orders DESC, p.seq DESC LIMIT $3`,
    [tenantId, storeId, first, productId],
  );
  return rows.map((r) => r.id);
}

/**
 * Products most like this one: the same category (4), each shared ancestor category (1), the same
 * brand (2), each equal attribute value (1), and title similarity (pg_trgm, 0 to 3); ties to the
 * newest. Only products available in the store.
 *
 * Scored first over the near products, those an index finds (decision 0040): filed in its category
 * or under it, of its brand, sharing an attribute value. Any other product shares at most its
 * category's ancestors and a title (3 at most), so scores at most `bound`, below any product of its
 * own category; when the near list is full and its last score is above that bound, it is the
 * answer. Otherwise (too few near products in stock) every product available in the store is scored.
 * (Titles are not a way in: a word most titles share, "Product", makes every title similar.)
 */
async function similar(m: EntityManager, tenantId: string, storeId: string, productId: string, first: number, exclude: string[]): Promise<string[]> {
  if (!isUuid(productId) || first < 1) return [];
  const s = m.connection.driver.schema;
  const trgm = await trigramSchema(m);
  const params = [tenantId, storeId, first, productId, exclude];
  const near: { id: string; score: number; bound: number }[] = await m.query(similarSql(s, trgm, true), params);
  const last = near.at(-1);
  if (near.length === first && last && Number(last.score) > Number(last.bound)) return near.map((r) => r.id);
  const rows: { id: string }[] = await m.query(similarSql(s, trgm, false), params);
  return rows.map((r) => r.id);
}

/** SIMILAR's statement over the near products (`near`) or over every product ($1 tenant, $2 store, $3 first, $4 the product, $5 excluded). */
export function similarSql(s: string | undefined, trgm: string, near: boolean): string {
  const candidates = near
    ? `AND p.id IN (
         SELECT x.id FROM "${s}".product x
          WHERE x.tenant_id = $1 AND x.category_id IS NOT NULL AND x.category_id IN (SELECT c.id FROM "${s}".category c WHERE c.tenant_id = $1 AND (SELECT category_id FROM me) = ANY(c.path_ids))
         UNION SELECT x.id FROM "${s}".product x WHERE x.tenant_id = $1 AND x.brand IS NOT NULL AND x.brand = (SELECT brand FROM me)
         UNION SELECT a.product_id FROM "${s}".product_attribute b JOIN "${s}".product_attribute a ON a.tenant_id = b.tenant_id AND a.name = b.name AND a.value_text = b.value_text
                WHERE b.tenant_id = $1 AND b.product_id = $4)`
    : '';
  return `WITH me AS (
       SELECT p.id, p.brand, p.category_id, coalesce(c.path_ids, '{}') AS path, lower(p.title) AS title
         FROM "${s}".product p LEFT JOIN "${s}".category c ON c.tenant_id = p.tenant_id AND c.id = p.category_id
        WHERE p.tenant_id = $1 AND p.id = $4)
     SELECT p.id, s.score, greatest(cardinality(me.path) - 1, 0) + 3 AS bound
       FROM me, "${s}".product p LEFT JOIN "${s}".category c ON c.tenant_id = p.tenant_id AND c.id = p.category_id,
       LATERAL (SELECT (CASE WHEN p.category_id = me.category_id THEN 4 ELSE 0 END)
             + cardinality(ARRAY(SELECT unnest(coalesce(c.path_ids, '{}')) INTERSECT SELECT unnest(me.path)))
             + (CASE WHEN p.brand = me.brand THEN 2 ELSE 0 END)
             + (SELECT count(*) FROM "${s}".product_attribute a JOIN "${s}".product_attribute b
                    ON b.tenant_id = a.tenant_id AND b.product_id = me.id AND b.name = a.name AND b.value_text = a.value_text
                 WHERE a.tenant_id = $1 AND a.product_id = p.id)
             + 3 * "${trgm}".similarity(lower(p.title), me.title) AS score) s
      WHERE p.tenant_id = $1 AND p.id <> me.id AND NOT (p.id = ANY($5::uuid[])) AND ${SHOWN(s)} ${candidates}
      ORDER BY s.score DESC, p.seq DESC
      LIMIT $3`;
}

const trigramSchemas = new WeakMap<object, Promise<string>>();
/** Where pg_trgm lives in this database (the storefront-search migration made it available). */
function trigramSchema(m: EntityManager): Promise<string> {
  let schema = trigramSchemas.get(m.connection);
  if (!schema) {
    schema = m
      .query(`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`)
      .then((rows: { schema: string }[]) => rows[0]!.schema);
    trigramSchemas.set(m.connection, schema);
  }
  return schema;
}

async function productsInOrder(m: EntityManager, tenantId: string, ids: string[]): Promise<ProductEntity[]> {
  if (ids.length === 0) return [];
  const rows = await m.getRepository(ProductEntity).findBy({ tenantId, id: In(ids) });
  const byId = new Map(rows.map((p) => [p.id, p]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}
