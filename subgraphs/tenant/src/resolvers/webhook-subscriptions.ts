import { toGlobalId, withKey } from '../../../../lib/graphql/global-id.js';
import type { Resolvers } from '../generated/graphql.js';

const iso = (value: Date | string | null | undefined) => (value ? new Date(value).toISOString() : null);

/** Outbound webhook subscriptions and deliveries (merged into the subgraph's resolvers). */
export const webhookResolvers = {
  Query: {
    webhookSubscriptions: (_root, _args, ctx) => ctx.webhookSubscriptions.list(ctx),
    webhookDeliveries: (_root, args, ctx) => ctx.webhookSubscriptions.deliveriesOf(ctx, args),
  } satisfies Resolvers['Query'],
  Mutation: {
    createWebhookSubscription: (_root, { input }, ctx) => ctx.webhookSubscriptions.create(ctx, input),
    deleteWebhookSubscription: (_root, { id }, ctx) => ctx.webhookSubscriptions.delete(ctx, id),
    rotateWebhookSecret: (_root, { id }, ctx) => ctx.webhookSubscriptions.rotateSecret(ctx, id),
    redeliverWebhook: (_root, { deliveryId }, ctx) => ctx.webhookSubscriptions.redeliver(ctx, deliveryId),
  } satisfies Resolvers['Mutation'],
  types: {
    WebhookSubscription: {
      // Admin only, as `webhookSubscriptions`: `node(id:)` reaches it by reference, past that field's scopes.
      __resolveReference: (ref, ctx) => (ctx.roles.includes('admin') ? withKey('WebhookSubscription', ref.id, ([id]) => ctx.webhookSubscriptions.byId(ctx, id)) : null),
      id: (row) => toGlobalId('WebhookSubscription', row.id!),
      failingSince: (row) => iso(row.failingSince),
      createdAt: (row) => iso(row.createdAt)!,
      previousSecretValidUntil: (row) => iso(row.previousSecretValidUntil),
    },
    WebhookDelivery: {
      // The id its subscription answers (decision 0026).
      subscriptionId: (row) => toGlobalId('WebhookSubscription', row.subscriptionId!),
      request: (row) => ({
        url: row.url,
        headers: Object.entries(row.requestHeaders ?? {}).map(([name, value]) => ({ name, value })),
        body: row.body,
      }),
      createdAt: (row) => iso(row.createdAt)!,
      lastAttemptAt: (row) => iso(row.lastAttemptAt),
      nextAttemptAt: (row) => iso(row.nextAttemptAt),
      deliveredAt: (row) => iso(row.deliveredAt),
    },
  } satisfies Pick<Resolvers, 'WebhookSubscription' | 'WebhookDelivery'>,
};
