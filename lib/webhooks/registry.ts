import type { PaymentWebhookSource, WebhookSource } from './source.js';
import { erp } from './sources/erp.js';
import { pos } from './sources/pos.js';
import { shopify } from './sources/shopify.js';
import { testCard } from './sources/test-card.js';
import { woo } from './sources/woo.js';

/**
 * Every webhook source, one module each. The gateway's receiver, its metric labels and log
 * redaction, inventory's ingestion and worker read this list; the GraphQL enums `WebhookSource`
 * and the SQL CHECK constraints on `source` columns must list the same names (a test checks).
 */
export const WEBHOOK_SOURCES = [shopify, pos, erp, woo] as const satisfies readonly WebhookSource[];

export type WebhookSourceName = (typeof WEBHOOK_SOURCES)[number]['name'];
export const WEBHOOK_SOURCE_NAMES = WEBHOOK_SOURCES.map((s) => s.name) as readonly WebhookSourceName[];

const byName = new Map<string, WebhookSource>(WEBHOOK_SOURCES.map((s) => [s.name, s]));
const byPath = new Map<string, WebhookSource>(WEBHOOK_SOURCES.map((s) => [s.path, s]));

export const isWebhookSourceName = (name: string): name is WebhookSourceName => byName.has(name);
/** The source of a registered name (throws for another: names come from the enum or a checked column). */
export function webhookSource(name: WebhookSourceName): WebhookSource {
  const source = byName.get(name);
  if (!source) throw new Error(`unknown webhook source ${name}`);
  return source;
}
/** The source served at `/webhooks/<path>/…`, if any. */
export const webhookSourceAt = (path: string): WebhookSource | undefined => byPath.get(path);
/**
 * Payment processors whose webhooks confirm payments (issue 17): received at the same endpoint,
 * handed to orders. Their path must not be one of WEBHOOK_SOURCES'.
 */
export const PAYMENT_WEBHOOK_SOURCES = [testCard] as const satisfies readonly PaymentWebhookSource[];
const paymentByPath = new Map<string, PaymentWebhookSource>(PAYMENT_WEBHOOK_SOURCES.map((s) => [s.path, s]));
/** The payment source served at `/webhooks/<path>/…`, if any. */
export const paymentSourceAt = (path: string): PaymentWebhookSource | undefined => paymentByPath.get(path);

/** Every header that carries a webhook signature (log redaction). */
export const WEBHOOK_SECRET_HEADERS: readonly string[] = [...new Set([...WEBHOOK_SOURCES, ...PAYMENT_WEBHOOK_SOURCES].flatMap((s) => s.secretHeaders))];
