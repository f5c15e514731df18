import type { Plugin } from '@envelop/core';
import { getOperationAST, GraphQLError, type OperationDefinitionNode } from 'graphql';
import type { GatewayContext } from './gateway-context.js';
import type { TenantResolver } from './tenant-resolver.js';

/** Introspection alone needs no tenant: partners read the schema before they have one. */
function isIntrospectionOnly(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every((s) => s.kind === 'Field' && s.name.value.startsWith('__'));
}

/** Resolves the request's tenant before execution; a request without one gets UNAUTHENTICATED. */
export function useTenancy(resolver: TenantResolver): Plugin<GatewayContext> {
  return {
    async onExecute({ args, extendContext, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation && isIntrospectionOnly(operation)) return;
      try {
        extendContext({ tenant: await resolver.resolve(args.contextValue.request.headers) });
      } catch (error) {
        setResultAndStopExecution({
          errors: [error instanceof GraphQLError ? error : new GraphQLError('Tenant resolution failed.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })],
        });
      }
    },
  };
}
