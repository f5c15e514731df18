import type { Plugin } from '@envelop/core';
import { GraphQLError } from 'graphql';
import type { GatewayContext } from '../gateway-context.js';
import type { SubscriptionHub } from './subscription-hub.js';

/**
 * Runs subscriptions that arrive over HTTP (server-sent events, `Accept: text/event-stream`)
 * through the same hub as graphql-ws: same groups, same snapshot, same payloads.
 */
export function useSubscriptionHub(hub: SubscriptionHub): Plugin<GatewayContext> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const iterator = hub.iterate({
          identity: (args.contextValue as GatewayContext).identity,
          query: args.document,
          variables: (args.variableValues ?? undefined) as Record<string, unknown> | undefined,
          operationName: args.operationName ?? undefined,
        });
        try {
          await iterator.ready;
        } catch (error) {
          return {
            errors: [error instanceof GraphQLError ? error : new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })],
          };
        }
        return iterator;
      });
    },
  };
}
