import { getOperationAST, getVariableValues, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * A variable of the wrong type, or a required one missing, is the client's mistake: `400`,
 * `BAD_USER_INPUT`, with graphql-js's coercion message, which names the variable
 * (`Variable "$input" got invalid value "3" at "input.quantity"; Int cannot represent …`). Left to
 * Apollo's executor, the coercion error arrives wrapping another error and was masked as
 * INTERNAL_SERVER_ERROR with 200.
 */
export function useVariableCoercion(): Plugin {
  const guard = (args: ExecutionArgs, stop: (result: ExecutionResult) => void) => {
    const operation = getOperationAST(args.document, args.operationName ?? undefined);
    if (!operation?.variableDefinitions?.length) return;
    const { errors } = getVariableValues(args.schema, operation.variableDefinitions, (args.variableValues as Record<string, unknown> | undefined) ?? {}, { maxErrors: 10 });
    if (!errors) return;
    stop({ errors: errors.map((error) => new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } })) });
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => guard(args, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => guard(args, setResultAndStopExecution),
  };
}
