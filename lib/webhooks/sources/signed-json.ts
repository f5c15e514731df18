import { adaptSignedJson } from '../adapters.js';
import { verifySignedJson } from '../signatures.js';
import { header, UnidentifiedDelivery, type WebhookSource } from '../source.js';

/**
 * The one documented format of POS and ERP systems (adapters.ts): `X-Timestamp` and
 * `X-Signature: sha256=…` over `<timestamp>.<body>`, the topic and dedupe key in the body.
 */
export const signedJsonSource = <N extends string>(name: N, path: string, extraTopics: readonly string[] = []): WebhookSource<N> => ({
  name,
  path,
  secretHeaders: ['x-signature'],
  verify: (headers, raw, secret) => verifySignedJson(raw, header(headers, 'x-timestamp'), header(headers, 'x-signature'), secret),
  identify: (_headers, _raw, text) => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new UnidentifiedDelivery('The body is not valid JSON.');
    }
    const { type, event_id: eventId } = (typeof body === 'object' && body !== null ? body : {}) as { type?: unknown; event_id?: unknown };
    if (typeof type !== 'string') throw new UnidentifiedDelivery('type must be "stock.delta" or "stock.level".');
    if ((typeof eventId !== 'string' || !eventId) && typeof eventId !== 'number') throw new UnidentifiedDelivery('event_id is required.');
    return { topic: type, externalId: String(eventId), triggeredAt: null };
  },
  topics: ['stock.delta', 'stock.level', ...extraTopics],
  // A call, not a reference: adapters.ts and the registry import each other.
  adapt: (topic, payload) => adaptSignedJson(topic, payload),
  ownIdsOnly: false,
  itemNoun: 'sku',
  timeHint: 'occurred_at is required',
});
