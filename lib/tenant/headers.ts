import { appError } from '../errors.js';
import { CONTEXT_HEADER, ContextRejected, verifyContext, type CallerContext } from './signed-context.js';

export { CONTEXT_HEADER, REQUEST_ID_HEADER } from './signed-context.js';

type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(source: HeaderSource, name: string): string | undefined {
  if (typeof (source as { get?: unknown }).get === 'function') {
    return (source as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const value = (source as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The caller of a subgraph request, from the gateway's signed header; UNAUTHENTICATED otherwise. */
export function readCallerContext(headers: HeaderSource, secret: string): CallerContext {
  try {
    return verifyContext(header(headers, CONTEXT_HEADER), secret);
  } catch (error) {
    if (error instanceof ContextRejected) throw appError('UNAUTHENTICATED', `Unauthenticated: ${error.message}.`);
    throw error;
  }
}
