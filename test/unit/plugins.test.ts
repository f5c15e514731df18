import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '../../lib/events/envelope.js';
import { readPlugins, setUpPlugins, withPluginReactions } from '../../lib/plugins/load-plugins.js';
import { readLowStockOptions } from '../../plugins/low-stock-alert.js';

describe('in-process plug-ins', () => {
  it('low-stock-alert: options default, and a bad one stops the service with a message naming it', async () => {
    expect(readLowStockOptions({})).toEqual({ threshold: 5, thresholds: {} });
    expect(readLowStockOptions({ threshold: 0, thresholds: { A: 12 } })).toEqual({ threshold: 0, thresholds: { A: 12 } });
    expect(() => readLowStockOptions({ threshold: -1 })).toThrow('low-stock-alert: "threshold" must be an integer from 0 to 1000000000, not -1');
    expect(() => readLowStockOptions({ threshold: '5' })).toThrow('"threshold" must be an integer');
    expect(() => readLowStockOptions({ thresholds: { A: 2.5 } })).toThrow('"thresholds"."A" must be an integer');
    expect(() => readLowStockOptions({ thresholds: [3] })).toThrow('"thresholds" must be an object');
    expect(() => readLowStockOptions({ treshold: 3 })).toThrow('unknown option(s) treshold');
    // Loaded from configuration: set up only where it runs, checked there.
    const entries = await readPlugins({ COMMERCE_PLUGINS: JSON.stringify([{ module: 'plugins/low-stock-alert.ts', options: { threshold: -1 } }]) });
    expect(setUpPlugins('orders', entries).reactions).toEqual([]);
    expect(() => setUpPlugins('inventory', entries)).toThrow('low-stock-alert: "threshold"');
  });

  it("runs a plug-in's reaction after the service's own to the same type, not in its place", async () => {
    const ran: string[] = [];
    const appliers = withPluginReactions({ 'orders.order.placed': async () => void ran.push('service') }, [
      { type: 'orders.order.placed', apply: async () => void ran.push('plug-in') },
      { type: 'orders.order.paid', apply: async () => void ran.push('paid') },
    ]);
    await appliers['orders.order.placed']!({} as EntityManager, {} as EventEnvelope);
    await appliers['orders.order.paid']!({} as EntityManager, {} as EventEnvelope);
    expect(ran).toEqual(['service', 'plug-in', 'paid']);
  });
});
