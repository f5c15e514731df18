import type { EventApplier } from '../../lib/events/consumer.js';
import { combinedReactions, type Reaction } from '../../lib/events/on.js';
import { READ_MODELS } from '../../scripts/read-models.js';
import { catalogAppliers } from '../../subgraphs/catalog/src/events/catalog-consumers.js';
import { catalogReactions } from '../../subgraphs/catalog/src/events/catalog-reactions.js';
import { inventoryAppliers } from '../../subgraphs/inventory/src/events/inventory-consumers.js';
import { ordersAppliers } from '../../subgraphs/orders/src/events/orders-consumers.js';
import { pricingAppliers } from '../../subgraphs/pricing/src/events/pricing-consumers.js';

/** What each service's live consumer applies, by type (built without their services: only the functions are compared). */
const live: Record<string, Record<string, EventApplier>> = {
  catalog: { ...catalogAppliers(), ...combinedReactions(...catalogReactions) },
  inventory: inventoryAppliers({} as never),
  pricing: pricingAppliers(),
  orders: ordersAppliers({} as never),
};

/** The reactions a service's consumer combines (several may follow one event type). */
const liveReactions: Record<string, Reaction[]> = { catalog: catalogReactions };

describe('read models (npm run replay)', () => {
  it('are rebuilt by the very functions the live consumers apply, so a rebuild cannot drift from them', () => {
    for (const model of READ_MODELS) {
      for (const reaction of model.reactions ?? []) {
        // Several reactions to one type are combined into one applier: then the reaction must be one of those combined.
        const combined = (liveReactions[model.service] ?? []).filter((r) => r.type === reaction.type);
        const applied = combined.length > 1 ? combined.find((r) => r.apply === reaction.apply)?.apply : live[model.service]?.[reaction.type];
        expect([model.name, reaction.type, applied]).toEqual([model.name, reaction.type, reaction.apply]);
      }
    }
  });

  it('have unique names and either reactions or a rebuild from their own tables', () => {
    expect(new Set(READ_MODELS.map((m) => m.name)).size).toBe(READ_MODELS.length);
    for (const model of READ_MODELS) expect([model.name, Boolean(model.reactions?.length) !== Boolean(model.rebuild)]).toEqual([model.name, true]);
  });
});
