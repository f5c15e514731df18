import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTEXT_HEADER, signContext } from '../../../lib/tenant/signed-context.js';
import type { TenantDirectory, WebhookSecret } from '../auth/tenant-directory.js';
import { WEBHOOK_SOURCES, webhookSourceAt } from '../../../lib/webhooks/registry.js';
import { UnidentifiedDelivery, type WebhookSource } from '../../../lib/webhooks/source.js';
import { readBoundedBody } from '../limits/request-body.js';

/**
 * `POST /webhooks/<source>/<tenant slug>` on the gateway's port. The gateway hosts it because it
 * already holds what verification needs (the tenant directory and its cache, in front of the
 * tenant subgraph that owns the secrets) and is the one public port; it verifies the signature
 * before anything else, then hands the raw body to the inventory subgraph, which owns ingestion,
 * stores it (deduplicated) and answers; the source gets `202 Accepted` and the worker applies it.
 */
export interface WebhookReceiverOptions {
  directory: TenantDirectory;
  /** The inventory subgraph's GraphQL URL. */
  inventoryUrl: string;
  subgraphSecret: string;
  /** Largest body (default 1 MiB). */
  maxBodyBytes?: number;
  log?: (message: string) => void;
}

/** A secret cached at least this long is fetched again once when a signature does not match (rotation without events). */
const REFETCH_AFTER_MS = 1_000;

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const RECEIVE = `mutation ($source: String!, $topic: String!, $externalId: String!, $body: String!, $currencyCode: String, $triggeredAt: String) {
  receiveWebhook(source: $source, topic: $topic, externalId: $externalId, body: $body, currencyCode: $currencyCode, triggeredAt: $triggeredAt) { id duplicate }
}`;

export function createWebhookReceiver(options: WebhookReceiverOptions) {
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const log = options.log ?? console.error;
  const decoder = new TextDecoder('utf-8', { fatal: true });

  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const body = await readBoundedBody(req, maxBody);
    if (!body) throw new Refusal(413, 'PAYLOAD_TOO_LARGE', `The body is larger than ${maxBody} bytes.`);
    return body;
  };

  /** Topic, dedupe key and trigger time of a verified delivery, as its source module reads them. */
  const identify = (source: WebhookSource, req: IncomingMessage, raw: Buffer, text: string) => {
    try {
      return source.identify(req.headers, raw, text);
    } catch (error) {
      if (error instanceof UnidentifiedDelivery) throw new Refusal(400, 'BAD_USER_INPUT', error.message);
      throw error;
    }
  };

  const store = async (found: WebhookSecret, source: string, topic: string, externalId: string, triggeredAt: string | null, body: string) => {
    let response: Response;
    const variables = { source, topic, externalId, body, currencyCode: found.currencyCode, triggeredAt };
    try {
      response = await fetch(options.inventoryUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [CONTEXT_HEADER]: signContext({ tenantId: found.tenantId, roles: ['gateway'], requestId: randomUUID() }, { query: RECEIVE, variables }, options.subgraphSecret),
        },
        body: JSON.stringify({ query: RECEIVE, variables }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      throw new Refusal(503, 'SERVICE_UNAVAILABLE', 'Ingestion is unavailable; retry later.');
    }
    const result = (await response.json().catch(() => ({}))) as {
      data?: { receiveWebhook?: { id: string; duplicate: boolean } } | null;
      errors?: { message: string; extensions?: { code?: string } }[];
    };
    const receipt = result.data?.receiveWebhook;
    if (receipt) return receipt;
    const error = result.errors?.[0];
    if (error?.extensions?.code === 'BAD_USER_INPUT') throw new Refusal(400, 'BAD_USER_INPUT', error.message);
    // Older than the window (or ahead of the clock): understood, and refused for good.
    if (error?.extensions?.code === 'WEBHOOK_OUT_OF_WINDOW') throw new Refusal(422, 'WEBHOOK_OUT_OF_WINDOW', error.message);
    log(`webhooks: inventory refused a delivery: ${error?.message ?? response.status}`);
    throw new Refusal(503, 'SERVICE_UNAVAILABLE', 'Ingestion is unavailable; retry later.');
  };

  const send = (res: ServerResponse, status: number, body: object) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  return async function handle(req: IncomingMessage, res: ServerResponse, sourceName: string, slug: string): Promise<void> {
    try {
      if (req.method !== 'POST') throw new Refusal(405, 'METHOD_NOT_ALLOWED', 'Webhooks are POSTed.');
      const spec = webhookSourceAt(sourceName);
      if (!spec) throw new Refusal(404, 'NOT_FOUND', `Unknown webhook source "${sourceName}" (${WEBHOOK_SOURCES.map((s) => s.path).join(', ')}).`);
      const source = spec.name;
      const raw = await readBody(req);
      let found = await options.directory.webhookSecret(slug, source);
      if (!found) throw new Refusal(404, 'NOT_FOUND', `No ${sourceName} webhooks are configured for "${slug}".`);
      let verdict = spec.verify(req.headers, raw, found.secret);
      if (!verdict.ok && Date.now() - found.fetchedAt > REFETCH_AFTER_MS) {
        // The secret may have been rotated since it was cached.
        found = await options.directory.webhookSecret(slug, source, true);
        if (!found) throw new Refusal(404, 'NOT_FOUND', `No ${sourceName} webhooks are configured for "${slug}".`);
        verdict = spec.verify(req.headers, raw, found.secret);
      }
      if (!verdict.ok) throw new Refusal(401, 'UNAUTHENTICATED', `Signature refused: ${verdict.reason}.`);
      let text: string;
      try {
        text = decoder.decode(raw);
      } catch {
        throw new Refusal(400, 'BAD_USER_INPUT', 'The body is not valid UTF-8.');
      }
      const { topic, externalId, triggeredAt } = identify(spec, req, raw, text);
      const receipt = await store(found, source, topic, externalId, triggeredAt, text);
      send(res, receipt.duplicate ? 200 : 202, { id: receipt.id, status: receipt.duplicate ? 'duplicate' : 'accepted' });
    } catch (error) {
      if (error instanceof Refusal) {
        if (!res.headersSent) send(res, error.status, { error: { code: error.code, message: error.message } });
        return;
      }
      const code = (error as { extensions?: { code?: string } }).extensions?.code;
      if (code === 'SERVICE_UNAVAILABLE') return send(res, 503, { error: { code, message: 'The tenant directory is unavailable; retry later.' } });
      log(`webhooks: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!res.headersSent) send(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected error.' } });
    }
  };
}

/** `/webhooks/<source>/<slug>` → its parts; null for any other path. */
export function webhookPath(url: string | undefined): { source: string; slug: string } | null {
  const match = /^\/webhooks\/([a-z]+)\/([A-Za-z0-9-]{1,63})\/?(?:\?.*)?$/.exec(url ?? '');
  return match ? { source: match[1]!, slug: match[2]! } : null;
}
