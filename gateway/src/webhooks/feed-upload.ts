import { Readable } from 'node:stream';
import { actorOf, type Authenticator } from '../auth/authenticator.js';
import type { SubgraphClient } from '../subgraph-client.js';

/**
 * `POST /imports/catalog` (body: the CSV file): an admin's bulk feed, streamed through to the
 * catalog subgraph, which stores it as it arrives and queues it. The gateway authenticates the
 * caller and signs who it is, as for any request; the file never sits whole in memory here.
 */
export interface FeedAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | Readable;
}

export function createFeedUpload(options: { authenticator: Authenticator; client: SubgraphClient; log: (message: string) => void }) {
  const refuse = (status: number, code: string, message: string, headers: Record<string, string> = {}): FeedAnswer => ({
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ error: { code, message } }),
  });

  /** `body`: the upload as a Node stream when the server has one (the request's own body otherwise). */
  return async function handle(request: Request, clientAddress: string | undefined, body?: Readable): Promise<FeedAnswer> {
    if (request.method !== 'POST') return refuse(405, 'METHOD_NOT_ALLOWED', 'POST the CSV file.');
    let identity;
    try {
      identity = await options.authenticator.authenticate(request.headers, clientAddress);
    } catch (error) {
      const retryAfter = (error as { extensions?: { retryAfterSeconds?: number } }).extensions?.retryAfterSeconds;
      const message = error instanceof Error ? error.message : 'Unauthenticated.';
      return retryAfter === undefined ? refuse(401, 'UNAUTHENTICATED', message) : refuse(429, 'RATE_LIMITED', message, { 'retry-after': String(retryAfter) });
    }
    if (!identity.roles.includes('admin') || !identity.tenant) return refuse(403, 'FORBIDDEN', 'Feed imports need an admin credential of the tenant.');
    // The body as it arrives (a ReadableStream is async-iterable).
    const upload = body ?? Readable.from((request.body ?? []) as unknown as AsyncIterable<Uint8Array>);
    try {
      // The body streams through, so the signature binds the route and is good for one upload.
      const answer = await options.client.stream('catalog', '/feeds/catalog', upload, {
        caller: { tenantId: identity.tenant.id, roles: identity.roles, actor: actorOf(identity) },
        contentType: request.headers.get('content-type') ?? 'text/csv',
        contentLength: request.headers.get('content-length') ?? undefined,
        // A large file takes long to send; the catalog answers when it has stored it.
        timeoutMs: 10 * 60_000,
      });
      return { status: answer.status, headers: { 'content-type': answer.contentType ?? 'application/json' }, body: answer.body };
    } catch (error) {
      upload.destroy();
      options.log(`imports: the catalog could not take a feed: ${error instanceof Error ? error.message : String(error)}`);
      return refuse(503, 'SERVICE_UNAVAILABLE', 'The catalog is unavailable; retry later.');
    }
  };
}
