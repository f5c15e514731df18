import { parseGlobalId, toGlobalId, type NodeType } from '../../../../lib/graphql/global-id.js';
import { CategoryEntity } from '../data/entities/category.entity.js';
import { ProductEntity } from '../data/entities/product.entity.js';
import { VariantEntity } from '../data/entities/variant.entity.js';
import type { Context } from '../context.js';
import type { NodeResolvers, Resolvers } from '../generated/graphql.js';

type Reference = { __typename: Exclude<NodeType, 'Product' | 'Category' | 'Variant'>; id: string };
type NodeValue = ProductEntity | CategoryEntity | VariantEntity | Reference;

/** Who may read orders: `order(id:)`'s scopes. */
const ORDER_READERS = ['pos', 'admin', 'customer'] as const;
const orderReference = (ctx: Context, id: string): Reference | null =>
  ctx.roles.some((role) => (ORDER_READERS as readonly string[]).includes(role)) ? { __typename: 'Order', id } : null;

/**
 * Who may get a reference of each type the catalog hands on without a look of its own: the
 * roles of the field that reads it elsewhere (`cart(id:)`: anyone but a partner, `order(id:)`,
 * `me` and staff, `priceList(id:)`). The owner checks again (a cart's holder, a customer her own);
 * this keeps `node` within each audience's schema (a partner's lacks all of these).
 */
const READERS: Record<'OrderLine' | 'Shipment' | 'OrderReturn' | 'Payment' | 'PaymentRefund' | 'Cart' | 'CartLine' | 'Customer' | 'PriceList' | 'Promotion' | 'Reservation' | 'Transfer' | 'WebhookSubscription' | 'FeatureFlag', readonly string[]> = {
  OrderLine: ORDER_READERS,
  Shipment: ORDER_READERS,
  OrderReturn: ORDER_READERS,
  Payment: ORDER_READERS,
  PaymentRefund: ORDER_READERS,
  Cart: ['storefront', 'pos', 'admin', 'customer'],
  CartLine: ['storefront', 'pos', 'admin', 'customer'],
  Customer: ['pos', 'admin', 'customer'],
  PriceList: ['admin'],
  Promotion: ['admin'],
  Reservation: ['pos', 'admin'],
  Transfer: ['pos', 'admin'],
  WebhookSubscription: ['admin'],
  FeatureFlag: ['admin'],
};

/**
 * `node(id:)` for the whole supergraph (decision 0026). The catalog answers its own types; a
 * Store, StockLevel or Price id goes back as an entity reference (`@key(fields: "id")`), so the
 * gateway asks tenant, inventory or pricing, which answer null for what the caller's tenant lacks.
 * A raw UUID is a product's, a category's or a store's (the catalog knows the tenant's stores from
 * the tenant subgraph's events), else it may be an order's: for a caller who may read orders (as
 * `order(id:)`), orders is asked; for anyone else it is null, so a partner or a shopper never gets
 * a type outside its schema.
 */
async function resolveNode(ctx: Context, id: string): Promise<NodeValue | null> {
  const { type, key } = parseGlobalId(id);
  const [first] = key as [string];
  switch (type) {
    case 'uuid':
      return (
        (await ctx.loaders.productById.load(first)) ??
        (await ctx.loaders.categoryById.load(first)) ??
        ((await ctx.loaders.knownStore.load(first)) ? { __typename: 'Store', id: first } : orderReference(ctx, first))
      );
    case 'Product':
      return ctx.loaders.productById.load(first);
    case 'Category':
      return ctx.loaders.categoryById.load(first);
    case 'Variant': {
      // A draft's variants are as hidden as the draft (as `variant(sku:)`).
      const variant = await ctx.loaders.variantBySku.load(first);
      return variant && (await ctx.loaders.productById.load(variant.productId)) ? variant : null;
    }
    case 'Store':
      return { __typename: type, id: first };
    case 'Order':
      return orderReference(ctx, first);
    case 'StockLevel':
    case 'Price':
      return { __typename: type, id };
    case 'Cart':
      // A raw `cart_…` id or its encoded form: orders reads the capability itself.
      return ctx.roles.some((role) => READERS.Cart.includes(role)) ? { __typename: type, id: first } : null;
    case 'OrderLine':
    case 'Shipment':
    case 'OrderReturn':
    case 'Payment':
    case 'PaymentRefund':
    case 'CartLine':
    case 'Customer':
    case 'PriceList':
    case 'Promotion':
    case 'Reservation':
    case 'Transfer':
    case 'WebhookSubscription':
    case 'FeatureFlag':
      return ctx.roles.some((role) => READERS[type].includes(role)) ? { __typename: type, id } : null;
  }
}

const resolveType: NodeResolvers<Context>['__resolveType'] = (value) => {
  if (value instanceof ProductEntity) return 'Product';
  if (value instanceof CategoryEntity) return 'Category';
  if (value instanceof VariantEntity) return 'Variant';
  return (value as Reference).__typename;
};

/** `Query.node`, `Query.nodes`, `Node` and the ids the catalog computes. */
export const nodeResolvers = {
  Query: {
    node: (_root, { id }, ctx) => resolveNode(ctx, id),
    // Every id is checked before any is looked up: one malformed id fails the field, not a lookup.
    nodes: (_root, { ids }, ctx) => {
      ids.forEach((id) => parseGlobalId(id));
      return Promise.all(ids.map((id) => resolveNode(ctx, id)));
    },
  },
  Node: { __resolveType: resolveType },
  Variant: { id: (variant) => toGlobalId('Variant', variant.sku!) },
} satisfies Pick<Resolvers, 'Query' | 'Node' | 'Variant'>;
