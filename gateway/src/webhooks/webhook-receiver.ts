import type { TenantDirectory, WebhookSecret } from '../auth/tenant-directory.js';
import type { SubgraphClient } from '../subgraph-client.js';
import { PAYMENT_WEBHOOK_SOURCES, paymentSourceAt, WEBHOOK_SOURCES, webhookSourceAt } from '../../../lib/webhooks/registry.js';
import { UnidentifiedDelivery, type DeliveryHeaders, type PaymentWebhookSource, type WebhookSource } from '../../../lib/webhooks/source.js';
import { isUuid } from '../../../lib/graphql/context.js';
import { readBoundedStream } from '../limits/request-body.js';

/**
 * `POST /webhooks/<source>/<tenant slug>` on the gateway's port. The gateway hosts it because it
 * already holds what verification needs (the tenant directory and its cache, in front of the
 * tenant subgraph that owns the secrets) and is the one public port; it verifies the signature
 * before anything else, then hands the raw body to the inventory subgraph, which owns ingestion,
 * stores it (deduplicated) and answers; the source gets `202 Accepted` and the worker applies it.
 */
export interface WebhookReceiverOptions {
  directory: TenantDirectory;
  /** Calls the inventory subgraph, which owns ingestion. */
  client: SubgraphClient;
  /** Payment processors' webhooks (`PAYMENT_WEBHOOK_SOURCES`): their keys derive from this secret; orders applies them. */
  payments?: { subgraphSecret: string };
  /** Whether inventory (ingestion) is served; merchant sources are refused otherwise. */
  ingestion?: boolean;
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

const RECEIVE_PAYMENT = `mutation ($provider: PaymentProvider!, $eventId: String!, $body: String!) {
  receivePaymentWebhook(provider: $provider, eventId: $eventId, body: $body) { duplicate }
}`;

export function createWebhookReceiver(options: WebhookReceiverOptions) {
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const log = options.log ?? console.error;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  /** A verified body as text; a body that is not UTF-8 is the sender's mistake. */
  const utf8 = (raw: Uint8Array): string => {
    try {
      return decoder.decode(raw);
    } catch {
      throw new Refusal(400, 'BAD_USER_INPUT', 'The body is not valid UTF-8.');
    }
  };

  const readBody = async (req: Request): Promise<Buffer> => {
    const body = await readBoundedStream(req.body, maxBody);
    if (!body) throw new Refusal(413, 'PAYLOAD_TOO_LARGE', `The body is larger than ${maxBody} bytes.`);
    return body;
  };

  /** A fetch Request's headers as source modules read them (lower-case names). */
  const headersOf = (req: Request): DeliveryHeaders => Object.fromEntries(req.headers);

  /** Topic, dedupe key and trigger time of a verified delivery, as its source module reads them. */
  const identify = (source: WebhookSource, headers: DeliveryHeaders, raw: Buffer, text: string) => {
    try {
      return source.identify(headers, raw, text);
    } catch (error) {
      if (error instanceof UnidentifiedDelivery) throw new Refusal(400, 'BAD_USER_INPUT', error.message);
      throw error;
    }
  };

  const store = async (found: WebhookSecret, source: string, topic: string, externalId: string, triggeredAt: string | null, body: string) => {
    const variables = { source, topic, externalId, body, currencyCode: found.currencyCode, triggeredAt };
    const result = await options.client
      .query<{ receiveWebhook?: { id: string; duplicate: boolean } }>('inventory', { query: RECEIVE, variables }, { caller: { tenantId: found.tenantId, roles: ['gateway'], actor: `webhook:${source}` }, timeoutMs: 10_000 })
      .catch(() => {
        throw new Refusal(503, 'SERVICE_UNAVAILABLE', 'Ingestion is unavailable; retry later.');
      });
    const receipt = result.data?.receiveWebhook;
    if (receipt) return receipt;
    const error = result.errors?.[0];
    if (error?.extensions?.code === 'BAD_USER_INPUT') throw new Refusal(400, 'BAD_USER_INPUT', error.message);
    // Older than the window (or ahead of the clock): understood, and refused for good.
    if (error?.extensions?.code === 'WEBHOOK_OUT_OF_WINDOW') throw new Refusal(422, 'WEBHOOK_OUT_OF_WINDOW', error.message);
    log(`webhooks: inventory refused a delivery: ${error?.message ?? 'no answer'}`);
    throw new Refusal(503, 'SERVICE_UNAVAILABLE', 'Ingestion is unavailable; retry later.');
  };

  /**
   * A payment processor's delivery: verified with the tenant's derived key, then handed to orders,
   * which applies each event id once (200 for a duplicate, 202 the first time).
   */
  const payment = async (req: Request, spec: PaymentWebhookSource, tenantId: string): Promise<{ status: number; body: object }> => {
    if (!options.payments) throw new Refusal(404, 'NOT_FOUND', `Unknown webhook source "${spec.path}".`);
    if (!isUuid(tenantId)) throw new Refusal(404, 'NOT_FOUND', `${spec.path} webhooks name the tenant by its id.`);
    const raw = await readBody(req);
    const verdict = spec.verify(headersOf(req), raw, spec.key(options.payments.subgraphSecret, tenantId));
    if (!verdict.ok) throw new Refusal(401, 'UNAUTHENTICATED', `Signature refused: ${verdict.reason}.`);
    const text = utf8(raw);
    let eventId: string;
    try {
      eventId = spec.identify(text).eventId;
    } catch (error) {
      if (error instanceof UnidentifiedDelivery) throw new Refusal(400, 'BAD_USER_INPUT', error.message);
      throw error;
    }
    const variables = { provider: spec.provider, eventId, body: text };
    const result = await options.client
      .query<{ receivePaymentWebhook?: { duplicate: boolean } }>('orders', { query: RECEIVE_PAYMENT, variables }, { caller: { tenantId, roles: ['gateway'], actor: `webhook:${spec.provider}` }, timeoutMs: 10_000 })
      .catch(() => {
        throw new Refusal(503, 'SERVICE_UNAVAILABLE', 'Payments are unavailable; retry later.');
      });
    const receipt = result.data?.receivePaymentWebhook;
    if (receipt) return { status: receipt.duplicate ? 200 : 202, body: { id: eventId, status: receipt.duplicate ? 'duplicate' : 'accepted' } };
    const error = result.errors?.[0];
    if (error?.extensions?.code === 'BAD_USER_INPUT') throw new Refusal(400, 'BAD_USER_INPUT', error.message);
    // An unknown payment may not be recorded yet: the processor retries.
    log(`webhooks: orders refused a payment event: ${error?.message ?? 'no answer'}`);
    throw new Refusal(503, 'SERVICE_UNAVAILABLE', 'Payments are unavailable; retry later.');
  };

  /** The answer to one delivery: its HTTP status and JSON body. */
  return async function handle(req: Request, sourceName: string, slug: string): Promise<{ status: number; body: object }> {
    try {
      if (req.method !== 'POST') throw new Refusal(405, 'METHOD_NOT_ALLOWED', 'Webhooks are POSTed.');
      const paymentSpec = paymentSourceAt(sourceName);
      if (paymentSpec) return await payment(req, paymentSpec, slug);
      const spec = options.ingestion === false ? undefined : webhookSourceAt(sourceName);
      if (!spec) throw new Refusal(404, 'NOT_FOUND', `Unknown webhook source "${sourceName}" (${[...WEBHOOK_SOURCES, ...PAYMENT_WEBHOOK_SOURCES].map((s) => s.path).join(', ')}).`);
      const source = spec.name;
      const headers = headersOf(req);
      const raw = await readBody(req);
      let found = await options.directory.webhookSecret(slug, source);
      if (!found) throw new Refusal(404, 'NOT_FOUND', `No ${sourceName} webhooks are configured for "${slug}".`);
      let verdict = spec.verify(headers, raw, found.secret);
      if (!verdict.ok && Date.now() - found.fetchedAt > REFETCH_AFTER_MS) {
        // The secret may have been rotated since it was cached.
        found = await options.directory.webhookSecret(slug, source, true);
        if (!found) throw new Refusal(404, 'NOT_FOUND', `No ${sourceName} webhooks are configured for "${slug}".`);
        verdict = spec.verify(headers, raw, found.secret);
      }
      if (!verdict.ok) throw new Refusal(401, 'UNAUTHENTICATED', `Signature refused: ${verdict.reason}.`);
      const text = utf8(raw);
      const { topic, externalId, triggeredAt } = identify(spec, headers, raw, text);
      const receipt = await store(found, source, topic, externalId, triggeredAt, text);
      return { status: receipt.duplicate ? 200 : 202, body: { id: receipt.id, status: receipt.duplicate ? 'duplicate' : 'accepted' } };
    } catch (error) {
      if (error instanceof Refusal) return { status: error.status, body: { error: { code: error.code, message: error.message } } };
      const code = (error as { extensions?: { code?: string } }).extensions?.code;
      if (code === 'SERVICE_UNAVAILABLE') return { status: 503, body: { error: { code, message: 'The tenant directory is unavailable; retry later.' } } };
      log(`webhooks: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return { status: 500, body: { error: { code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected error.' } } };
    }
  };
}

/** `/webhooks/<source>/<slug>` → its parts; null for any other path. */
export function webhookPath(url: string | undefined): { source: string; slug: string } | null {
  const match = /^\/webhooks\/([a-z][a-z-]{0,30})\/([A-Za-z0-9-]{1,63})\/?(?:\?.*)?$/.exec(url ?? '');
  return match ? { source: match[1]!, slug: match[2]! } : null;
}
