import type { Plugin } from '@envelop/core';
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import { metrics } from './metrics.js';

/** Operation names are chosen by clients: past this many distinct ones, the rest count as "other". */
const MAX_OPERATION_NAMES = 200;

/** Counts every executed operation by name and outcome (OK, or its first error's code) and times it. */
export function useGraphQLMetrics(service: string): Plugin {
  const seen = new Set<string>();
  const label = (name: string | undefined) => {
    const operation = (name ?? 'anonymous').slice(0, 64);
    if (seen.has(operation)) return operation;
    if (seen.size >= MAX_OPERATION_NAMES) return 'other';
    seen.add(operation);
    return operation;
  };
  return {
    onExecute({ args }) {
      const started = performance.now();
      const operation = label(args.operationName ?? getOperationAST(args.document as DocumentNode, args.operationName)?.name?.value);
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in (result as object)) return;
          const errors = (result as ExecutionResult).errors;
          const code = errors?.length ? String(errors[0]!.extensions?.code ?? 'ERROR') : 'OK';
          metrics.graphqlRequests.inc({ service, operation, code });
          metrics.graphqlDuration.observe({ service, operation }, (performance.now() - started) / 1000);
        },
      };
    },
  };
}
