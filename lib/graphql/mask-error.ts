import { GraphQLError, Kind } from 'graphql';
import { isAppError } from '../errors.js';

/**
 * Errors with one of our codes pass as they are; anything else (a driver error, a bug) is
 * logged and replaced by a generic INTERNAL_SERVER_ERROR, so no stack or SQL reaches a client.
 * `forwarded` (the gateway): any GraphQLError with a code passes, as its subgraph sent it.
 */
export function maskError(error: unknown, log: (message: string) => void = console.error, options: { forwarded?: boolean } = {}): GraphQLError {
  // The gateway: an error carrying a code came from a subgraph that masked it already; it passes without its cause.
  if (options.forwarded && error instanceof GraphQLError && typeof error.extensions?.code === 'string') {
    return error.originalError instanceof GraphQLError || !error.originalError
      ? error
      : new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: error.extensions });
  }
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  if (isAppError(original)) {
    return error instanceof GraphQLError
      ? new GraphQLError(original.message, { nodes: error.nodes, path: error.path, extensions: original.extensions })
      : original;
  }
  if (error instanceof GraphQLError && !error.originalError) return error; // parse/validation errors
  // A variable graphql-js could not coerce (`Variable "$n" got invalid value "x"; Int cannot represent …`): the
  // client's mistake, reported on the variable's definition and wrapping the scalar's own error, not a failure.
  if (error instanceof GraphQLError && !error.path && error.nodes?.[0]?.kind === Kind.VARIABLE_DEFINITION) {
    return new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
  }
  log(`unexpected error: ${original instanceof Error ? (original.stack ?? original.message) : String(original)}`);
  return new GraphQLError('Unexpected error.', {
    nodes: error instanceof GraphQLError ? error.nodes : undefined,
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}
