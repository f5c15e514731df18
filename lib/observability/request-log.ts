import type { Plugin } from '@envelop/core';
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Logger } from './logger.js';
import { redactVariables } from './sensitive-variables.js';

interface LoggedContext {
  requestId?: string;
  identity?: { tenant?: { slug?: string; id?: string }; roles?: string[]; kind?: string };
  tenantId?: string;
}

/**
 * One log line per executed operation: request id, tenant, roles, operation name and type,
 * duration, outcome (OK or the first error's code) and the variables, with what the schema marks
 * `@sensitive` (`sensitive`: its coordinates, see sensitive-variables.ts) redacted at any depth.
 */
export function useRequestLog(logger: Logger, options: { sensitive?: ReadonlySet<string> } = {}): Plugin {
  const sensitive = options.sensitive ?? new Set<string>();
  return {
    onExecute({ args }) {
      const started = performance.now();
      const operation = getOperationAST(args.document as DocumentNode, args.operationName);
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in (result as object)) return;
          const context = args.contextValue as LoggedContext;
          const errors = (result as ExecutionResult).errors;
          const code = errors?.length ? String(errors[0]!.extensions?.code ?? 'ERROR') : 'OK';
          logger[code === 'OK' ? 'info' : code === 'INTERNAL_SERVER_ERROR' ? 'error' : 'warn'](
            {
              requestId: context.requestId,
              tenant: context.identity?.tenant?.slug ?? context.tenantId,
              roles: context.identity?.roles,
              operation: operation?.name?.value ?? args.operationName ?? 'anonymous',
              type: operation?.operation,
              durationMs: Math.round((performance.now() - started) * 100) / 100,
              code,
              variables: redactVariables(args.schema, sensitive, args.document as DocumentNode, args.operationName, args.variableValues as Record<string, unknown> | undefined),
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
