import { GraphQLError } from 'graphql';
import { parseMoney, type Money } from '../../../../lib/money.js';
import { isValidSku } from '../../../../lib/sku.js';
import { checkText, MAX_STOCK_LEVEL, MAX_STRING_LENGTH } from '../../../../lib/input-bounds.js';

/**
 * The catalog feed format: CSV (RFC 4180, UTF-8, optional BOM), one variant per row, a header
 * row naming the columns in any order. `sku` and `title` are required; rows with the same
 * `handle` are variants of one product (default: each sku its own product).
 *
 *   handle, title, sku, variant_title, brand, description, barcode, published,
 *   price, currency, store, stock
 *
 * `price` needs `currency`; with a `store` (its code) it is that store's price, without one every
 * store's. `stock` is the level (units on hand) to set in `store`, and needs one.
 */
export const FEED_COLUMNS = ['handle', 'title', 'sku', 'variant_title', 'brand', 'description', 'barcode', 'published', 'price', 'currency', 'store', 'stock'] as const;
export type FeedColumn = (typeof FEED_COLUMNS)[number];
const REQUIRED: readonly FeedColumn[] = ['sku', 'title'];
const MAX_TEXT = 10_000;
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
}

export type Header = Map<FeedColumn, number>;

/** The columns' positions, or why the header cannot be used (the whole import fails). */
export function readHeader(fields: string[]): Header | string {
  const names = fields.map((f) => f.trim().toLowerCase());
  const unknown = names.filter((n) => !(FEED_COLUMNS as readonly string[]).includes(n));
  if (unknown.length) return `unknown column(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')}; the columns are ${FEED_COLUMNS.join(', ')}`;
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length) return `column(s) ${[...new Set(repeated)].join(', ')} appear more than once`;
  const missing = REQUIRED.filter((c) => !names.includes(c));
  if (missing.length) return `missing required column(s) ${missing.join(', ')}`;
  return new Map(names.map((n, i) => [n as FeedColumn, i]));
}

/** One row, checked; a string says why it goes to the review queue. */
export function readRow(header: Header, fields: string[], line: number): FeedRow | string {
  if (fields.length !== header.size) return `expected ${header.size} fields, found ${fields.length}`;
  if (fields.some((f) => f.includes('\uFFFD'))) return 'not valid UTF-8 (the feed must be UTF-8 encoded)';
  if (fields.some((f) => f.length > MAX_TEXT)) return `a field is longer than ${MAX_TEXT} characters`;
  const get = (column: FeedColumn) => {
    const i = header.get(column);
    return i === undefined ? '' : fields[i]!.trim();
  };
  // The bounds of the same fields over GraphQL (lib/input-bounds.ts); a NUL anywhere, as PostgreSQL cannot store it.
  for (const column of FEED_COLUMNS) {
    const refused = checkText(get(column), column, column === 'description' ? MAX_TEXT : MAX_STRING_LENGTH);
    if (refused) return refused.message;
  }
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
  };
}
