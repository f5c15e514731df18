import type { Plugin } from '@envelop/core';
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import { metrics } from './metrics.js';

/** Operation names are chosen by clients: past this many distinct ones, the rest count as "other". */
const MAX_OPERATION_NAMES = 200;

/** An operation's outcome as metrics and logs name it: OK, or its first error's code. */
export const outcomeCode = (errors: readonly { extensions?: Record<string, unknown> }[] | undefined) =>
  errors?.length ? String(errors[0]!.extensions?.code ?? 'ERROR') : 'OK';

/**
 * Counts executed operations of one service by name and outcome and times them; for any GraphQL
 * server (the envelop plugin below, and orders' mercurius hooks).
 */
export function operationMetrics(service: string) {
  const seen = new Set<string>();
  const label = (name: string | undefined) => {
    const operation = (name ?? 'anonymous').slice(0, 64);
    if (seen.has(operation)) return operation;
    if (seen.size >= MAX_OPERATION_NAMES) return 'other';
    seen.add(operation);
    return operation;
  };
  return {
    /** Call when execution starts; the returned function when it is done. */
    start(operationName: string | undefined) {
      const started = performance.now();
      const operation = label(operationName);
      return (code: string) => {
        metrics.graphqlRequests.inc({ service, operation, code });
        metrics.graphqlDuration.observe({ service, operation }, (performance.now() - started) / 1000);
      };
    },
  };
}

/** Counts every executed operation by name and outcome (OK, or its first error's code) and times it. */
export function useGraphQLMetrics(service: string): Plugin {
  const observe = operationMetrics(service);
  return {
    onExecute({ args }) {
      const done = observe.start(args.operationName ?? getOperationAST(args.document as DocumentNode, args.operationName)?.name?.value);
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in (result as object)) return;
          done(outcomeCode((result as ExecutionResult).errors));
        },
      };
    },
  };
}
