import type { Plugin } from '@envelop/core';
import { getOperationAST, GraphQLError, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { GatewayContext } from './gateway-context.js';
import type { TenantResolver } from './tenant-resolver.js';

/** Introspection alone needs no tenant: partners read the schema before they have one. */
function isIntrospectionOnly(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every((s) => s.kind === 'Field' && s.name.value.startsWith('__'));
}

/** Resolves the request's tenant before execution; a request without one gets UNAUTHENTICATED. */
export function useTenancy(resolver: TenantResolver): Plugin<GatewayContext> {
  const resolve = async (
    args: { document: DocumentNode; operationName?: string | null; contextValue: GatewayContext },
    extendContext: (context: Partial<GatewayContext>) => void,
    stop: (result: { errors: GraphQLError[] }) => void,
  ) => {
    const operation = getOperationAST(args.document, args.operationName);
    if (operation && isIntrospectionOnly(operation)) return;
    try {
      extendContext({ tenant: await resolver.resolve(args.contextValue.request.headers) });
    } catch (error) {
      stop({
        errors: [error instanceof GraphQLError ? error : new GraphQLError('Tenant resolution failed.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })],
      });
    }
  };
  return {
    onExecute: ({ args, extendContext, setResultAndStopExecution }) => resolve(args, extendContext, setResultAndStopExecution),
    onSubscribe: ({ args, extendContext, setResultAndStopExecution }) => resolve(args, extendContext, setResultAndStopExecution),
  };
}
