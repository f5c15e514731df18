import { randomUUID } from 'node:crypto';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { CONTEXT_HEADER, routeRequest, signContext } from '../../../lib/tenant/signed-context.js';
import type { Authenticator } from '../auth/authenticator.js';
import { headersOf } from '../http-headers.js';

/**
 * `POST /imports/catalog` (body: the CSV file): an admin's bulk feed, streamed through to the
 * catalog subgraph, which stores it as it arrives and queues it. The gateway authenticates the
 * caller and signs who it is, as for any request; the file never sits whole in memory here.
 */
export function createFeedUpload(options: { authenticator: Authenticator; catalogUrl: string; subgraphSecret: string; log: (message: string) => void }) {
  const target = new URL('/feeds/catalog', options.catalogUrl);
  const send = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
  };

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return send(res, 405, 'METHOD_NOT_ALLOWED', 'POST the CSV file.');
    const headers = headersOf(req);
    let identity;
    try {
      identity = await options.authenticator.authenticate(headers, req.socket.remoteAddress);
    } catch (error) {
      const retryAfter = (error as { extensions?: { retryAfterSeconds?: number } }).extensions?.retryAfterSeconds;
      if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
      return send(res, retryAfter === undefined ? 401 : 429, retryAfter === undefined ? 'UNAUTHENTICATED' : 'RATE_LIMITED', error instanceof Error ? error.message : 'Unauthenticated.');
    }
    if (!identity.roles.includes('admin') || !identity.tenant) return send(res, 403, 'FORBIDDEN', 'Feed imports need an admin credential of the tenant.');
    // The body streams through, so the signature binds the route and is good for one upload.
    const context = signContext({ tenantId: identity.tenant.id, roles: identity.roles, requestId: randomUUID() }, routeRequest('POST', target.pathname), options.subgraphSecret, {
      singleUse: true,
    });
    const upstream = request(target, {
      method: 'POST',
      headers: {
        'content-type': req.headers['content-type'] ?? 'text/csv',
        ...(req.headers['content-length'] ? { 'content-length': req.headers['content-length'] } : { 'transfer-encoding': 'chunked' }),
        [CONTEXT_HEADER]: context,
      },
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      options.log(`imports: the catalog could not take a feed: ${error.message}`);
      if (!res.headersSent) send(res, 503, 'SERVICE_UNAVAILABLE', 'The catalog is unavailable; retry later.');
      req.destroy();
    });
    req.on('aborted', () => upstream.destroy(new Error('the upload was interrupted')));
    req.pipe(upstream);
  };
}
