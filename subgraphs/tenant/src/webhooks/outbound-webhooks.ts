import type { DataSource } from 'typeorm';
import type { EventBus } from '../../../../lib/events/event-bus.js';
import { WebhookSubscriptionService } from '../services/webhook-subscription.service.js';
import { DEFAULT_OUTBOUND_WEBHOOKS, type OutboundWebhookOptions } from './config.js';
import { consumeForWebhooks } from './delivery-writer.js';
import { createDeliveryWorker } from './delivery-worker.js';
import { targetGuard, type Lookup } from '../../../../lib/outbound/target-policy.js';

/**
 * Outbound webhooks of the tenant subgraph: the GraphQL service, the bus consumer that writes
 * deliveries and the worker that sends them. Idle until `start`.
 */
export function buildOutboundWebhooks(deps: {
  dataSource: DataSource;
  bus: EventBus;
  afterCommit: () => Promise<void>;
  options?: OutboundWebhookOptions;
  log?: (message: string) => void;
  /** The resolver (default: the system's); tests of DNS changes pass their own. */
  lookup?: Lookup;
}) {
  const options = deps.options ?? DEFAULT_OUTBOUND_WEBHOOKS;
  const log = deps.log ?? ((message: string) => console.error(message));
  const worker = createDeliveryWorker({ dataSource: deps.dataSource, options, log, lookup: deps.lookup });
  const service = new WebhookSubscriptionService(deps.dataSource, deps.afterCommit, targetGuard(options.policy, deps.lookup), worker.nudge);
  let stopConsuming: (() => Promise<void>) | undefined;
  return {
    service,
    /** Runs one delivery pass now (benchmarks, tests). */
    nudge: worker.nudge,
    async start() {
      stopConsuming = await consumeForWebhooks(deps.dataSource, deps.bus, worker.nudge);
      worker.start();
    },
    async stop() {
      await stopConsuming?.();
      stopConsuming = undefined;
      await worker.stop();
    },
  };
}
