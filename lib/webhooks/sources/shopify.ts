import { adaptShopify } from '../adapters.js';
import { bodyDigest, verifyShopify } from '../signatures.js';
import { header, UnidentifiedDelivery, type WebhookSource } from '../source.js';

/** Shopify: HMAC of the body in `X-Shopify-Hmac-Sha256`, topic and id in headers; its own ids for items and locations. */
export const shopify: WebhookSource<'SHOPIFY'> = {
  name: 'SHOPIFY',
  path: 'shopify',
  secretHeaders: ['x-shopify-hmac-sha256'],
  verify: (headers, raw, secret) => verifyShopify(raw, header(headers, 'x-shopify-hmac-sha256'), secret),
  identify: (headers, raw) => {
    const topic = headers['x-shopify-topic'];
    if (typeof topic !== 'string' || !topic) throw new UnidentifiedDelivery('X-Shopify-Topic is missing.');
    const id = headers['x-shopify-webhook-id'];
    // Inventory takes it as the delivery's source time when the body has no updated_at.
    const triggeredAt = headers['x-shopify-triggered-at'];
    return { topic, externalId: typeof id === 'string' && id ? id : bodyDigest(raw), triggeredAt: typeof triggeredAt === 'string' ? triggeredAt.trim() : null };
  },
  topics: ['inventory_levels/update', 'products/update', 'products/create'],
  // A call, not a reference: adapters.ts and the registry import each other.
  adapt: (topic, payload) => adaptShopify(topic, payload),
  ownIdsOnly: true,
  itemNoun: 'inventory item',
  timeHint: 'neither updated_at in the body nor X-Shopify-Triggered-At',
};
