import { CategoryEntity } from '../data/entities/category.entity.js';
import type { Resolvers } from '../generated/graphql.js';
import { draftView } from '../versions/product-versions.service.js';
import { nodeResolvers } from './node.js';

export const resolvers: Resolvers = {
  Query: {
    products: (_root, args, ctx) => ctx.catalog.products(ctx, args),
    product: (_root, { id }, ctx) => ctx.loaders.productById.load(id),
    productByHandle: (_root, { handle }, ctx) => ctx.catalog.productByHandle(ctx, handle),
    // A draft's variants are as hidden from the storefront as the draft.
    variant: async (_root, { sku }, ctx) => {
      const variant = await ctx.loaders.variantBySku.load(sku);
      return variant && (await ctx.loaders.productById.load(variant.productId)) ? variant : null;
    },
    search: (_root, args, ctx) => ctx.search.search(ctx, args),
    categories: (_root, _args, ctx) => ctx.catalog.categories(ctx),
    attributeDefinitions: (_root, _args, ctx) => ctx.attributes.definitions(ctx),
    trending: (_root, args, ctx) => ctx.recommendations.trending(ctx, args),
    feedImport: (_root, { id }, ctx) => ctx.feeds.get(ctx, id),
    feedImports: (_root, { first }, ctx) => ctx.feeds.list(ctx, first),
    productEnrichment: (_root, { id }, ctx) => ctx.catalog.productEnrichment(ctx, id),
    productVersion: (_root, { id, version }, ctx) => ctx.versions.version(ctx, id, version),
    ...nodeResolvers.Query,
  },
  Node: nodeResolvers.Node,
  Mutation: {
    upsertProduct: (_root, { input }, ctx) => ctx.catalog.upsertProduct(ctx, input),
    createCategory: (_root, { input }, ctx) => ctx.catalog.createCategory(ctx, input),
    defineAttribute: (_root, { input }, ctx) => ctx.attributes.define(ctx, input),
    archiveProduct: (_root, { id, archived }, ctx) => ctx.catalog.archiveProduct(ctx, id, archived ?? true),
    archiveCategory: (_root, { id, archived }, ctx) => ctx.catalog.archiveCategory(ctx, id, archived ?? true),
    importCatalogFeed: (_root, { csv }, ctx) => ctx.feeds.importText(ctx, csv),
    setModifierGroups: (_root, { productId, groups }, ctx) => ctx.menus.setModifierGroups(ctx, productId, groups),
    setAvailabilityWindows: (_root, { input }, ctx) => ctx.menus.setAvailabilityWindows(ctx, input),
    setSearchSynonyms: (_root, { input }, ctx) => ctx.search.setSynonyms(ctx, input.groups),
    setEnrichmentRules: (_root, { input }, ctx) => ctx.catalog.setEnrichmentRules(ctx, input),
    applyEnrichment: (_root, { productId, field }, ctx) => ctx.catalog.decideEnrichment(ctx, productId, field, true),
    rejectEnrichment: (_root, { productId, field }, ctx) => ctx.catalog.decideEnrichment(ctx, productId, field, false),
    revertProduct: (_root, { id, version }, ctx) => ctx.versions.revert(ctx, id, version),
    saveProductDraft: (_root, { input }, ctx) => ctx.versions.saveDraft(ctx, input),
    publishProduct: (_root, { id, at }, ctx) => ctx.versions.publish(ctx, id, at),
    discardProductDraft: (_root, { id }, ctx) => ctx.versions.discardDraft(ctx, id),
  },
  ProductVersion: {
    changedAt: (v) => v.changedAt.toISOString(),
  },
  ProductVersionState: {
    category: (state, _args, ctx) => (state.categoryId ? ctx.loaders.categoryById.load(state.categoryId) : null),
  },
  ProductDraft: {
    category: (draft, _args, ctx) => (draft.categoryId ? ctx.loaders.categoryById.load(draft.categoryId) : null),
    publishAt: (draft) => draft.publishAt?.toISOString() ?? null,
    updatedAt: (draft) => draft.updatedAt.toISOString(),
  },
  FeedImport: {
    createdAt: (feed) => feed.createdAt.toISOString(),
    finishedAt: (feed) => feed.finishedAt?.toISOString() ?? null,
    errors: (feed, args, ctx) => ctx.feeds.rowErrors(ctx, feed.id, args),
  },
  Product: {
    __resolveReference: (ref, ctx) => ctx.loaders.productById.load(ref.id),
    variants: (product, _args, ctx) => ctx.loaders.variantsByProduct.load(product.id),
    category: (product, _args, ctx) => (product.categoryId ? ctx.loaders.categoryById.load(product.categoryId) : null),
    handle: (product) => product.handle ?? '',
    createdAt: (product) => product.createdAt.toISOString(),
    updatedAt: (product) => product.updatedAt.toISOString(),
    versions: (product, args, ctx) => ctx.versions.versions(ctx, product.id, args),
    draft: async (product, _args, ctx) => {
      const row = await ctx.loaders.draftByProduct.load(product.id);
      return row ? draftView(product, row) : null;
    },
    modifierGroups: (product, _args, ctx) => ctx.loaders.modifierGroupsByProduct.load(product.id),
    orderable: (product, { storeId, at }, ctx) => ctx.menus.orderable(ctx, product.id, storeId, at),
    availability: (product, { storeId }, ctx) => ctx.menus.availability(ctx, product.id, storeId),
    attributes: (product, _args, ctx) => ctx.loaders.attributesByProduct.load(product.id),
    options: (product) => product.options ?? [],
    media: (product) => (product.media ?? []).map((item, position) => ({ ...item, position })),
    archived: (product) => product.archivedAt !== null,
    recommendations: (product, args, ctx) => ctx.recommendations.recommendations(ctx, product.id, args),
  },
  Variant: {
    __resolveReference: (ref, ctx) => ctx.loaders.variantBySku.load(ref.sku),
    ...nodeResolvers.Variant,
    product: async (variant, _args, ctx) => {
      const product = await ctx.loaders.productById.load(variant.productId);
      if (!product) throw new Error(`variant ${variant.sku} has no product`);
      return product;
    },
    options: (variant) => variant.options ?? [],
    media: (variant) => (variant.media ?? []).map((item, position) => ({ ...item, position })),
  },
  Category: {
    __resolveReference: (ref, ctx) => ctx.loaders.categoryById.load(ref.id),
    parent: (category, _args, ctx) => (category.parentId ? ctx.loaders.categoryById.load(category.parentId) : null),
    children: (category, _args, ctx) => ctx.catalog.childCategories(ctx, category.id),
    path: async (category, _args, ctx) => {
      const path = await ctx.loaders.categoryById.loadMany(category.pathIds ?? [category.id]);
      return path.filter((c): c is CategoryEntity => c instanceof CategoryEntity);
    },
    archived: (category) => category.archivedAt !== null,
  },
};
