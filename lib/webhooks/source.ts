import type { AdaptedPayload } from './adapters.js';
import type { Verdict } from './signatures.js';

/** A delivery's headers (lower-case names), as Node gives them. */
export type DeliveryHeaders = Record<string, string | string[] | undefined>;

/** What identifies a verified delivery: its topic, dedupe key and (when the source sends one) trigger time. */
export interface DeliveryIdentity {
  topic: string;
  externalId: string;
  triggeredAt: string | null;
}

/** A delivery the source module refuses (the receiver answers 400 with this message). */
export class UnidentifiedDelivery extends Error {
  override name = 'UnidentifiedDelivery';
}

/**
 * One merchant system that pushes webhooks: everything the gateway, inventory, logs, metrics,
 * schema and database need to know about it. One module per source in `sources/`, listed in
 * `registry.ts`; docs/CONTRIBUTING.md has the recipe.
 */
export interface WebhookSource<N extends string = string> {
  /** As in the GraphQL enum `WebhookSource` and the `source` columns' CHECK constraints. */
  readonly name: N;
  /** `/webhooks/<path>/<tenant slug>`; also the `source` label of the webhook metrics. */
  readonly path: string;
  /** Headers that carry signatures: redacted in every log line. */
  readonly secretHeaders: readonly string[];
  /** Checks the raw body's signature with the tenant's secret. */
  verify(headers: DeliveryHeaders, rawBody: Buffer, secret: string): Verdict;
  /** Topic and dedupe key of a verified delivery; UnidentifiedDelivery when they are missing. */
  identify(headers: DeliveryHeaders, rawBody: Buffer, text: string): DeliveryIdentity;
  /** Topics inventory accepts from it. */
  readonly topics: readonly string[];
  /** The payload as canonical commands (see adapters.ts); MalformedPayload when it is not. */
  adapt(topic: string, payload: Record<string, unknown>): AdaptedPayload;
  /**
   * True when the source names variants and locations only by its own ids (they must be mapped);
   * false when an unmapped reference may be our sku, store code or store id.
   */
  readonly ownIdsOnly: boolean;
  /** How inventory names an unmapped item of this source in a review note. */
  readonly itemNoun: string;
  /** What is missing when a delivery carries no time (the error message). */
  readonly timeHint: string;
}

/** The first value of a header. */
export const header = (headers: DeliveryHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * A payment processor that confirms payments by webhook (issue 17). Its deliveries go to orders,
 * which owns payments, not to inventory's ingestion; the path names the tenant by id, and the
 * tenant's key is derived (`key`) rather than configured.
 */
export interface PaymentWebhookSource {
  /** As in the GraphQL enum `PaymentProvider`. */
  readonly provider: 'TEST_CARD';
  /** `/webhooks/<path>/<tenant id>`; also the `source` label of the webhook metrics. */
  readonly path: string;
  /** Headers that carry signatures: redacted in every log line. */
  readonly secretHeaders: readonly string[];
  /** The tenant's verification key, from the secret the gateway and subgraphs share. */
  key(sharedSecret: string, tenantId: string): string;
  verify(headers: DeliveryHeaders, rawBody: Buffer, key: string): Verdict;
  /** The dedupe key of a verified delivery; UnidentifiedDelivery when the body is not an event. */
  identify(text: string): { eventId: string };
}
