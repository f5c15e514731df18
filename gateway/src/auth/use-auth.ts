import type { Plugin } from '@envelop/core';
import {
  execute,
  getOperationAST,
  GraphQLError,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { appError } from '../../../lib/errors.js';
import type { GatewayContext } from '../gateway-context.js';
import type { Authenticator } from './authenticator.js';
import type { RateLimitStore } from '../limits/rate-limiter.js';
import { checkScopes, type ScopeRules } from './scopes.js';
import type { ClientAddressOf } from './client-address.js';

/** Introspection alone: a partner reads the schema before it has data to ask for. */
export function isIntrospectionOnly(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every((s) => s.kind === 'Field' && s.name.value.startsWith('__'));
}

/**
 * Authenticates every operation and checks its fields against `@requiresScopes` before it runs.
 * Introspection without credentials is allowed unless `anonymousIntrospection` is false.
 */
export function useAuth(options: {
  authenticator: Authenticator;
  schema: GraphQLSchema;
  rules: ScopeRules;
  anonymousIntrospection: boolean;
  /** What a `partner` may see and query (its introspection answers from this schema too). */
  /** The partner contract's schema (built when first asked for). */
  partnerSchema?: () => GraphQLSchema;
  /** The client address of a request (the peer, or what trusted proxies forward); default the peer. */
  clientAddress?: ClientAddressOf;
  /** Requests per minute: per API key / token subject, and per anonymous client address. */
  rateLimit?: { store: RateLimitStore; perMinute: { authenticated: number; anonymous: number } };
}): Plugin<GatewayContext> {
  const limited = async (subject: string, anonymous: boolean): Promise<GraphQLError | undefined> => {
    if (!options.rateLimit) return undefined;
    const limit = anonymous ? options.rateLimit.perMinute.anonymous : options.rateLimit.perMinute.authenticated;
    const { count, resetSeconds } = await options.rateLimit.store.hit(subject);
    if (count <= limit) return undefined;
    return new GraphQLError(`Rate limit of ${limit} requests a minute exceeded; retry in ${resetSeconds} s.`, {
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: resetSeconds, http: { status: 429, headers: { 'Retry-After': String(resetSeconds) } } },
    });
  };
  const guard = async (
    args: { document: DocumentNode; operationName?: string | null; contextValue: GatewayContext },
    extendContext: (context: Partial<GatewayContext>) => void,
    stop: (result: ExecutionResult) => void,
    variables: Record<string, unknown> | undefined,
  ) => {
    const operation = getOperationAST(args.document, args.operationName);
    const headers = args.contextValue.request.headers;
    const req = (args.contextValue as { req?: Parameters<ClientAddressOf>[0] }).req;
    const address = options.clientAddress ? options.clientAddress(req) : (req?.socket?.remoteAddress ?? 'unknown');
    const hasCredential = headers.has('authorization') || headers.has('x-api-key');
    if (operation && isIntrospectionOnly(operation) && !hasCredential) {
      const tooMany = await limited(`ip:${address}`, true);
      if (tooMany) stop({ errors: [tooMany] });
      else if (!options.anonymousIntrospection) stop({ errors: [appError('UNAUTHENTICATED', 'Introspection needs credentials here.')] });
      return;
    }
    try {
      const identity = await options.authenticator.authenticate(headers, address);
      const tooMany = await limited(identity.subject, identity.kind === 'anonymous');
      if (tooMany) return stop({ errors: [tooMany] });
      extendContext({ identity });
      // A partner is held to its schema first: what it may not see does not exist for it.
      if (options.partnerSchema && isPartnerOnly(identity.roles) && (await asPartner(options.partnerSchema(), args, operation, stop, variables))) return;
      const denied = checkScopes(options.schema, options.rules, args.document, identity.roles);
      if (denied.length > 0) return stop({ errors: denied });
    } catch (error) {
      stop({
        errors: [error instanceof GraphQLError ? error : new GraphQLError('Authentication failed.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })],
      });
    }
  };
  return {
    onExecute: ({ args, extendContext, setResultAndStopExecution }) =>
      guard(args, extendContext, setResultAndStopExecution, args.variableValues ?? undefined),
    onSubscribe: ({ args, extendContext, setResultAndStopExecution }) =>
      guard(args, extendContext, setResultAndStopExecution, args.variableValues ?? undefined),
  };
}

/** A partner key (and no broader role) sees the partner contract only. */
export const isPartnerOnly = (roles: readonly string[]) => roles.includes('partner') && !roles.some((r) => r === 'admin' || r === 'platform');

/**
 * Holds a partner's operation to the partner schema (true when it answered or refused it): anything outside it is a validation error,
 * and introspection is answered from it, so untagged types and fields stay invisible.
 */
async function asPartner(
  partnerSchema: GraphQLSchema,
  args: { document: DocumentNode; operationName?: string | null },
  operation: OperationDefinitionNode | null | undefined,
  stop: (result: ExecutionResult) => void,
  variables: Record<string, unknown> | undefined,
): Promise<boolean> {
  const errors = validate(partnerSchema, args.document);
  if (errors.length > 0) {
    stop({ errors: errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) });
    return true;
  }
  const introspects = operation?.selectionSet.selections.some((s) => s.kind === 'Field' && (s.name.value === '__schema' || s.name.value === '__type'));
  if (!introspects || !operation) return false;
  if (!isIntrospectionOnly(operation)) {
    stop({ errors: [appError('BAD_USER_INPUT', 'Send introspection in an operation of its own.')] });
    return true;
  }
  stop(await execute({ schema: partnerSchema, document: args.document, operationName: args.operationName ?? undefined, variableValues: variables }));
  return true;
}
