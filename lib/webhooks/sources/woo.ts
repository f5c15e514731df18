import { adaptWoo } from '../adapters.js';
import { bodyDigest, verifyWoo } from '../signatures.js';
import { header, UnidentifiedDelivery, type WebhookSource } from '../source.js';

/**
 * WooCommerce: base64 HMAC of the body in `X-WC-Webhook-Signature`, topic and delivery id in
 * headers; products carry their stock (one level per shop, see WOO_LOCATION). Items are named by
 * WooCommerce's product ids, mapped to our skus when the product is applied.
 */
export const woo: WebhookSource<'WOO'> = {
  name: 'WOO',
  path: 'woo',
  secretHeaders: ['x-wc-webhook-signature'],
  verify: (headers, raw, secret) => verifyWoo(raw, header(headers, 'x-wc-webhook-signature'), secret),
  identify: (headers, raw) => {
    const topic = header(headers, 'x-wc-webhook-topic');
    if (!topic) throw new UnidentifiedDelivery('X-WC-Webhook-Topic is missing.');
    const id = header(headers, 'x-wc-webhook-delivery-id');
    return { topic, externalId: id ? id : bodyDigest(raw), triggeredAt: null };
  },
  topics: ['product.created', 'product.updated'],
  // A call, not a reference: adapters.ts and the registry import each other.
  adapt: (topic, payload) => adaptWoo(topic, payload),
  ownIdsOnly: true,
  itemNoun: 'WooCommerce product',
  timeHint: 'date_modified_gmt is missing',
};
