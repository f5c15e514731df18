import type { EntityManager } from 'typeorm';
import type { MediaValue, ProductOptionValue } from '../data/entities/product.entity.js';
import { attributeValue, definitionsIn, MAX_MEDIA, MAX_OPTIONS, type AttributeDefinition } from '../services/attributes.service.js';
import type { FeedRow } from './feed-rows.js';

/** Most values of one option (as `ProductOptionInput.values`, docs/limits.md). */
const MAX_OPTION_VALUES = 100;

/** What a batch's rows change of their products' options, pictures and attributes, and of their variants'. */
export interface ExtrasPlan {
  /** Rows that cannot be imported, by line, with the reason. */
  refused: Map<number, string>;
  /** By handle: the product's options and media after the batch (its own plus the feed's), and the attributes the feed sets. */
  products: Map<string, { options: ProductOptionValue[]; media: MediaValue[]; attributes: Map<string, { text: string; number: string | null }> }>;
  /** By sku: the variant's option values and picture, where the row gives them. */
  variants: Map<string, { options: { name: string; value: string }[] | null; media: MediaValue[] | null }>;
}

/** Whether a row says anything of options, pictures or attributes. */
export const hasExtras = (row: FeedRow): boolean => row.options.length > 0 || row.image !== null || row.variantImage !== null || row.attributes.length > 0;

/**
 * Plans, without writing, what the rows (in file order) add to their products: a row's
 * `optionN_value` belongs to the option named on the row, on an earlier row of the handle or by
 * the product's option N; values and pictures are added (once each, within the bounds
 * `upsertProduct` keeps); a row's attribute values are checked against the declared attributes
 * and set, the last row of a handle winning. A row that cannot be applied whole is refused with
 * its reason and changes nothing.
 */
export function planExtras(
  rows: readonly FeedRow[],
  existing: ReadonlyMap<string, { options: ProductOptionValue[]; media: MediaValue[] }>,
  definitions: ReadonlyMap<string, AttributeDefinition>,
): ExtrasPlan {
  const plan: ExtrasPlan = { refused: new Map(), products: new Map(), variants: new Map() };
  const names = new Map<string, (string | undefined)[]>();
  for (const row of rows) {
    if (!hasExtras(row)) continue;
    const current = plan.products.get(row.handle) ?? {
      options: (existing.get(row.handle)?.options ?? []).map((o) => ({ name: o.name, values: [...o.values] })),
      media: [...(existing.get(row.handle)?.media ?? [])],
      attributes: new Map(),
    };
    const named = names.get(row.handle) ?? current.options.slice(0, 3).map((o) => o.name);
    // Tried on copies: a refused row changes nothing.
    const options = current.options.map((o) => ({ name: o.name, values: [...o.values] }));
    const media = [...current.media];
    const rowNames = [...named];
    let reason: string | null = null;
    const values: { name: string; value: string }[] = [];
    for (const option of row.options) {
      const name = option.name ?? rowNames[option.index];
      if (!name) {
        reason = `option${option.index + 1}_value needs option${option.index + 1}_name (on this row, on an earlier row of handle ${row.handle}, or the product's option ${option.index + 1})`;
        break;
      }
      rowNames[option.index] = name;
      let target = options.find((o) => o.name === name);
      if (!target) {
        if (options.length >= MAX_OPTIONS) {
          reason = `the product would have more than ${MAX_OPTIONS} options`;
          break;
        }
        target = { name, values: [] };
        options.push(target);
      }
      if (!target.values.includes(option.value)) {
        if (target.values.length >= MAX_OPTION_VALUES) {
          reason = `option "${name}" would have more than ${MAX_OPTION_VALUES} values`;
          break;
        }
        target.values.push(option.value);
      }
      values.push({ name, value: option.value });
    }
    if (!reason && row.image && !media.some((m) => m.url === row.image!.url)) {
      if (media.length >= MAX_MEDIA) reason = `the product would have more than ${MAX_MEDIA} pictures`;
      else media.push({ url: row.image.url, alt: row.image.alt, kind: 'IMAGE' });
    }
    const attributes: [string, { text: string; number: string | null }][] = [];
    for (const { name, value } of reason ? [] : row.attributes) {
      const stored = attributeValue(definitions.get(name), name, value);
      if (typeof stored === 'string') {
        reason = stored;
        break;
      }
      attributes.push([name, stored]);
    }
    if (reason) {
      plan.refused.set(row.line, reason);
      continue;
    }
    names.set(row.handle, rowNames);
    plan.products.set(row.handle, { options, media, attributes: new Map([...current.attributes, ...attributes]) });
    if (values.length > 0 || row.variantImage) {
      plan.variants.set(row.sku, {
        options: values.length > 0 ? values : null,
        media: row.variantImage ? [{ url: row.variantImage, alt: null, kind: 'IMAGE' }] : null,
      });
    }
  }
  return plan;
}

/** The plan of a batch's rows, reading what it needs once: the products' options and pictures, the attributes named. */
export async function planExtrasIn(m: EntityManager, tenantId: string, rows: readonly FeedRow[]): Promise<ExtrasPlan> {
  const s = m.connection.driver.schema;
  const touched = rows.filter(hasExtras);
  const handles = [...new Set(touched.map((r) => r.handle))];
  const found: { handle: string; options: ProductOptionValue[]; media: MediaValue[] }[] = handles.length
    ? await m.query(`SELECT substr(external_ref, 6) AS handle, options, media FROM "${s}".product WHERE tenant_id = $1 AND external_ref = ANY($2)`, [
        tenantId,
        handles.map((h) => `feed:${h}`),
      ])
    : [];
  const names = [...new Set(touched.flatMap((r) => r.attributes.map((a) => a.name)))];
  const definitions = names.length ? await definitionsIn(m, names) : [];
  return planExtras(rows, new Map(found.map((f) => [f.handle, f])), new Map(definitions.map((d) => [d.name, d])));
}

/**
 * Writes a plan for the batch's products (ids by handle) and variants: attributes set, then the
 * products' options and pictures (their update refreshes their search rows, attributes included),
 * then the variants'. Three statements whatever the batch's size.
 */
export async function writeExtras(m: EntityManager, tenantId: string, plan: ExtrasPlan, productIdOf: (handle: string) => string): Promise<void> {
  const s = m.connection.driver.schema;
  const products = [...plan.products].map(([handle, p]) => ({ id: productIdOf(handle), ...p }));
  const attributes = products.flatMap((p) => [...p.attributes].map(([name, value], position) => ({ id: p.id, name, position, ...value })));
  if (attributes.length > 0) {
    await m.query(
      `INSERT INTO "${s}".product_attribute AS a (tenant_id, product_id, name, value_text, value_number, position)
       SELECT $1, p, n, t, x::numeric, o FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[]) AS u(p, n, t, x, o)
       ON CONFLICT (tenant_id, product_id, name) DO UPDATE SET value_text = EXCLUDED.value_text, value_number = EXCLUDED.value_number`,
      [tenantId, attributes.map((a) => a.id), attributes.map((a) => a.name), attributes.map((a) => a.text), attributes.map((a) => a.number), attributes.map((a) => a.position)],
    );
  }
  if (products.length > 0) {
    await m.query(
      `UPDATE "${s}".product p SET options = u.o::jsonb, media = u.m::jsonb FROM unnest($2::uuid[], $3::text[], $4::text[]) AS u(id, o, m)
        WHERE p.tenant_id = $1 AND p.id = u.id`,
      [tenantId, products.map((p) => p.id), products.map((p) => JSON.stringify(p.options)), products.map((p) => JSON.stringify(p.media))],
    );
  }
  const variants = [...plan.variants];
  if (variants.length > 0) {
    await m.query(
      `UPDATE "${s}".variant v SET options = coalesce(u.o::jsonb, v.options), media = coalesce(u.m::jsonb, v.media)
         FROM unnest($2::text[], $3::text[], $4::text[]) AS u(sku, o, m) WHERE v.tenant_id = $1 AND v.sku = u.sku`,
      [tenantId, variants.map(([sku]) => sku), variants.map(([, v]) => (v.options ? JSON.stringify(v.options) : null)), variants.map(([, v]) => (v.media ? JSON.stringify(v.media) : null))],
    );
  }
}
