import { GraphQLError } from 'graphql';
import { parseMoney, type Money } from '../../../../lib/money.js';
import { isValidSku } from '../../../../lib/sku.js';
import { checkText, INPUT_BOUNDS, MAX_STOCK_LEVEL, MAX_STRING_LENGTH } from '../../../../lib/input-bounds.js';
import { isMediaUrl, MAX_MEDIA_URL } from '../services/attributes.service.js';

/**
 * The catalog feed format: CSV (RFC 4180, UTF-8, optional BOM), one variant per row, a header
 * row naming the columns in any order. `sku` and `title` are required; rows with the same
 * `handle` are variants of one product (default: each sku its own product).
 *
 *   handle, title, sku, variant_title, brand, description, barcode, published,
 *   price, currency, store, stock,
 *   option1_name, option1_value, option2_name, option2_value, option3_name, option3_value,
 *   image_src, image_alt, variant_image, attribute:<name> …
 *
 * `price` needs `currency`; with a `store` (its code) it is that store's price, without one every
 * store's. `stock` is the level (units on hand) to set in `store`, and needs one.
 *
 * Options, pictures and attributes, as Shopify's product CSV has them: `optionN_name` on a row (or
 * an earlier row of the handle, or the product's option N already) names the option whose value
 * for this row's variant is `optionN_value`; `image_src` (with `image_alt`) is a picture of the
 * product, `variant_image` the variant's picture; `attribute:roast` is the product's value of the
 * declared attribute `roast`. A feed adds option values and pictures to what the product has and
 * sets the attributes it names; it removes none (`upsertProduct` replaces).
 */
export const FEED_COLUMNS = [
  'handle', 'title', 'sku', 'variant_title', 'brand', 'description', 'barcode', 'published', 'price', 'currency', 'store', 'stock',
  'option1_name', 'option1_value', 'option2_name', 'option2_value', 'option3_name', 'option3_value', 'image_src', 'image_alt', 'variant_image',
] as const;
export type FeedColumn = (typeof FEED_COLUMNS)[number];
/** A column of a declared attribute's values. */
const ATTRIBUTE_COLUMN = /^attribute:([a-z][a-z0-9_]{0,63})$/;
/** Most attribute columns a feed may have. */
export const MAX_ATTRIBUTE_COLUMNS = 50;
const URL_COLUMNS: readonly FeedColumn[] = ['image_src', 'variant_image'];
const REQUIRED: readonly FeedColumn[] = ['sku', 'title'];
const MAX_TEXT = 10_000;
const OPTION_NAME_LENGTH = INPUT_BOUNDS.maxLength['ProductOptionInput.name']!;
const MAX_STOCK = MAX_STOCK_LEVEL;

export interface FeedRow {
  line: number;
  handle: string;
  title: string;
  sku: string;
  variantTitle: string;
  brand: string | null;
  description: string | null;
  barcode: string | null;
  /** null: unchanged (new products are published). */
  published: boolean | null;
  price: Money | null;
  storeCode: string | null;
  stock: number | null;
  /** Option N's name (if on this row) and value, N = index + 1; empty values are left out. */
  options: { index: number; name: string | null; value: string }[];
  image: { url: string; alt: string | null } | null;
  variantImage: string | null;
  attributes: { name: string; value: string }[];
}

/** Each column's position, by its name (a FeedColumn or `attribute:<name>`). */
export type Header = Map<string, number>;

/** The columns' positions, or why the header cannot be used (the whole import fails). */
export function readHeader(fields: string[]): Header | string {
  const names = fields.map((f) => f.trim().toLowerCase());
  const unknown = names.filter((n) => !(FEED_COLUMNS as readonly string[]).includes(n) && !ATTRIBUTE_COLUMN.test(n));
  if (unknown.length) return `unknown column(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')}; the columns are ${FEED_COLUMNS.join(', ')} and attribute:<name>`;
  if (names.filter((n) => ATTRIBUTE_COLUMN.test(n)).length > MAX_ATTRIBUTE_COLUMNS) return `at most ${MAX_ATTRIBUTE_COLUMNS} attribute columns`;
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length) return `column(s) ${[...new Set(repeated)].join(', ')} appear more than once`;
  const missing = REQUIRED.filter((c) => !names.includes(c));
  if (missing.length) return `missing required column(s) ${missing.join(', ')}`;
  return new Map(names.map((n, i) => [n, i]));
}

/** One row, checked; a string says why it goes to the review queue. */
export function readRow(header: Header, fields: string[], line: number): FeedRow | string {
  if (fields.length !== header.size) return `expected ${header.size} fields, found ${fields.length}`;
  if (fields.some((f) => f.includes('\uFFFD'))) return 'not valid UTF-8 (the feed must be UTF-8 encoded)';
  if (fields.some((f) => f.length > MAX_TEXT)) return `a field is longer than ${MAX_TEXT} characters`;
  const get = (column: string) => {
    const i = header.get(column);
    return i === undefined ? '' : fields[i]!.trim();
  };
  // The bounds of the same fields over GraphQL (lib/input-bounds.ts); a NUL anywhere, as PostgreSQL cannot store it.
  for (const column of header.keys()) {
    const max = column === 'description' ? MAX_TEXT : URL_COLUMNS.includes(column as FeedColumn) ? MAX_MEDIA_URL : MAX_STRING_LENGTH;
    const refused = checkText(get(column), column, max);
    if (refused) return refused.message;
  }
  for (const column of URL_COLUMNS) {
    if (get(column) && !isMediaUrl(get(column))) return `${column} must be an http(s) address of at most ${MAX_MEDIA_URL} characters`;
  }
  if (get('image_alt') && !get('image_src')) return 'image_alt needs image_src';
  const options = [1, 2, 3].flatMap((n): (string | FeedRow['options'][number])[] => {
    const name = get(`option${n}_name`);
    const value = get(`option${n}_value`);
    if (name && !value) return [`option${n}_name needs option${n}_value`];
    if (name.length > OPTION_NAME_LENGTH) return [`option${n}_name is longer than ${OPTION_NAME_LENGTH} characters`];
    return value ? [{ index: n - 1, name: name || null, value }] : [];
  });
  const optionProblem = options.find((o): o is string => typeof o === 'string');
  if (optionProblem) return optionProblem;
  const sku = get('sku');
  if (!isValidSku(sku)) return sku ? `sku "${sku}" must be 1-64 letters, digits, ".", "_" or "-"` : 'sku is empty';
  const title = get('title');
  if (!title) return 'title is empty';
  const publishedText = get('published').toLowerCase();
  let published: boolean | null = null;
  if (['true', 'yes', '1'].includes(publishedText)) published = true;
  else if (['false', 'no', '0'].includes(publishedText)) published = false;
  else if (publishedText) return `published must be true or false, not "${get('published')}"`;
  let price: Money | null = null;
  const amount = get('price');
  if (amount) {
    if (!get('currency')) return 'price needs a currency';
    try {
      price = parseMoney(amount, get('currency'));
    } catch (error) {
      return error instanceof GraphQLError ? error.message : 'price is not valid';
    }
  }
  const stockText = get('stock');
  let stock: number | null = null;
  if (stockText) {
    if (!/^\d{1,10}$/.test(stockText) || Number(stockText) > MAX_STOCK) return `stock must be a whole number from 0 to ${MAX_STOCK}, not "${stockText}"`;
    stock = Number(stockText);
  }
  const storeCode = get('store') || null;
  if (stock !== null && !storeCode) return 'stock needs a store';
  return {
    line,
    handle: get('handle') || sku,
    title,
    sku,
    variantTitle: get('variant_title') || title,
    brand: get('brand') || null,
    description: get('description') || null,
    barcode: get('barcode') || null,
    published,
    price,
    storeCode,
    stock,
    options: options as FeedRow['options'],
    image: get('image_src') ? { url: get('image_src'), alt: get('image_alt') || null } : null,
    variantImage: get('variant_image') || null,
    attributes: [...header.keys()].flatMap((column) => {
      const name = ATTRIBUTE_COLUMN.exec(column)?.[1];
      return name && get(column) ? [{ name, value: get(column) }] : [];
    }),
  };
}
