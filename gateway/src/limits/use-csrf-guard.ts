import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** Content types a browser may POST from another site without asking first (no CORS preflight). */
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/** Headers no cross-site form can set: a request carrying one was preflighted, or is not from a browser. */
export const CSRF_HEADERS = ['x-graphql-csrf', 'apollo-require-preflight'];

/**
 * CSRF: what it protects is a credential a browser attaches by itself. This gateway reads none
 * (no cookies, no HTTP authentication: keys and tokens travel in headers a page must set, which
 * another site cannot), so a cross-site GET runs as an anonymous storefront read at most, like any
 * request from anywhere, and its answer stays unreadable to that site (CORS). GETs never run
 * mutations (Yoga answers 405). What is refused is a write that could run without a preflight: a
 * POST (or any method but GET) whose content type is missing or one a form or `fetch(no-cors)` may
 * send, unless it carries `x-graphql-csrf` or `apollo-require-preflight`. The refusal is
 * `CSRF_REFUSED` (403), before the body is read. docs/decisions/0026.
 */
export function useCsrfGuard(): Plugin {
  return {
    onRequestParse({ request }) {
      if (request.method === 'GET' || request.method === 'HEAD') return;
      const type = request.headers.get('content-type')?.toLowerCase().trim();
      if (type && !SIMPLE_CONTENT_TYPES.some((simple) => type.startsWith(simple))) return;
      if (CSRF_HEADERS.some((name) => request.headers.has(name))) return;
      throw createGraphQLError(
        `${type ? `A POST of ${type.split(';')[0]}` : 'A POST without a content type'} could come from a form on any site: send it as application/json, or with an x-graphql-csrf header.`,
        { extensions: { code: 'CSRF_REFUSED', http: { status: 403 } } },
      );
    },
  };
}
