import { badInput } from '../errors.js';
import { isUuid } from './context.js';

/**
 * Global object identification (decision 0026): a `Node.id` is `base64url("<Type>:<key>")`
 * without padding, `<key>` the owning subgraph's tenant-scoped key, its parts joined by `:` (a `:`
 * or `%` inside a part percent-encoded). Types whose `id` was a UUID before (Product, Category,
 * Store, Order) keep it: `node(id:)` takes their raw UUID, as clients stored it.
 */
export const NODE_TYPES = ['Product', 'Category', 'Store', 'Order', 'Variant', 'StockLevel', 'Price'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** Key parts of each type, in order. */
const KEY_PARTS: Record<NodeType, number> = { Product: 1, Category: 1, Store: 1, Order: 1, Variant: 1, StockLevel: 2, Price: 2 };

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
  const text = /^[A-Za-z0-9_-]+$/.test(id) ? Buffer.from(id, 'base64url').toString('utf8') : '';
  const [type, ...parts] = text.split(':');
  const known = NODE_TYPES.find((t) => t === type);
  if (!known || parts.length !== KEY_PARTS[known] || parts.some((p) => p === '') || toGlobalId(known, ...parts.map(unescapePart)) !== id) {
    throw badInput(`${JSON.stringify(id.slice(0, 64))} is not an id of this API (an object's \`id\`)`, 'id');
  }
  return { type: known, key: parts.map(unescapePart) };
}
