import { toGlobalId, withKey } from '../../../../lib/graphql/global-id.js';
import { roleName } from '../../../../lib/tenant/roles.js';
import type { Resolvers } from '../generated/graphql.js';
import { webhookResolvers } from './webhook-subscriptions.js';

export const resolvers: Resolvers = {
  Query: {
    me: (_root, _args, ctx) => ctx.customers.me(ctx),
    tenant: (_root, _args, ctx) => ctx.tenants.current(ctx),
    stores: (_root, _args, ctx) => ctx.tenants.stores(ctx),
    store: (_root, { id }, ctx) => ctx.tenants.store(ctx, id),
    resolveTenant: (_root, args, ctx) => ctx.tenants.resolveAs(ctx, args),
    apiKeys: (_root, _args, ctx) => ctx.apiKeys.list(ctx),
    authenticateApiKey: (_root, { keyHash }, ctx) => ctx.apiKeys.authenticate(ctx, keyHash),
    webhookSources: (_root, _args, ctx) => ctx.webhookSources.list(ctx),
    webhookSecret: (_root, { tenantSlug, source }, ctx) => ctx.webhookSources.secretFor(ctx, tenantSlug, source),
    persistedDocument: (_root, { tenantId, id }, ctx) => ctx.persistedDocuments.find(ctx, tenantId, id),
    featureFlags: (_root, _args, ctx) => ctx.featureFlags.list(ctx),
    featureFlagEvaluation: (_root, args, ctx) => ctx.featureFlags.evaluate(ctx, args),
    featureFlagSnapshot: (_root, _args, ctx) => ctx.featureFlags.gatewaySnapshot(ctx),
    ...webhookResolvers.Query,
  },
  Mutation: {
    registerCustomer: (_root, { input }, ctx) => ctx.customers.register(ctx, input),
    customerLogin: (_root, { input }, ctx) => ctx.customers.login(ctx, input),
    refreshCustomerToken: (_root, { refreshToken }, ctx) => ctx.customers.refresh(ctx, refreshToken),
    requestPasswordReset: (_root, { email }, ctx) => ctx.customers.requestPasswordReset(ctx, email),
    resetPassword: (_root, { input }, ctx) => ctx.customers.resetPassword(ctx, input),
    addCustomerAddress: (_root, { input }, ctx) => ctx.customers.addAddress(ctx, input),
    createTenant: (_root, { input }, ctx) => ctx.tenants.createTenantAs(ctx, input),
    createStore: (_root, { input }, ctx) => ctx.tenants.createStoreAs(ctx, input),
    setStoreTimeZone: (_root, { storeId, timeZone }, ctx) => ctx.tenants.setStoreTimeZone(ctx, storeId, timeZone),
    setTenantLocale: (_root, { locale }, ctx) => ctx.tenants.setLocale(ctx, locale),
    createApiKey: (_root, { input }, ctx) => ctx.apiKeys.create(ctx, input),
    revokeApiKey: (_root, { id }, ctx) => ctx.apiKeys.revoke(ctx, id),
    configureWebhookSource: (_root, { input }, ctx) => ctx.webhookSources.configure(ctx, input),
    publishPersistedDocuments: (_root, { input }, ctx) => ctx.persistedDocuments.publish(ctx, input),
    setFeatureFlag: (_root, { input }, ctx) => ctx.featureFlags.set(ctx, input),
    deleteFeatureFlag: (_root, { key }, ctx) => ctx.featureFlags.delete(ctx, key),
    ...webhookResolvers.Mutation,
  },
  FlagRule: {
    roles: (rule) => rule.roles.map(roleName),
  },
  ...webhookResolvers.types,
  ApiKey: {
    createdAt: (key) => key.createdAt.toISOString(),
    revokedAt: (key) => key.revokedAt?.toISOString() ?? null,
  },
  WebhookSourceConfig: {
    path: (row, _args, ctx) => ctx.tenants.current(ctx).then((t) => `/webhooks/${row.source!.toLowerCase()}/${t.slug}`),
    updatedAt: (row) => row.updatedAt!.toISOString(),
  },
  Tenant: {
    __resolveReference: async (ref, ctx) => {
      const tenant = await ctx.tenants.current(ctx);
      return tenant.id === ref.id ? tenant : null;
    },
    stores: (_tenant, _args, ctx) => ctx.tenants.stores(ctx),
  },
  FeatureFlag: {
    // Admin only, as `featureFlags`; a tenant keeps few flags (docs/limits.md), so the list is the lookup.
    __resolveReference: (ref, ctx) =>
      ctx.roles.includes('admin') ? withKey('FeatureFlag', ref.id, async ([key]) => (await ctx.featureFlags.list(ctx)).find((flag) => flag.key === key) ?? null) : null,
    id: (flag) => toGlobalId('FeatureFlag', flag.key!),
  },
  Customer: {
    // Staff read any customer of the tenant (an order's); anyone else only the customer it is signed in as.
    __resolveReference: (ref, ctx) =>
      withKey('Customer', ref.id, ([id]) => (ctx.roles.some((role) => role === 'admin' || role === 'pos') || id === ctx.customerId ? ctx.customerById.load(id) : null)),
    id: (customer) => toGlobalId('Customer', customer.id!),
  },
  Store: {
    __resolveReference: (ref, ctx) => ctx.storeById.load(ref.id),
  },
};
