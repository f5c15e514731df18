import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface OperatorAccessOptions {
  /** OPERATOR_TOKEN: when set, the operator surfaces answer only `Authorization: Bearer <token>`. */
  token?: string;
  /** Production without a token: the operator surfaces are off (404). */
  production?: boolean;
}

/** The gateway's surfaces for operators, not clients: `/metrics`, `/debug/*` and GraphiQL (GET /graphql for a browser). */
export function isOperatorSurface(req: IncomingMessage): boolean {
  const path = (req.url ?? '/').split('?')[0]!;
  if (path === '/metrics' || path === '/debug' || path.startsWith('/debug/')) return true;
  return req.method === 'GET' && path === '/graphql' && (req.headers.accept ?? '').includes('text/html');
}

/**
 * Guards the operator surfaces: open in development without a token; behind the token when one
 * is set (401 without it); off in production without one (404). Returns true when it answered
 * the request (refused it); false lets it through.
 */
export function createOperatorAccess(options: OperatorAccessOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const token = options.token ? Buffer.from(options.token) : undefined;
  const holdsToken = (req: IncomingMessage) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const given = match ? Buffer.from(match[1]!) : undefined;
    return token !== undefined && given !== undefined && given.length === token.length && timingSafeEqual(given, token);
  };
  return (req, res) => {
    if (!token && !options.production) return false;
    if (!isOperatorSurface(req)) return false;
    if (!token) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Not found.' } }));
      return true;
    }
    if (holdsToken(req)) return false;
    res
      .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="operator"' })
      .end(JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'This needs the operator token: Authorization: Bearer <OPERATOR_TOKEN>.' } }));
    return true;
  };
}
