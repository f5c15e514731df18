import type { Plugin } from 'graphql-yoga';

type ErrorJson = { message: string; extensions?: Record<string, unknown> };

function codeFor(message: string): string {
  if (/limit of \d+ exceeded/i.test(message)) return 'OPERATION_LIMIT_EXCEEDED';
  if (/^Syntax Error/.test(message)) return 'GRAPHQL_PARSE_FAILED';
  return 'GRAPHQL_VALIDATION_FAILED';
}

/** The status of an answer without `data` under `application/graphql-response+json`, by the first error's code. */
function statusFor(code: unknown): number {
  if (code === 'UNAUTHENTICATED') return 401;
  if (code === 'FORBIDDEN') return 403;
  if (code === 'RATE_LIMITED') return 429;
  if (code === 'SERVICE_UNAVAILABLE') return 503;
  if (code === 'INTERNAL_SERVER_ERROR') return 500;
  return 400;
}

/**
 * The last word on every response: each error carries an `extensions.code`. The operation
 * limits' errors (depth, aliases, cost, tokens, directives) become OPERATION_LIMIT_EXCEEDED.
 * An answer without `data` gets a 4xx (or 5xx) status under `application/graphql-response+json`,
 * as GraphQL over HTTP requires; under `application/json` it stays 200 (Yoga's `spec` flag).
 */
export function useErrorCodes(): Plugin {
  const patch = (result: unknown) => {
    const errors = (result as { errors?: ErrorJson[] } | null)?.errors;
    if (!Array.isArray(errors)) return;
    for (const error of errors) {
      const isLimit = /limit of \d+ exceeded/i.test(error.message);
      if (typeof error.extensions?.code === 'string' && !isLimit) continue;
      // GraphQLError's extensions object is frozen-ish in places: assign a fresh one.
      Object.defineProperty(error, 'extensions', { value: { ...error.extensions, code: codeFor(error.message) }, enumerable: true, configurable: true });
      // graphql-armor words its limits as syntax errors; they are not.
      if (isLimit) Object.defineProperty(error, 'message', { value: error.message.replace(/^Syntax Error: /, ''), enumerable: true, configurable: true });
    }
    if ((result as { data?: unknown }).data !== undefined || errors.length === 0) return;
    const status = statusFor(errors[0]!.extensions?.code);
    for (const error of errors) {
      if (error.extensions?.http) continue;
      Object.defineProperty(error, 'extensions', { value: { ...error.extensions, http: { status, spec: true } }, enumerable: true, configurable: true });
    }
  };
  return {
    onResultProcess({ result }) {
      if (Array.isArray(result)) result.forEach(patch);
      else patch(result);
    },
  };
}
