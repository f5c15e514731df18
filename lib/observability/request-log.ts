import type { Plugin } from '@envelop/core';
import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { outcomeCode } from './graphql-metrics.js';
import type { Logger } from './logger.js';
import { redactVariables } from './sensitive-variables.js';

interface LoggedContext {
  requestId?: string;
  identity?: { tenant?: { slug?: string; id?: string }; roles?: string[]; kind?: string };
  tenantId?: string;
  roles?: readonly string[];
}

export interface ExecutedOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  context: unknown;
  startedAt: number;
  errors?: readonly { extensions?: Record<string, unknown> }[];
}

/**
 * One log line per executed operation: request id, tenant, roles, operation name and type,
 * duration, outcome (OK or the first error's code) and the variables, with what the schema marks
 * `@sensitive` (`sensitive`: its coordinates, see sensitive-variables.ts) redacted at any depth.
 * For any GraphQL server: the envelop plugin below, and orders' mercurius hooks.
 */
export function logOperation(logger: Logger, sensitive: ReadonlySet<string>, run: ExecutedOperation): void {
  const context = run.context as LoggedContext;
  const operation = getOperationAST(run.document, run.operationName);
  const code = outcomeCode(run.errors);
  logger[code === 'OK' ? 'info' : code === 'INTERNAL_SERVER_ERROR' ? 'error' : 'warn'](
    {
      requestId: context.requestId,
      tenant: context.identity?.tenant?.slug ?? context.tenantId,
      roles: context.identity?.roles ?? context.roles,
      operation: operation?.name?.value ?? run.operationName ?? 'anonymous',
      type: operation?.operation,
      durationMs: Math.round((performance.now() - run.startedAt) * 100) / 100,
      code,
      variables: redactVariables(run.schema, sensitive, run.document, run.operationName ?? undefined, run.variables ?? undefined),
    },
    'graphql operation',
  );
}

/** `logOperation` for every operation a yoga/envelop server executes. */
export function useRequestLog(logger: Logger, options: { sensitive?: ReadonlySet<string> } = {}): Plugin {
  const sensitive = options.sensitive ?? new Set<string>();
  return {
    onExecute({ args }) {
      const startedAt = performance.now();
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in (result as object)) return;
          logOperation(logger, sensitive, {
            schema: args.schema,
            document: args.document as DocumentNode,
            operationName: args.operationName,
            variables: args.variableValues as Record<string, unknown> | undefined,
            context: args.contextValue,
            startedAt,
            errors: (result as ExecutionResult).errors,
          });
        },
      };
    },
  };
}
