/**
 * Type-level tests of the event map, checked by `npm run check:types` (tsc): each
 * `@ts-expect-error` line must fail to compile, or tsc reports the directive as unused.
 * Nothing here runs.
 */
import type { EntityManager } from 'typeorm';
import { on } from '../../lib/events/on.js';
import { outboxOf } from '../../lib/events/outbox.js';

declare const m: EntityManager;
const tenant = outboxOf('tenant');
const inventory = outboxOf('inventory');

export async function publishing(): Promise<void> {
  await tenant(m, 't', 'tenant.store.created', { id: 's', code: 'S1', name: 'Main', kind: 'STORE' });
  // @ts-expect-error a field of the payload is missing
  await tenant(m, 't', 'tenant.store.created', { id: 's', code: 'S1', name: 'Main' });
  // @ts-expect-error a field has the wrong type
  await tenant(m, 't', 'tenant.api-key.revoked', { id: 'k', keyHash: 42 });
  // @ts-expect-error a field the payload does not declare
  await tenant(m, 't', 'tenant.api-key.created', { id: 'k', role: 'ADMIN', extra: true });
  // @ts-expect-error a type outside the map
  await tenant(m, 't', 'tenant.store.renamed', { id: 's' });
  // @ts-expect-error another publisher's event type
  await inventory(m, 't', 'orders.order.placed', { id: 'o', storeId: 's', number: 1, lines: [], total: { amount: '0', currencyCode: 'EUR' } });
}

export const consuming = [
  on('orders.order.placed', async (_m, event) => void event.payload.lines.map((l) => l.sku)),
  // @ts-expect-error the payload has no such field
  on('orders.order.fulfilled', async (_m, event) => void event.payload.lines),
  // @ts-expect-error a field used as another type
  on('pricing.price.changed', async (_m, event) => void event.payload.price.toFixed(2)),
  // @ts-expect-error a type outside the map
  on('orders.order.shipped', async () => {}),
];
