import { getOperationAST, parse, type OperationTypeNode } from 'graphql';
import { appError } from '../errors.js';
import { CONTEXT_HEADER, ContextRejected, verifyContext, type CallerContext, type SignedRequest } from './signed-context.js';
import type { ReplayGuard } from './replay-guard.js';

export { CONTEXT_HEADER, REQUEST_ID_HEADER } from './signed-context.js';

type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(source: HeaderSource, name: string): string | undefined {
  if (typeof (source as { get?: unknown }).get === 'function') {
    return (source as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const value = (source as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The caller of a subgraph request, from the gateway's signed header, checked against the request
 * that arrived (operation and variables); a mutation's (or a single-use route's) context is
 * accepted once. UNAUTHENTICATED otherwise; SERVICE_UNAVAILABLE when the replay guard cannot answer.
 */
export async function readCallerContext(headers: HeaderSource, secret: string, request: SignedRequest, guard: ReplayGuard): Promise<CallerContext> {
  let verified;
  try {
    verified = verifyContext(header(headers, CONTEXT_HEADER), secret, request);
  } catch (error) {
    if (error instanceof ContextRejected) throw appError('UNAUTHENTICATED', `Unauthenticated: ${error.message}.`);
    throw error;
  }
  if (verified.singleUse || operationType(request) === 'mutation') {
    let first: boolean;
    try {
      first = await guard.claim(verified.nonce, verified.expiresAt);
    } catch {
      throw appError('SERVICE_UNAVAILABLE', 'Writes are unavailable for a moment (the replay guard cannot be reached); try again.');
    }
    if (!first) throw appError('UNAUTHENTICATED', 'Unauthenticated: signed context already used (a mutation is signed for one execution).');
  }
  return { tenantId: verified.tenantId, roles: verified.roles, requestId: verified.requestId, ...(verified.storeIds ? { storeIds: verified.storeIds } : {}), ...(verified.customerId ? { customerId: verified.customerId } : {}), ...(verified.actor ? { actor: verified.actor } : {}) };
}

/** Operation types by document text: the gateway sends the same few documents again and again. */
const operationTypes = new Map<string, OperationTypeNode | undefined>();

/** The type of the operation a request would run (undefined when it does not parse; then nothing runs). */
export function operationType(request: SignedRequest): OperationTypeNode | undefined {
  const key = `${request.operationName ?? ''}\n${request.query}`;
  if (operationTypes.has(key)) return operationTypes.get(key);
  let type: OperationTypeNode | undefined;
  try {
    type = getOperationAST(parse(request.query), request.operationName ?? undefined)?.operation;
  } catch {
    type = undefined;
  }
  if (operationTypes.size >= 1_000) operationTypes.delete(operationTypes.keys().next().value!);
  operationTypes.set(key, type);
  return type;
}
