import { timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { jsonResponse } from './routes/route.js';

export interface OperatorAccessOptions {
  /** OPERATOR_TOKEN: when set, the operator surfaces answer only `Authorization: Bearer <token>`. */
  token?: string;
  /** Production without a token: the operator surfaces are off (404). */
  production?: boolean;
}

/** The gateway's surfaces for operators, not clients: `/metrics`, `/debug/*` and GraphiQL (GET /graphql for a browser). */
export function isOperatorSurface(request: Pick<Request, 'method' | 'headers'>, path: string): boolean {
  if (path === '/metrics' || path === '/debug' || path.startsWith('/debug/')) return true;
  return request.method === 'GET' && path === '/graphql' && (request.headers.get('accept') ?? '').includes('text/html');
}

/**
 * Guards the operator surfaces: open in development without a token; behind the token when one
 * is set (401 without it); off in production without one (404). `refusal` is the answer to a
 * request it refuses, null for any it lets through; `allows` tells GraphiQL whether to render.
 */
export function createOperatorAccess(options: OperatorAccessOptions) {
  const token = options.token ? Buffer.from(options.token) : undefined;
  const open = !token && !options.production;
  const holdsToken = (request: Pick<Request, 'headers'>) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
    const given = match ? Buffer.from(match[1]!) : undefined;
    return token !== undefined && given !== undefined && given.length === token.length && timingSafeEqual(given, token);
  };
  return {
    allows: (request: Pick<Request, 'headers'>) => open || holdsToken(request),
    refusal(request: Pick<Request, 'method' | 'headers'>, path: string): Response | null {
      if (open || !isOperatorSurface(request, path)) return null;
      if (!token) return jsonResponse(404, { error: { code: 'NOT_FOUND', message: 'Not found.' } });
      if (holdsToken(request)) return null;
      return jsonResponse(
        401,
        { error: { code: 'UNAUTHENTICATED', message: 'This needs the operator token: Authorization: Bearer <OPERATOR_TOKEN>.' } },
        { 'www-authenticate': 'Bearer realm="operator"' },
      );
    },
  };
}

/** The request plugin in front of every other: refuses the operator surfaces to whoever may not see them. */
export function useOperatorAccess(access: ReturnType<typeof createOperatorAccess>): Plugin {
  return {
    onRequest({ request, url, endResponse }) {
      const refused = access.refusal(request, url.pathname);
      if (refused) endResponse(refused);
    },
  };
}
