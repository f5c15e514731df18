import type { EntityManager } from 'typeorm';
import { badInput, notFound } from '../../../../lib/errors.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { apply as applyOutcome, enrich, RULES, type Enrichment, type EnrichmentRules, type ProductDraft, type RuleName, type RuleOutcome } from './rules.js';

/** What a product's enrichment row holds. */
export interface StoredEnrichment {
  applied: RuleOutcome[];
  review: RuleOutcome[];
  attributes: Record<string, string | number>;
  synonyms: string[];
}

/** The GraphQL shape: `from` and `to` as text (JSON for lists and numbers). */
export const enrichmentView = (productId: string, e: StoredEnrichment) => {
  const text = (value: unknown) => (value === null || value === undefined ? null : typeof value === 'string' ? value : JSON.stringify(value));
  const change = (o: RuleOutcome) => ({ rule: o.rule, field: o.field, from: text(o.from), to: text(o.to), confidence: o.confidence, reason: o.reason });
  return {
    productId,
    applied: e.applied.map(change),
    review: e.review.map(change),
    attributes: Object.entries(e.attributes).map(([name, value]) => ({ name, value: String(value) })),
    synonyms: e.synonyms,
  };
};

/** A tenant's rules; null when it has not set any or has switched every rule off (enrichment is off: nothing runs, nothing is recorded). */
export async function enrichmentRulesOf(m: EntityManager, tenantId: string): Promise<EnrichmentRules | null> {
  const [row]: { brands: string[]; category_keywords: Record<string, string[]>; disabled: string[] }[] = await m.query(
    `SELECT brands, category_keywords, disabled FROM "${m.connection.driver.schema}"."enrichment_settings" WHERE tenant_id = $1`,
    [tenantId],
  );
  if (!row || RULES.every((name) => row.disabled.includes(name))) return null;
  return { brands: row.brands, categoryKeywords: row.category_keywords, disabled: row.disabled };
}

/**
 * The tenant's rules with those its feature flags switch off for one product (`enrichment.<rule>`,
 * rule-switches.ts) added to `disabled`; null when none is left to run.
 */
export function withSwitchedOff(rules: EnrichmentRules | null, off: readonly RuleName[]): EnrichmentRules | null {
  if (!rules || off.length === 0) return rules;
  const disabled = [...new Set([...(rules.disabled ?? []), ...off])];
  return RULES.every((name) => disabled.includes(name)) ? null : { ...rules, disabled };
}

export interface RulesInput {
  brands: string[];
  categoryKeywords: { category: string; keywords: string[] }[];
  disabled?: string[] | null;
}

export async function setEnrichmentRulesIn(m: EntityManager, tenantId: string, input: RulesInput): Promise<RulesInput & { disabled: string[] }> {
  const unknown = (input.disabled ?? []).filter((name) => !(RULES as readonly string[]).includes(name));
  if (unknown.length) throw badInput(`unknown rule ${unknown.join(', ')} (rules: ${RULES.join(', ')})`, 'disabled');
  const brands = [...new Set(input.brands.map((b) => b.trim()).filter(Boolean))];
  const keywords: Record<string, string[]> = {};
  for (const { category, keywords: words } of input.categoryKeywords) {
    if (!category.trim()) throw badInput('a category name must not be empty', 'categoryKeywords.category');
    keywords[category.trim()] = [...new Set(words.map((w) => w.trim().toLowerCase()).filter(Boolean))];
  }
  await m.query(
    `INSERT INTO "${m.connection.driver.schema}"."enrichment_settings" (tenant_id, brands, category_keywords, disabled, updated_at) VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (tenant_id) DO UPDATE SET brands = EXCLUDED.brands, category_keywords = EXCLUDED.category_keywords, disabled = EXCLUDED.disabled, updated_at = now()`,
    [tenantId, JSON.stringify(brands), JSON.stringify(keywords), JSON.stringify(input.disabled ?? [])],
  );
  return { brands, categoryKeywords: Object.entries(keywords).map(([category, k]) => ({ category, keywords: k })), disabled: [...(input.disabled ?? [])] };
}

/**
 * A product on its way in, through the tenant's rules: the cleaned title and brand, and the
 * category id when a confident suggestion names an existing category and the product has none
 * (a category that does not exist yet waits for review). Null when the tenant has no rules.
 */
export async function enrichIncoming(
  m: EntityManager,
  tenantId: string,
  rules: EnrichmentRules | null,
  input: { title: string; brand: string | null; hasCategory: boolean },
): Promise<EnrichedProduct | null> {
  if (!rules) return null;
  // The rules are pure: run once to learn which category they would file it under, look that up.
  let wanted: string | null = null;
  const first = enrichProduct(rules, input, (name) => {
    wanted = name;
    return null;
  });
  if (wanted === null) return first;
  const id = await categoryIdNamed(m, tenantId, wanted);
  return id ? enrichProduct(rules, input, () => id) : first;
}

export interface EnrichedProduct {
  title: string;
  brand: string | null;
  categoryId: string | null;
  stored: StoredEnrichment;
}

/**
 * One product through the rules, no I/O (feeds run it on every row of a batch): `categoryId`
 * gives the id of a category by name, null when there is none, and a confident suggestion of a
 * missing category goes to review.
 */
export function enrichProduct(rules: EnrichmentRules, input: { title: string; brand: string | null; hasCategory: boolean }, categoryId: (name: string) => string | null | undefined): EnrichedProduct {
  const result: Enrichment = enrich({ title: input.title, brand: input.brand, category: input.hasCategory ? '(set)' : null }, rules);
  let chosen: string | null = null;
  const applied: RuleOutcome[] = [];
  const review = [...result.review];
  for (const outcome of result.applied) {
    if (outcome.field === 'category') {
      chosen = categoryId(String(outcome.to)) ?? null;
      if (!chosen) {
        review.push(outcome);
        continue;
      }
    }
    applied.push(outcome);
  }
  return {
    title: result.product.title,
    brand: result.product.brand ?? null,
    categoryId: chosen,
    stored: { applied, review, attributes: result.product.attributes ?? {}, synonyms: result.product.synonyms ?? [] },
  };
}

async function categoryIdNamed(m: EntityManager, tenantId: string, name: string): Promise<string | null> {
  const [row]: { id: string }[] = await m.query(`SELECT id FROM "${m.connection.driver.schema}"."category" WHERE tenant_id = $1 AND name = $2`, [tenantId, name]);
  return row?.id ?? null;
}

export async function recordEnrichment(m: EntityManager, tenantId: string, productId: string, e: StoredEnrichment): Promise<void> {
  await m.query(
    `INSERT INTO "${m.connection.driver.schema}"."product_enrichment" (product_id, tenant_id, applied, review, attributes, synonyms, updated_at) VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (product_id) DO UPDATE SET applied = EXCLUDED.applied, review = EXCLUDED.review, attributes = EXCLUDED.attributes, synonyms = EXCLUDED.synonyms, updated_at = now()`,
    [productId, tenantId, JSON.stringify(e.applied), JSON.stringify(e.review), JSON.stringify(e.attributes), JSON.stringify(e.synonyms)],
  );
}

/**
 * The enrichment of many products in one statement (a feed batch), sent as one JSON document: as
 * four text arrays of JSON, the driver escaped every quote of every element and the server parsed
 * the array literal before the JSON (both showed in a feed's CPU profile).
 */
export async function recordEnrichments(m: EntityManager, tenantId: string, rows: { productId: string; stored: StoredEnrichment }[]): Promise<void> {
  if (rows.length === 0) return;
  await m.query(
    `INSERT INTO "${m.connection.driver.schema}"."product_enrichment" (product_id, tenant_id, applied, review, attributes, synonyms, updated_at)
     SELECT id, $1, applied, review, attributes, synonyms, now()
       FROM jsonb_to_recordset($2::jsonb) AS t(id uuid, applied jsonb, review jsonb, attributes jsonb, synonyms jsonb)
     ON CONFLICT (product_id) DO UPDATE SET applied = EXCLUDED.applied, review = EXCLUDED.review, attributes = EXCLUDED.attributes, synonyms = EXCLUDED.synonyms, updated_at = now()`,
    [tenantId, JSON.stringify(rows.map((r) => ({ id: r.productId, ...r.stored })))],
  );
}

/** A tenant's categories by name (a feed batch looks them up once). */
export async function categoryIdsByName(m: EntityManager, tenantId: string): Promise<Map<string, string>> {
  const rows: { id: string; name: string }[] = await m.query(`SELECT id, name FROM "${m.connection.driver.schema}"."category" WHERE tenant_id = $1`, [tenantId]);
  return new Map(rows.map((r) => [r.name, r.id]));
}

export async function enrichmentOf(m: EntityManager, tenantId: string, productId: string, lock = false): Promise<StoredEnrichment | null> {
  if (!isUuid(productId)) return null;
  const [row]: StoredEnrichment[] = await m.query(
    `SELECT applied, review, attributes, synonyms FROM "${m.connection.driver.schema}"."product_enrichment" WHERE tenant_id = $1 AND product_id = $2${lock ? ' FOR UPDATE' : ''}`,
    [tenantId, productId],
  );
  return row ?? null;
}

/**
 * A reviewer's decision on the suggestion for `field`: applied to the product (title, brand,
 * category by name — it must exist —, an attribute or the synonyms) or dropped. Returns the
 * product's columns to write (empty when none changed) and the enrichment after it.
 */
export async function decideSuggestion(
  m: EntityManager,
  tenantId: string,
  productId: string,
  field: string,
  accept: boolean,
  product: { title: string; brand: string | null; categoryId: string | null },
): Promise<{ changes: Partial<{ title: string; brand: string | null; categoryId: string }>; stored: StoredEnrichment }> {
  const stored = await enrichmentOf(m, tenantId, productId, true);
  const outcome = stored?.review.find((o) => o.field === field);
  if (!stored || !outcome) throw notFound(`no suggestion for ${field} on product ${productId}`);
  const next: StoredEnrichment = { ...stored, review: stored.review.filter((o) => o !== outcome) };
  const changes: Partial<{ title: string; brand: string | null; categoryId: string }> = {};
  if (accept) {
    if (outcome.field === 'category') {
      const id = await categoryIdNamed(m, tenantId, String(outcome.to));
      if (!id) throw notFound(`no category named "${String(outcome.to)}": create it first`);
      changes.categoryId = id;
    } else if (outcome.field === 'title' || outcome.field === 'brand') {
      changes[outcome.field] = outcome.to as string;
    } else {
      const draft: ProductDraft = applyOutcome({ title: product.title, attributes: stored.attributes, synonyms: stored.synonyms }, outcome);
      next.attributes = draft.attributes ?? {};
      next.synonyms = draft.synonyms ?? [];
    }
    next.applied = [...stored.applied, outcome];
  }
  await recordEnrichment(m, tenantId, productId, next);
  return { changes, stored: next };
}
