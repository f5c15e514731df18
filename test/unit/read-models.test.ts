import type { EventApplier } from '../../lib/events/consumer.js';
import { reactions } from '../../lib/events/on.js';
import { READ_MODELS } from '../../scripts/read-models.js';
import { catalogAppliers } from '../../subgraphs/catalog/src/events/catalog-consumers.js';
import { searchOffers } from '../../subgraphs/catalog/src/services/search.service.js';
import { inventoryAppliers } from '../../subgraphs/inventory/src/events/inventory-consumers.js';
import { ordersAppliers } from '../../subgraphs/orders/src/events/orders-consumers.js';
import { pricingAppliers } from '../../subgraphs/pricing/src/events/pricing-consumers.js';

/** What each service's live consumer applies, by type (built without their services: only the functions are compared). */
const live: Record<string, Record<string, EventApplier>> = {
  catalog: { ...catalogAppliers(), ...reactions(...searchOffers) },
  inventory: inventoryAppliers({} as never),
  pricing: pricingAppliers(),
  orders: ordersAppliers({} as never),
};

describe('read models (npm run replay)', () => {
  it('are rebuilt by the very functions the live consumers apply, so a rebuild cannot drift from them', () => {
    for (const model of READ_MODELS) {
      for (const reaction of model.reactions ?? []) expect([model.name, reaction.type, live[model.service]?.[reaction.type]]).toEqual([model.name, reaction.type, reaction.apply]);
    }
  });

  it('have unique names and either reactions or a rebuild from their own tables', () => {
    expect(new Set(READ_MODELS.map((m) => m.name)).size).toBe(READ_MODELS.length);
    for (const model of READ_MODELS) expect([model.name, Boolean(model.reactions?.length) !== Boolean(model.rebuild)]).toEqual([model.name, true]);
  });
});
