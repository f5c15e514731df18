import { ConfigError } from '../lib/env.js';
import { onEachChange } from '../lib/events/batch-events.js';
import { MAX_STOCK_LEVEL } from '../lib/input-bounds.js';
import type { CommercePlugin } from '../lib/plugins/plugin.js';

/** The plug-in's options (`COMMERCE_PLUGINS` entry's `options`). */
export interface LowStockOptions {
  /** A sku is low in a store when its `available` is at or below this (default 5). */
  threshold: number;
  /** Per-sku thresholds, in place of `threshold`. */
  thresholds: Record<string, number>;
}

export const DEFAULT_LOW_STOCK_THRESHOLD = 5;

const isThreshold = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_STOCK_LEVEL;

/** Reads and checks the options; a ConfigError names what is wrong (the service does not start). */
export function readLowStockOptions(options: Record<string, unknown>): LowStockOptions {
  const problem = (what: string) => new ConfigError(`low-stock-alert: ${what}`);
  const unknown = Object.keys(options).filter((key) => key !== 'threshold' && key !== 'thresholds');
  if (unknown.length > 0) throw problem(`unknown option(s) ${unknown.join(', ')} (threshold, thresholds)`);
  const threshold = options.threshold ?? DEFAULT_LOW_STOCK_THRESHOLD;
  if (!isThreshold(threshold)) throw problem(`"threshold" must be an integer from 0 to ${MAX_STOCK_LEVEL}, not ${JSON.stringify(threshold)}`);
  const thresholds = options.thresholds ?? {};
  if (typeof thresholds !== 'object' || thresholds === null || Array.isArray(thresholds)) throw problem('"thresholds" must be an object of { "<sku>": <integer> }');
  for (const [sku, value] of Object.entries(thresholds)) {
    if (!isThreshold(value)) throw problem(`"thresholds"."${sku}" must be an integer from 0 to ${MAX_STOCK_LEVEL}, not ${JSON.stringify(value)}`);
  }
  return { threshold, thresholds: thresholds as Record<string, number> };
}

/**
 * Runs in inventory: when a stock level's `available` falls from above its sku's threshold to at
 * or below it, publishes `inventory.stock-level.low`, in the transaction that consumed the
 * `inventory.stock-level.changed` (so once per crossing, however often the change is delivered).
 * Writes that stay below do not repeat it; rising above the threshold again re-arms it.
 */
export const plugin: CommercePlugin = {
  name: 'low-stock-alert',
  subgraphs: ['inventory'],
  setup(api) {
    const { threshold, thresholds } = readLowStockOptions(api.options);
    // A feed's levels come as one `inventory.stock-levels.changed` per batch: each change is looked at.
    const reactions = onEachChange('inventory.stock-level.changed', async (manager, event) => {
      const { sku, storeId, available, previousAvailable } = event.payload;
      const limit = thresholds[sku] ?? threshold;
      // Events from before `previousAvailable` existed cannot tell a crossing: none is claimed.
      if (previousAvailable === undefined || previousAvailable <= limit || available > limit) return;
      await api.emit(manager, event.tenantId, 'inventory.stock-level.low', { sku, storeId, available, previousAvailable, threshold: limit, causeEventId: event.eventId });
    });
    for (const reaction of reactions) api.react(reaction);
  },
};

export default plugin;
