import { badInput } from '../errors.js';
import { isUuid } from './context.js';

/**
 * Global object identification (decision 0026): a `Node.id` is `base64url("<Type>:<key>")`
 * without padding, `<key>` the owning subgraph's tenant-scoped key, its parts joined by `:` (a `:`
 * or `%` inside a part percent-encoded). Types whose `id` was a UUID before (Product, Category,
 * Store, Order) keep it: `node(id:)` takes their raw UUID, as clients stored it. An order's
 * shipments, returns, payments and refunds are keyed `<orderId>:<uuid>`, found through the order. A cart keeps its
 * `cart_…` id too (a capability, told apart by its form).
 */
export const NODE_TYPES = [
  'Product', 'Category', 'Store', 'Order', 'Variant', 'StockLevel', 'Price',
  'OrderLine', 'Cart', 'CartLine', 'Customer', 'PriceList', 'Promotion', 'Reservation', 'Transfer',
  'WebhookSubscription', 'FeatureFlag', 'Shipment', 'OrderReturn', 'Payment', 'PaymentRefund',
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** Key parts of each type, in order. */
const KEY_PARTS: Record<NodeType, number> = {
  Product: 1, Category: 1, Store: 1, Order: 1, Variant: 1, StockLevel: 2, Price: 2,
  OrderLine: 2, Cart: 1, CartLine: 2, Customer: 1, PriceList: 1, Promotion: 1, Reservation: 1, Transfer: 1,
  WebhookSubscription: 1, FeatureFlag: 1, Shipment: 2, OrderReturn: 2, Payment: 2, PaymentRefund: 2,
};

/** A cart's id as orders makes it: `cart_` and 32 random url-safe characters. */
export const isCartId = (value: string) => /^cart_[\w-]{32}$/.test(value);

/**
 * Types whose first key part is a row id of a known form: an encoded id of one of these whose
 * first part has another form names nothing and is refused like any malformed id.
 */
const ROW_KEYED: Partial<Record<NodeType, (first: string) => boolean>> = {
  Product: isUuid, Category: isUuid, Store: isUuid, Order: isUuid, OrderLine: isUuid, Customer: isUuid, PriceList: isUuid, Promotion: isUuid,
  Reservation: isUuid, Transfer: isUuid, WebhookSubscription: isUuid,
  Shipment: isUuid, OrderReturn: isUuid, Payment: isUuid, PaymentRefund: isUuid,
  Cart: isCartId, CartLine: isCartId,
};

/**
 * Types keyed `<orderId>:<rowId>` (found through their order's guard) whose second part is their
 * own row id: an argument that took that row id (`returnId`) reads their encoded id as it.
 */
const ORDER_CHILD: ReadonlySet<NodeType> = new Set<NodeType>(['Shipment', 'OrderReturn', 'Payment', 'PaymentRefund']);

const escapePart = (part: string) => part.replace(/%/g, '%25').replace(/:/g, '%3A');
const unescapePart = (part: string) => part.replace(/%3A/gi, ':').replace(/%25/g, '%');

/** The opaque id of an object of `type` with these key parts. */
export function toGlobalId(type: NodeType, ...key: string[]): string {
  return Buffer.from([type, ...key.map(escapePart)].join(':'), 'utf8').toString('base64url');
}

export interface GlobalId {
  type: NodeType;
  key: string[];
}

/**
 * What an id names: a global id, or a raw UUID (`type` `uuid`: a Product, Category, Store or Order;
 * the caller looks in turn). BAD_USER_INPUT (`field: id`) when it is neither; an id that names nothing in the
 * caller's tenant is the owner's business (null), never an error.
 */
export function parseGlobalId(id: string): GlobalId | { type: 'uuid'; key: [string] } {
  if (isUuid(id)) return { type: 'uuid', key: [id] };
  if (isCartId(id)) return { type: 'Cart', key: [id] };
  const text = /^[A-Za-z0-9_-]+$/.test(id) ? Buffer.from(id, 'base64url').toString('utf8') : '';
  const [type, ...parts] = text.split(':');
  const known = NODE_TYPES.find((t) => t === type);
  if (
    !known ||
    parts.length !== KEY_PARTS[known] ||
    parts.some((p) => p === '') ||
    (ROW_KEYED[known] && !ROW_KEYED[known](unescapePart(parts[0]!))) ||
    toGlobalId(known, ...parts.map(unescapePart)) !== id
  ) {
    throw badInput(`${JSON.stringify(id.slice(0, 64))} is not an id of this API (an object's \`id\`)`, 'id');
  }
  return { type: known, key: parts.map(unescapePart) };
}

/**
 * The row id an argument names, for arguments that took a UUID before their type became `Node`
 * with an encoded id: the encoded id of a one-part row-keyed type (`Customer:<uuid>`,
 * `Product:<uuid>`) is its row id, that of an order's shipment, return, payment or refund
 * (`OrderReturn:<orderId>:<uuid>`) its second part; anything else is returned as sent, for the service to judge as
 * it always did (so a raw UUID a client stored keeps working).
 */
export function rowIdOf(id: string): string {
  if (isUuid(id) || isCartId(id) || id.length > 120 || !/^[A-Za-z0-9_-]+$/.test(id)) return id;
  const [type, row, ...rest] = Buffer.from(id, 'base64url').toString('utf8').split(':');
  const known = NODE_TYPES.find((t) => t === type);
  if (known && ORDER_CHILD.has(known)) {
    const [child, ...more] = rest;
    return row && child && more.length === 0 && isUuid(row) && isUuid(child) && toGlobalId(known, row, child) === id ? child : id;
  }
  const check = known && KEY_PARTS[known] === 1 ? ROW_KEYED[known] : undefined;
  return known && check && rest.length === 0 && row && check(row) && toGlobalId(known, row) === id ? row : id;
}

/** The key parts of `id` if it is an encoded id of `type`, else null (a raw row id of a one-part row-keyed type is its own key). */
export function keyOf(type: NodeType, id: string): string[] | null {
  if (KEY_PARTS[type] === 1 && ROW_KEYED[type]?.(id)) return [id];
  try {
    const parsed = parseGlobalId(id);
    return parsed.type === type ? parsed.key : null;
  } catch {
    return null;
  }
}

/**
 * An entity reference's `resolve(key)` when `id` is an id of `type` (its encoded form, or the raw
 * UUID it had), else null: `node(id:)` answers null for what names nothing, never an error.
 */
export async function withKey<T>(type: NodeType, id: string | undefined | null, resolve: (key: [string, string]) => T | Promise<T>): Promise<T | null> {
  const key = id ? keyOf(type, id) : null;
  // As many parts as the type has (one or two): a one-part type's resolver reads only the first.
  return key ? resolve(key as [string, string]) : null;
}
