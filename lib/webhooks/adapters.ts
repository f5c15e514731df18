import { checkText, INPUT_BOUNDS, MAX_QUANTITY, MAX_STOCK_LEVEL, MAX_STRING_LENGTH } from '../input-bounds.js';
import { webhookSource, type WebhookSourceName } from './registry.js';
import type { MenuItem } from '../events/ingested-menu.js';
import { isTimeZone, minutesOf } from '../menus/availability.js';

/**
 * Adapters: each source's payload turned into canonical commands (each source module in
 * `sources/` names its adapter and topics). Pure functions; what they
 * refuse is malformed (the webhook is answered 400), what they cannot map is decided later.
 *
 * POS and ERP share one documented format:
 *   { "event_id": "…", "type": "stock.delta" | "stock.level", "occurred_at": "ISO 8601",
 *     "items": [{ "sku": "…", "location": "…", "delta": -2 } | { "sku": "…", "location": "…", "level": 40 }] }
 * `sku` is the source's sku (mapped with mapExternalSku, else taken as ours); `location` is the
 * source's location id (mapped with mapExternalLocation, else our store code or store id).
 */

/** A source's reference to a variant and a location, still to be mapped to our sku and store. */
export interface ExternalStockRef {
  /** Shopify's inventory_item_id, or the POS/ERP sku. */
  item: string;
  location: string;
}

export type StockCommand =
  | ({ kind: 'delta'; delta: number } & ExternalStockRef)
  | ({ kind: 'level'; level: number } & ExternalStockRef);

export interface ProductCommand {
  kind: 'product';
  /** Stable per source product, e.g. `shopify:632910392`. */
  externalRef: string;
  title: string;
  description: string | null;
  brand: string | null;
  published: boolean;
  /** The product's options and pictures as the source has them now (given lists replace); absent: the source has none to say. */
  options?: ProductOptionValues[];
  media?: SourceMedia[];
  variants: {
    sku: string;
    title: string;
    barcode: string | null;
    price: string | null;
    inventoryItemId: string | null;
    /** This variant's value of each option, and its own pictures. */
    options?: { name: string; value: string }[];
    media?: SourceMedia[];
  }[];
}

export interface ProductOptionValues {
  name: string;
  values: string[];
}

/** A picture a source hosts: its address and its text for screen readers. */
export interface SourceMedia {
  url: string;
  alt: string | null;
}

/** A POS `menu.updated`: the store's whole menu (decision 0036). */
export interface MenuCommand {
  kind: 'menu';
  location: string;
  timeZone: string;
  items: MenuItem[];
}

export type IngestionCommand = StockCommand | ProductCommand | MenuCommand;

export interface AdaptedPayload {
  commands: IngestionCommand[];
  /** When the source says the change happened; levels older than the last applied one are skipped. */
  occurredAt: Date | null;
}

/** The payload is not what the source's format says it is. */
export class MalformedPayload extends Error {
  override name = 'MalformedPayload';
}


const MAX_ITEMS = 1_000;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function externalId(value: unknown, field: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && value.trim() && value.length <= 128) return value.trim();
  throw new MalformedPayload(`${field} must be an id (a number or a non-empty string)`);
}

function wholeNumber(value: unknown, field: string, [min, max]: readonly [number, number]): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new MalformedPayload(`${field} must be a whole number`);
  if (value < min || value > max) throw new MalformedPayload(`${field} must be between ${min} and ${max}`);
  return value;
}

/**
 * The same text bounds as over GraphQL (lib/input-bounds.ts): no string anywhere in the payload
 * may hold a NUL (PostgreSQL cannot store it, so the delivery would fail on every retry).
 */
function refuseNul(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new MalformedPayload(`${path} contains a NUL character (U+0000), which is not allowed`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => refuseNul(item, `${path}[${i}]`));
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) refuseNul(item, path ? `${path}.${key}` : key);
  }
}

/** A string within `max` characters (the GraphQL bound of the same field), or null when absent. */
function boundedText(value: string | null, field: string, max = MAX_STRING_LENGTH): string | null {
  const error = value === null ? undefined : checkText(value, field, max);
  if (error) throw new MalformedPayload(error.message);
  return value;
}

function timestamp(value: unknown, field: string): Date | null {
  if (value === undefined || value === null) return null;
  const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new MalformedPayload(`${field} must be an ISO 8601 time`);
  return date;
}

/**
 * JSON.parse, except that integers too long for a double (Shopify ids such as
 * 271878346596884015) become strings instead of losing their last digits.
 */
export function parsePayload(text: string): unknown {
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if ((c >= '0' && c <= '9') || c === '-') {
      let j = i + 1;
      while (j < text.length && text[j]! >= '0' && text[j]! <= '9') j++;
      const isInteger = !/[.eE]/.test(text[j] ?? '');
      if (isInteger && j - i >= 16 && !Number.isSafeInteger(Number(text.slice(i, j)))) {
        out += `${text.slice(from, i)}"${text.slice(i, j)}"`;
        from = j;
      }
      i = j - 1;
    }
  }
  return JSON.parse(out + text.slice(from));
}

/** The event id a POS/ERP payload carries (its dedupe key); MalformedPayload without one. */
export function signedJsonEventId(payload: unknown): string {
  if (!isObject(payload)) throw new MalformedPayload('the body must be a JSON object');
  return externalId(payload.event_id, 'event_id');
}

/** Turns one delivery into commands; MalformedPayload when it does not follow its format. */
export function adapt(source: WebhookSourceName, topic: string, payload: unknown): AdaptedPayload {
  if (!isObject(payload)) throw new MalformedPayload('the body must be a JSON object');
  refuseNul(payload, '');
  const { topics, adapt: adaptTopic } = webhookSource(source);
  if (!topics.includes(topic)) throw new MalformedPayload(`${source} topic "${topic}" is not supported (${topics.join(', ')})`);
  return adaptTopic(topic, payload);
}

/** Shopify's topics: `inventory_levels/update` is a level, the others a product. */
export const adaptShopify = (topic: string, payload: Record<string, unknown>): AdaptedPayload =>
  topic === 'inventory_levels/update' ? shopifyInventoryLevel(payload) : shopifyProduct(payload);

/** The POS/ERP format (above). */
export const adaptSignedJson = (topic: string, payload: Record<string, unknown>): AdaptedPayload =>
  topic === 'menu.updated' ? signedJsonMenu(payload) : signedJsonStock(topic, payload);

const MAX_MENU_ITEMS = 500;
const MAX_MENU_LIST = 20;

function list(value: unknown, field: string, max: number, required = false): unknown[] {
  if (value === undefined || value === null) {
    if (required) throw new MalformedPayload(`${field} must be an array`);
    return [];
  }
  if (!Array.isArray(value)) throw new MalformedPayload(`${field} must be an array`);
  if (value.length > max) throw new MalformedPayload(`${field}: at most ${max}`);
  return value;
}

function price(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if ((typeof value === 'string' && /^\d{1,15}(\.\d{1,4})?$/.test(value.trim())) || (typeof value === 'number' && Number.isFinite(value) && value >= 0)) return String(value).trim();
  throw new MalformedPayload(`${field} must be a decimal amount`);
}

/**
 * POS `menu.updated` (decision 0036): a store's whole menu.
 *   { "event_id", "type": "menu.updated", "occurred_at", "location": "S1", "time_zone": "Europe/Berlin",
 *     "items": [{ "id", "sku", "title", "price": "3.20", "windows": [{ "from": "07:00", "to": "11:00" }],
 *                 "modifier_groups": [{ "name", "min": 1, "max": 1, "modifiers": [{ "sku", "name", "price" }] }] }] }
 */
function signedJsonMenu(payload: Record<string, unknown>): AdaptedPayload {
  signedJsonEventId(payload);
  if (payload.type !== 'menu.updated') throw new MalformedPayload('type must be "menu.updated"');
  const occurredAt = timestamp(payload.occurred_at, 'occurred_at');
  if (!occurredAt) throw new MalformedPayload('occurred_at is required');
  const location = externalId(payload.location, 'location');
  const timeZone = typeof payload.time_zone === 'string' ? payload.time_zone : 'UTC';
  if (!isTimeZone(timeZone)) throw new MalformedPayload('time_zone must be an IANA time zone');
  const text = (value: unknown, field: string) => {
    const t = optionalText(value);
    if (!t) throw new MalformedPayload(`${field} must be a non-empty string`);
    return boundedText(t, field)!;
  };
  const items = list(payload.items, 'items', MAX_MENU_ITEMS, true).map((raw, i): MenuItem => {
    const at = `items[${i}]`;
    if (!isObject(raw)) throw new MalformedPayload(`${at} must be an object`);
    return {
      id: externalId(raw.id ?? raw.sku, `${at}.id`),
      sku: text(raw.sku, `${at}.sku`),
      title: text(raw.title, `${at}.title`),
      price: price(raw.price, `${at}.price`),
      windows: list(raw.windows, `${at}.windows`, 10).map((w, j) => {
        if (!isObject(w) || typeof w.from !== 'string' || typeof w.to !== 'string' || minutesOf(w.from) === null || minutesOf(w.to) === null || w.from === w.to) {
          throw new MalformedPayload(`${at}.windows[${j}] must be { from, to } in HH:MM, apart`);
        }
        return { from: w.from, to: w.to };
      }),
      modifierGroups: list(raw.modifier_groups, `${at}.modifier_groups`, MAX_MENU_LIST).map((g, j) => {
        const gat = `${at}.modifier_groups[${j}]`;
        if (!isObject(g)) throw new MalformedPayload(`${gat} must be an object`);
        const modifiers = list(g.modifiers, `${gat}.modifiers`, MAX_MENU_LIST, true).map((x, k) => {
          if (!isObject(x)) throw new MalformedPayload(`${gat}.modifiers[${k}] must be an object`);
          return { sku: text(x.sku, `${gat}.modifiers[${k}].sku`), name: text(x.name, `${gat}.modifiers[${k}].name`), price: price(x.price, `${gat}.modifiers[${k}].price`) };
        });
        const minSelections = wholeNumber(g.min ?? 0, `${gat}.min`, [0, MAX_MENU_LIST]);
        const maxSelections = wholeNumber(g.max ?? modifiers.length, `${gat}.max`, [Math.max(1, minSelections), MAX_MENU_LIST]);
        if (modifiers.length === 0 || minSelections > modifiers.length) throw new MalformedPayload(`${gat}: needs at least one modifier and at least min of them`);
        return { name: text(g.name, `${gat}.name`), minSelections, maxSelections, modifiers };
      }),
    };
  });
  for (const [i, item] of items.entries()) {
    const skus = item.modifierGroups.flatMap((g) => g.modifiers.map((x) => x.sku));
    if (new Set(skus).size !== skus.length) throw new MalformedPayload(`items[${i}]: a modifier sku appears twice in its groups`);
  }
  return { commands: [{ kind: 'menu', location, timeZone, items }], occurredAt };
}

/** Shopify `inventory_levels/update`: `available` is the new level of an item at a location. */
function shopifyInventoryLevel(payload: Record<string, unknown>): AdaptedPayload {
  const item = externalId(payload.inventory_item_id, 'inventory_item_id');
  const location = externalId(payload.location_id, 'location_id');
  if (payload.available === null) throw new MalformedPayload('available is null: the item is not tracked at this location');
  const level = wholeNumber(payload.available, 'available', [-MAX_STOCK_LEVEL, MAX_STOCK_LEVEL]);
  return { commands: [{ kind: 'level', item, location, level }], occurredAt: timestamp(payload.updated_at, 'updated_at') };
}

const stripHtml = (html: string) => html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
const optionalText = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : null);

/** Shopify `products/update`: the product, its variants (by sku) and their prices. */
function shopifyProduct(payload: Record<string, unknown>): AdaptedPayload {
  const id = externalId(payload.id, 'id');
  const title = optionalText(payload.title);
  if (!title) throw new MalformedPayload('title must be a non-empty string');
  if (!Array.isArray(payload.variants)) throw new MalformedPayload('variants must be an array');
  // A payload without `options` or `images` (a trimmed webhook's fields) leaves the catalog's own.
  const options = payload.options === undefined ? undefined : shopifyOptions(payload.options);
  const images = payload.images === undefined ? undefined : sourceImages(payload.images);
  const variants = payload.variants.map((variant, i) => {
    if (!isObject(variant)) throw new MalformedPayload(`variants[${i}] must be an object`);
    const price = variant.price === undefined || variant.price === null ? null : String(variant.price);
    // Shopify gives a variant's values as option1..option3, in the order of the product's options.
    const values = options?.map((option, k) => {
      const value = optionalText(variant[`option${k + 1}`]);
      if (!value || !option.values.includes(value)) throw new MalformedPayload(`variants[${i}].option${k + 1} must be one of the values of option "${option.name}"`);
      return { name: option.name, value };
    });
    const variantId = variant.id === undefined || variant.id === null ? null : String(variant.id);
    const imageId = variant.image_id === undefined || variant.image_id === null ? null : String(variant.image_id);
    return {
      sku: boundedText(typeof variant.sku === 'string' ? variant.sku.trim() : '', `variants[${i}].sku`)!,
      title: boundedText(optionalText(variant.title) ?? title, `variants[${i}].title`)!,
      barcode: boundedText(optionalText(variant.barcode), `variants[${i}].barcode`),
      price,
      inventoryItemId: variant.inventory_item_id === undefined || variant.inventory_item_id === null ? null : externalId(variant.inventory_item_id, `variants[${i}].inventory_item_id`),
      options: values,
      media: images
        ?.filter((image) => (variantId !== null && image.variantIds.includes(variantId)) || (imageId !== null && image.id === imageId))
        .slice(0, MAX_MEDIA)
        .map(({ url, alt }) => ({ url, alt })),
    };
  });
  const status = typeof payload.status === 'string' ? payload.status : payload.published_at ? 'active' : 'draft';
  return {
    commands: [
      {
        kind: 'product',
        externalRef: `shopify:${id}`,
        title: boundedText(title, 'title')!,
        description: boundedText(
          typeof payload.body_html === 'string' ? stripHtml(payload.body_html) || null : null,
          'body_html',
          INPUT_BOUNDS.maxLength['UpsertProductInput.description'],
        ),
        brand: boundedText(optionalText(payload.vendor), 'vendor'),
        published: status === 'active',
        options,
        media: images?.slice(0, MAX_MEDIA).map(({ url, alt }) => ({ url, alt })),
        variants,
      },
    ],
    occurredAt: timestamp(payload.updated_at, 'updated_at'),
  };
}

/** Most options and pictures a product (or a variant) keeps, as `upsertProduct` takes them (docs/limits.md). */
const MAX_OPTIONS = INPUT_BOUNDS.maxItems['UpsertProductInput.options']!;
const MAX_MEDIA = INPUT_BOUNDS.maxItems['UpsertProductInput.media']!;
const MAX_OPTION_VALUES = 100;
const MAX_MEDIA_URL = INPUT_BOUNDS.maxLength['MediaInput.url']!;

/**
 * A Shopify product's `options` ([{ name, position, values }]), in position order. A product
 * without options of its own has Shopify's placeholder, "Title" = "Default Title": none here.
 */
function shopifyOptions(value: unknown): ProductOptionValues[] {
  const options = list(value, 'options', MAX_OPTIONS)
    .map((raw, i) => {
      if (!isObject(raw)) throw new MalformedPayload(`options[${i}] must be an object`);
      const name = optionalText(raw.name);
      if (!name) throw new MalformedPayload(`options[${i}].name must be a non-empty string`);
      const values = list(raw.values, `options[${i}].values`, MAX_OPTION_VALUES, true).map((v, j) => {
        const text = optionalText(v);
        if (!text) throw new MalformedPayload(`options[${i}].values[${j}] must be a non-empty string`);
        return boundedText(text, `options[${i}].values[${j}]`)!;
      });
      if (values.length === 0 || new Set(values).size !== values.length) throw new MalformedPayload(`options[${i}].values must be 1 or more different values`);
      const position = typeof raw.position === 'number' ? raw.position : i + 1;
      return { name: boundedText(name, `options[${i}].name`, INPUT_BOUNDS.maxLength['ProductOptionInput.name'])!, values, position };
    })
    .sort((a, b) => a.position - b.position);
  if (new Set(options.map((o) => o.name)).size !== options.length) throw new MalformedPayload('options: each name once');
  if (options.length === 1 && options[0]!.name === 'Title' && options[0]!.values.length === 1 && options[0]!.values[0] === 'Default Title') return [];
  return options.map(({ name, values }) => ({ name, values }));
}

/**
 * A product's `images` as Shopify ([{ id, src, alt, position, variant_ids }]) and WooCommerce
 * ([{ id, src, alt }], in the order shown) send them, in position order.
 */
function sourceImages(value: unknown): (SourceMedia & { id: string | null; variantIds: string[] })[] {
  // Shopify keeps up to 250 pictures a product; the first MAX_MEDIA (by position) are kept.
  return list(value, 'images', 250)
    .map((raw, i) => {
      if (!isObject(raw)) throw new MalformedPayload(`images[${i}] must be an object`);
      const url = typeof raw.src === 'string' ? raw.src.trim() : '';
      const parsed = URL.canParse(url) ? new URL(url) : null;
      if (!parsed || !/^https?:$/.test(parsed.protocol) || url.length > MAX_MEDIA_URL) throw new MalformedPayload(`images[${i}].src must be an http(s) address of at most ${MAX_MEDIA_URL} characters`);
      return {
        id: raw.id === undefined || raw.id === null ? null : String(raw.id),
        url,
        alt: boundedText(optionalText(raw.alt), `images[${i}].alt`),
        variantIds: Array.isArray(raw.variant_ids) ? raw.variant_ids.map(String) : [],
        position: typeof raw.position === 'number' ? raw.position : i + 1,
      };
    })
    .sort((a, b) => a.position - b.position);
}

/**
 * WooCommerce has one stock per shop, not per location: its levels name this location, which a
 * tenant maps to a store (`mapExternalLocation(source: WOO, externalId: "woocommerce")`).
 */
export const WOO_LOCATION = 'woocommerce';

/** WooCommerce's `*_gmt` times carry no zone: they are UTC. */
function wooTime(payload: Record<string, unknown>): Date | null {
  const gmt = payload.date_modified_gmt;
  if (typeof gmt === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(gmt.trim())) return timestamp(`${gmt.trim()}Z`, 'date_modified_gmt');
  return timestamp(payload.date_modified_gmt ?? null, 'date_modified_gmt');
}

/**
 * WooCommerce `product.created` / `product.updated`: the REST API's product JSON. A simple
 * product is one variant (its sku, `price`, and its stock when `manage_stock`); a variable
 * product's `variations` are only ids, so it arrives without variants (the worker sends it to
 * review). Stock is a level at WOO_LOCATION of the item named by the product's id.
 */
export function adaptWoo(_topic: string, payload: Record<string, unknown>): AdaptedPayload {
  const id = externalId(payload.id, 'id');
  const title = optionalText(payload.name);
  if (!title) throw new MalformedPayload('name must be a non-empty string');
  const html = [payload.description, payload.short_description].find((d): d is string => typeof d === 'string' && stripHtml(d) !== '');
  const brands = Array.isArray(payload.brands) ? payload.brands : [];
  const brand = isObject(brands[0]) ? optionalText(brands[0].name) : null;
  const price = [payload.price, payload.regular_price].find((p) => (typeof p === 'string' && p.trim() !== '') || typeof p === 'number');
  const commands: IngestionCommand[] = [];
  const variable = payload.type === 'variable';
  commands.push({
    kind: 'product',
    externalRef: `woo:${id}`,
    title: boundedText(title, 'name')!,
    description: boundedText(html ? stripHtml(html) : null, 'description', INPUT_BOUNDS.maxLength['UpsertProductInput.description']),
    brand: boundedText(brand, 'brands[0].name'),
    published: payload.status === 'publish',
    // Its pictures, the first as WooCommerce's featured one; its attributes are untyped names and
    // values (not declared attributes), and a variable product's options live on its variations.
    media: payload.images === undefined ? undefined : sourceImages(payload.images).slice(0, MAX_MEDIA).map(({ url, alt }) => ({ url, alt })),
    variants: variable
      ? []
      : [{ sku: boundedText(typeof payload.sku === 'string' ? payload.sku.trim() : '', 'sku')!, title: boundedText(title, 'name')!, barcode: boundedText(optionalText(payload.global_unique_id), 'global_unique_id'), price: price === undefined ? null : String(price).trim(), inventoryItemId: id }],
  });
  if (!variable && payload.manage_stock === true && payload.stock_quantity !== null && payload.stock_quantity !== undefined) {
    const level = wholeNumber(payload.stock_quantity, 'stock_quantity', [-MAX_STOCK_LEVEL, MAX_STOCK_LEVEL]);
    commands.push({ kind: 'level', item: id, location: WOO_LOCATION, level });
  }
  return { commands, occurredAt: wooTime(payload) };
}

/** The POS/ERP format: a list of deltas or of levels. */
function signedJsonStock(topic: string, payload: Record<string, unknown>): AdaptedPayload {
  signedJsonEventId(payload);
  if (payload.type !== topic) throw new MalformedPayload(`type must be "${topic}"`);
  const occurredAt = timestamp(payload.occurred_at, 'occurred_at');
  if (!occurredAt) throw new MalformedPayload('occurred_at is required');
  if (!Array.isArray(payload.items) || payload.items.length === 0) throw new MalformedPayload('items must be a non-empty array');
  if (payload.items.length > MAX_ITEMS) throw new MalformedPayload(`at most ${MAX_ITEMS} items per event`);
  const commands = payload.items.map((raw, i): StockCommand => {
    if (!isObject(raw)) throw new MalformedPayload(`items[${i}] must be an object`);
    const item = externalId(raw.sku, `items[${i}].sku`);
    const location = externalId(raw.location, `items[${i}].location`);
    if (topic === 'stock.delta') {
      const delta = wholeNumber(raw.delta, `items[${i}].delta`, [-MAX_QUANTITY, MAX_QUANTITY]);
      if (delta === 0) throw new MalformedPayload(`items[${i}].delta must not be zero`);
      return { kind: 'delta', item, location, delta };
    }
    const level = wholeNumber(raw.level, `items[${i}].level`, [Number.MIN_SAFE_INTEGER, MAX_STOCK_LEVEL]);
    if (level < 0) throw new MalformedPayload(`items[${i}].level must not be negative`);
    return { kind: 'level', item, location, level };
  });
  return { commands, occurredAt };
}
