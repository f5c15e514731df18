import { pageSize } from '../../../../lib/graphql/pagination.js';
import type { Resolvers } from '../generated/graphql.js';

const upper = (event: string) => event.toUpperCase() as 'PLACE' | 'PAY' | 'FULFIL' | 'CANCEL';

/** Decision hooks at order transitions (merged into the subgraph's resolvers). */
export const orderHookResolvers = {
  Query: {
    orderHooks: (_root, _args, ctx) => ctx.orderHooks.list(ctx),
    orderHookDecisions: (_root, { first }, ctx) => ctx.orderHooks.decisions(ctx, pageSize(first)),
  } satisfies Resolvers['Query'],
  Mutation: {
    setOrderHook: (_root, { input }, ctx) => ctx.orderHooks.set(ctx, input),
    removeOrderHook: (_root, { event }, ctx) => ctx.orderHooks.remove(ctx, event),
  } satisfies Resolvers['Mutation'],
  types: {
    OrderHook: {
      event: (row) => upper(row.event),
      updatedAt: (row) => new Date(row.updatedAt).toISOString(),
    },
    OrderHookDecision: {
      event: (row) => upper(row.event),
      at: (row) => new Date(row.at).toISOString(),
    },
  } satisfies Pick<Resolvers, 'OrderHook' | 'OrderHookDecision'>,
};
