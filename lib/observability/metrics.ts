import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics (prom-client). One registry per process; every series carries
 * the `service` that produced it, so `npm start` (every service in one process) and one service
 * per process both read right. Served at `/metrics` by the gateway and every subgraph.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const metrics = {
  graphqlRequests: new Counter({
    name: 'graphql_requests_total',
    help: 'GraphQL operations executed, by service, operation name and outcome (OK or the first error code).',
    labelNames: ['service', 'operation', 'code'] as const,
    registers: [registry],
  }),
  graphqlDuration: new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'Time to execute a GraphQL operation, by service and operation name.',
    labelNames: ['service', 'operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  subgraphFetchDuration: new Histogram({
    name: 'gateway_subgraph_fetch_duration_seconds',
    help: 'Time of one subgraph HTTP fetch made by the gateway, by subgraph and outcome.',
    labelNames: ['subgraph', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  persistedDocuments: new Counter({
    name: 'gateway_persisted_documents_total',
    help: 'Operations run from a published persisted document (trusted documents), by document id (past 1000 ids, "other").',
    labelNames: ['document_id'] as const,
    registers: [registry],
  }),
  subgraphFetchesShared: new Counter({
    name: 'gateway_subgraph_fetches_shared_total',
    help: 'Subgraph fetches answered by an identical fetch already in flight, by subgraph.',
    labelNames: ['subgraph'] as const,
    registers: [registry],
  }),
  eventsPublished: new Counter({
    name: 'events_published_total',
    help: 'Events the outbox relay published to the bus, by service and event type.',
    labelNames: ['service', 'type'] as const,
    registers: [registry],
  }),
  eventsConsumed: new Counter({
    name: 'events_consumed_total',
    help: 'Events a service applied (first delivery; redeliveries are not counted), by service and type.',
    labelNames: ['service', 'type'] as const,
    registers: [registry],
  }),
  reservations: new Counter({
    name: 'inventory_reservations_total',
    help: 'Reservation attempts, by outcome (reserved, insufficient_stock).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  oversellRefusals: new Counter({
    name: 'inventory_oversell_refusals_total',
    help: 'Movements refused because they would have taken available stock below zero (INSUFFICIENT_STOCK).',
    registers: [registry],
  }),
  webhookAcks: new Counter({
    name: 'webhook_acks_total',
    help: 'Webhook deliveries answered by the gateway, by source and HTTP status.',
    labelNames: ['source', 'status'] as const,
    registers: [registry],
  }),
  webhookAckDuration: new Histogram({
    name: 'webhook_ack_duration_seconds',
    help: 'Time from a webhook request to its answer, by source.',
    labelNames: ['source'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  ingestionStale: new Counter({
    name: 'ingestion_stale_total',
    help: 'Changes from merchant systems left unchanged because a newer one from the same source was already applied, by service and kind (level, product, price).',
    labelNames: ['service', 'kind'] as const,
    registers: [registry],
  }),
  ingestion: new Counter({
    name: 'ingestion_deliveries_total',
    help: 'Webhook deliveries the ingestion worker finished an attempt on, by outcome (applied, needs_review, retrying, dead_letter).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  rateLimitFallbacks: new Counter({
    name: 'rate_limit_fallback_total',
    help: 'Rate-limit counts the gateway kept in its own memory because Redis did not answer in time.',
    registers: [registry],
  }),
  authFailures: new Counter({
    name: 'gateway_auth_failures_total',
    help: 'Failed authentications (unknown or revoked API key, bad JWT, unknown tenant), and requests refused because their client address failed too often (outcome: failed, blocked).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  liveUpdateInterruptions: new Counter({
    name: 'gateway_live_update_interruptions_total',
    help: 'Times the gateway lost its event bus and told its subscribers that live updates are interrupted.',
    registers: [registry],
  }),
};

/** A gauge whose value is read when Prometheus scrapes (sockets, subscriptions, outbox backlog). */
export function gaugeOf(name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, value: number) => void) => Promise<void> | void): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge;
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      await read((labels, value) => this.set(labels, value));
    },
  });
}

/** Readers of a gauge, added by each service that has something to report (several per process). */
const readers = new Map<string, Set<(set: (labels: Record<string, string>, value: number) => void) => Promise<void> | void>>();

/** Registers `read` under the gauge `name`; returns the function that removes it (on stop). */
export function reportGauge(
  name: string,
  help: string,
  labelNames: string[],
  read: (set: (labels: Record<string, string>, value: number) => void) => Promise<void> | void,
): () => void {
  let set = readers.get(name);
  if (!set) {
    readers.set(name, (set = new Set()));
    const all = set;
    gaugeOf(name, help, labelNames, async (put) => {
      for (const reader of all) {
        try {
          await reader(put);
        } catch {
          // A reader that cannot answer now (a database mid-restart) leaves its series out.
        }
      }
    });
  }
  set.add(read);
  return () => void set.delete(read);
}

export const METRICS_CONTENT_TYPE = registry.contentType;
