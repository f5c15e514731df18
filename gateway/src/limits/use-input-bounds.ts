import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { checkInputBounds } from '../../../lib/graphql/check-input-bounds.js';

/**
 * Refuses, before any subgraph runs it, an operation whose arguments break the bounds of
 * `lib/input-bounds.ts` (a NUL in a string, a string or list too long, an Int out of range):
 * BAD_USER_INPUT, and nothing changes. Subscriptions over graphql-ws get the same check in the hub.
 */
export function useInputBounds(): Plugin {
  const guard = (args: ExecutionArgs, stop: (result: ExecutionResult) => void) => {
    const error = checkInputBounds(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown> | undefined);
    if (error) stop({ errors: [error] });
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => guard(args, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => guard(args, setResultAndStopExecution),
  };
}
