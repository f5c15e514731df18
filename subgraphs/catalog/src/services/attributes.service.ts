import type { EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { badInput } from '../../../../lib/errors.js';
import { groupByKey } from '../../../../lib/graphql/batch.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import type { MediaValue, ProductOptionValue } from '../data/entities/product.entity.js';

export type AttributeKind = 'TEXT' | 'NUMBER' | 'BOOLEAN';

export interface AttributeDefinition {
  name: string;
  label: string;
  kind: AttributeKind;
  unit: string | null;
  filterable: boolean;
}

/** A product's value of one attribute, as `Product.attributes` answers it. */
export interface ProductAttributeView {
  productId: string;
  name: string;
  label: string;
  value: string;
  unit: string | null;
  kind: AttributeKind;
}

export interface MediaInput {
  url: string;
  alt?: string | null;
  kind?: 'IMAGE' | 'VIDEO' | null;
}

/** What `upsertProduct` (and feeds, and merchant systems) may say beyond the product's own fields. */
export interface CatalogExtrasInput {
  attributes?: readonly { name: string; value: string }[] | null;
  options?: readonly { name: string; values: readonly string[] }[] | null;
  media?: readonly MediaInput[] | null;
  variants: readonly { sku: string; options?: readonly { name: string; value: string }[] | null; media?: readonly MediaInput[] | null }[];
}

const ATTRIBUTE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** A number attribute's value: a decimal, as `numeric` reads it. */
const NUMBER = /^-?(0|[1-9]\d{0,14})(\.\d{1,6})?$/;
/** Most options and media of a product (docs/limits.md). */
export const MAX_OPTIONS = 10;
export const MAX_MEDIA = 20;
/** The longest media address (docs/limits.md: `MediaInput.url`). */
export const MAX_MEDIA_URL = 2_048;

/** The tenant's attributes (`defineAttribute`) and products' values of them. */
export class AttributeService extends TenantScopedService {
  async define(ctx: SubgraphContext, input: { name: string; label?: string | null; kind: AttributeKind; unit?: string | null; filterable?: boolean | null }): Promise<AttributeDefinition> {
    if (!ATTRIBUTE_NAME.test(input.name)) throw badInput('name must be 1-64 lower-case letters, digits and "_", starting with a letter', 'name');
    const label = input.label?.trim() || input.name;
    if (input.unit != null && input.kind !== 'NUMBER') throw badInput('only a NUMBER attribute has a unit', 'unit');
    return this.tx(ctx, async (m, tenantId) => {
      const s = m.connection.driver.schema;
      const [existing] = await definitionsIn(m, [input.name]);
      if (existing && existing.kind !== input.kind) throw badInput(`attribute "${input.name}" is ${existing.kind}: its kind cannot change`, 'kind');
      await m.query(
        `INSERT INTO "${s}".attribute_definition (tenant_id, name, label, kind, unit, filterable) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, name) DO UPDATE SET label = EXCLUDED.label, unit = EXCLUDED.unit, filterable = EXCLUDED.filterable`,
        [tenantId, input.name, label, input.kind, input.unit?.trim() || null, input.filterable ?? existing?.filterable ?? true],
      );
      const [stored] = await definitionsIn(m, [input.name]);
      return stored!;
    });
  }

  definitions(ctx: SubgraphContext): Promise<AttributeDefinition[]> {
    return this.tx(ctx, (m) => definitionsIn(m));
  }

  attributesByProductIds(ctx: SubgraphContext, productIds: readonly string[]): Promise<ProductAttributeView[][]> {
    return this.tx(ctx, async (m, tenantId) => {
      const rows: ProductAttributeView[] = await m.query(
        `SELECT a.product_id AS "productId", a.name, d.label, a.value_text AS value, d.unit, d.kind
           FROM "${m.connection.driver.schema}".product_attribute a
           JOIN "${m.connection.driver.schema}".attribute_definition d ON d.tenant_id = a.tenant_id AND d.name = a.name
          WHERE a.tenant_id = $1 AND a.product_id = ANY($2::uuid[]) ORDER BY a.position`,
        [tenantId, productIds],
      );
      return groupByKey(productIds, rows, (r) => r.productId);
    });
  }
}

/** Every attribute definition of the transaction's tenant as one jsonb array by name (as `definitionsIn` answers them): a sub-select, for a statement that reads them with something else. */
export const definitionsSql = (m: EntityManager): string =>
  `SELECT coalesce(jsonb_agg(jsonb_build_object('name', name, 'label', label, 'kind', kind, 'unit', unit, 'filterable', filterable) ORDER BY name), '[]')
     FROM "${m.connection.driver.schema}".attribute_definition WHERE tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid`;

/** The tenant's attribute definitions (the transaction's tenant), all or those named. */
export async function definitionsIn(m: EntityManager, names?: readonly string[]): Promise<AttributeDefinition[]> {
  const s = m.connection.driver.schema;
  return m.query(
    `SELECT name, label, kind, unit, filterable FROM "${s}".attribute_definition
      WHERE tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND ($1::text[] IS NULL OR name = ANY($1)) ORDER BY name`,
    [names ?? null],
  );
}

/**
 * A value of an attribute as it is stored: its text (a number in one canonical text, "250" not
 * "250.0", so facets and `values` agree) and, for a number, the number; or why it cannot be.
 * `upsertProduct` and feeds check with it.
 */
export function attributeValue(definition: AttributeDefinition | undefined, name: string, value: string): { text: string; number: string | null } | string {
  if (!definition) return `unknown attribute "${name}": declare it with defineAttribute`;
  const text = value.trim();
  if (definition.kind === 'NUMBER' && !NUMBER.test(text)) return `attribute "${name}" is a number: "${value}" is not a decimal`;
  if (definition.kind === 'BOOLEAN' && text !== 'true' && text !== 'false') return `attribute "${name}" is true or false, not "${value}"`;
  if (!text) return `attribute "${name}" needs a value`;
  return { text: definition.kind === 'NUMBER' ? String(Number(text)) : text, number: definition.kind === 'NUMBER' ? text : null };
}

/** Checks what can be checked without the database: shapes, repeats and bounds (BAD_USER_INPUT). */
export function checkCatalogExtras(input: CatalogExtrasInput): void {
  const names = (list: readonly { name: string }[], field: string) => {
    const seen = new Set<string>();
    for (const { name } of list) {
      if (!name.trim()) throw badInput(`${field}: a name must not be empty`, field);
      if (seen.has(name)) throw badInput(`${field}: "${name}" is given twice`, field);
      seen.add(name);
    }
  };
  if (input.attributes) names(input.attributes, 'attributes');
  if (input.options) {
    if (input.options.length > MAX_OPTIONS) throw badInput(`at most ${MAX_OPTIONS} options`, 'options');
    names(input.options, 'options');
    for (const option of input.options) {
      if (option.name.length > 64) throw badInput('an option name is at most 64 characters', 'options.name');
      const values = option.values.map((v) => v.trim());
      if (values.length === 0 || values.some((v) => !v)) throw badInput(`option "${option.name}" needs 1 or more non-empty values`, 'options.values');
      if (new Set(values).size !== values.length) throw badInput(`option "${option.name}" lists a value twice`, 'options.values');
    }
  }
  checkMedia(input.media, 'media');
  for (const variant of input.variants) {
    if (variant.options) names(variant.options, 'variants.options');
    checkMedia(variant.media, 'variants.media');
  }
}

function checkMedia(media: readonly MediaInput[] | null | undefined, field: string) {
  if (!media) return;
  if (media.length > MAX_MEDIA) throw badInput(`${field}: at most ${MAX_MEDIA} items`, field);
  for (const item of media) {
    if (!isMediaUrl(item.url)) throw badInput(`${field}: "${item.url.slice(0, 80)}" is not an http(s) address of at most ${MAX_MEDIA_URL} characters`, `${field}.url`);
  }
}

/** An http(s) address of at most 2,048 characters: what a media item's `url` must be. */
export function isMediaUrl(text: string): boolean {
  const url = URL.canParse(text) ? new URL(text) : null;
  return url !== null && /^https?:$/.test(url.protocol) && text.length <= MAX_MEDIA_URL;
}

const mediaOf = (media: readonly MediaInput[]): MediaValue[] => media.map((item) => ({ url: item.url, alt: item.alt?.trim() || null, kind: item.kind ?? 'IMAGE' }));

/**
 * Writes a product's attributes, options and media and its variants' options and media, inside
 * the caller's transaction, after the product and its variants are written. Given lists replace,
 * absent ones keep. An undeclared attribute, a value of the wrong kind, or a variant option its
 * product does not have is BAD_USER_INPUT (and the transaction writes nothing).
 */
export async function writeCatalogExtras(m: EntityManager, tenantId: string, productId: string, input: CatalogExtrasInput): Promise<boolean> {
  const s = m.connection.driver.schema;
  let changed = false;
  if (input.attributes) {
    const definitions = new Map((await definitionsIn(m, input.attributes.map((a) => a.name))).map((d) => [d.name, d]));
    const rows = input.attributes.map(({ name, value }, position) => {
      const stored = attributeValue(definitions.get(name), name, value);
      if (typeof stored === 'string') throw badInput(stored, stored.startsWith('unknown') ? 'attributes.name' : 'attributes.value');
      return { name, ...stored, position };
    });
    await m.query(`DELETE FROM "${s}".product_attribute WHERE tenant_id = $1 AND product_id = $2`, [tenantId, productId]);
    await m.query(
      `INSERT INTO "${s}".product_attribute (tenant_id, product_id, name, value_text, value_number, position)
       SELECT $1, $2, n, t, x::numeric, p FROM unnest($3::text[], $4::text[], $5::text[], $6::int[]) AS u(n, t, x, p)`,
      [tenantId, productId, rows.map((r) => r.name), rows.map((r) => r.text), rows.map((r) => r.number), rows.map((r) => r.position)],
    );
    changed = true;
  }
  const product: { options: ProductOptionValue[] } = (await m.query(`SELECT options FROM "${s}".product WHERE tenant_id = $1 AND id = $2`, [tenantId, productId]))[0];
  let options = product.options;
  if (input.options) {
    options = input.options.map((o) => ({ name: o.name.trim(), values: o.values.map((v) => v.trim()) }));
    await m.query(`UPDATE "${s}".product SET options = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, productId, JSON.stringify(options)]);
    changed = true;
  }
  if (input.media) await m.query(`UPDATE "${s}".product SET media = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, productId, JSON.stringify(mediaOf(input.media))]);
  const byName = new Map(options.map((o) => [o.name, new Set(o.values)]));
  for (const variant of input.variants) {
    if (variant.options) {
      for (const { name, value } of variant.options) {
        if (!byName.get(name)?.has(value)) throw badInput(`variant ${variant.sku}: "${name}" = "${value}" is not one of the product's options`, 'variants.options');
      }
      await m.query(`UPDATE "${s}".variant SET options = $3 WHERE tenant_id = $1 AND sku = $2`, [tenantId, variant.sku, JSON.stringify(variant.options.map(({ name, value }) => ({ name, value })))]);
    }
    if (variant.media) await m.query(`UPDATE "${s}".variant SET media = $3 WHERE tenant_id = $1 AND sku = $2`, [tenantId, variant.sku, JSON.stringify(mediaOf(variant.media))]);
  }
  // The search row reads attribute and option values (a trigger on it); refresh it once they are written.
  if (changed) await m.query(`SELECT "${s}".refresh_product_search($1::uuid[])`, [[productId]]);
  return changed;
}

/** Whether each name is a declared, filterable attribute, and its kind (for search filters). */
export async function filterableAttributes(m: EntityManager): Promise<Map<string, AttributeKind>> {
  const definitions = await definitionsIn(m);
  return new Map(definitions.filter((d) => d.filterable).map((d) => [d.name, d.kind]));
}
