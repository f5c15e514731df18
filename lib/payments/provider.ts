import type { Verdict } from '../webhooks/signatures.js';
import type { DeliveryHeaders } from '../webhooks/source.js';

/** The payment providers built in; as in the GraphQL enum `PaymentProvider` and the `payment.provider` CHECK. */
export type PaymentProviderName = 'MANUAL' | 'TEST_CARD';

/** A payment's state (the `payment.state` column and `PaymentState` in the schema). */
export type PaymentState = 'PENDING' | 'ACTION_REQUIRED' | 'AUTHORIZED' | 'CAPTURED' | 'DECLINED' | 'VOIDED';

/** What a provider answers an authorisation with. */
export type Authorization =
  /** Approved and final (no webhook follows). */
  | { state: 'AUTHORIZED'; reference: string }
  /** Accepted; the processor confirms asynchronously, by a signed webhook (`payment.authorized` or `payment.declined`). */
  | { state: 'PENDING'; reference: string }
  /** The shopper must complete a challenge (3-D Secure) before the processor answers. */
  | { state: 'ACTION_REQUIRED'; reference: string }
  /** Refused: nothing is held. `reason` is the processor's code (`card_declined`, `insufficient_funds`). */
  | { state: 'DECLINED'; reference: string; reason: string };

/** One authorisation request: the order's total, in minor-unit-exact decimal strings. */
export interface AuthorizeRequest {
  tenantId: string;
  orderId: string;
  amount: string;
  currencyCode: string;
  /** TEST_CARD: the card number (never stored, never logged). */
  cardNumber?: string | null;
}

/** A processor's event, as the gateway forwards it after verifying its signature. */
export interface ProviderEvent {
  /** The processor's event id: the dedupe key (a duplicate applies once). */
  id: string;
  type: 'payment.authorized' | 'payment.declined';
  /** The provider's reference of the payment it is about. */
  reference: string;
  reason?: string;
}

/**
 * A payment provider: what orders asks of a processor. Amounts are decimal strings in the
 * order's currency; each call throws on a processor failure and changes nothing then.
 */
export interface PaymentProvider {
  readonly name: PaymentProviderName;
  /** Asks for the amount to be held. */
  authorize(request: AuthorizeRequest): Promise<Authorization>;
  /**
   * The shopper came back from the processor's challenge (3-D Secure) of an ACTION_REQUIRED
   * payment with `result`: the processor answers later, by its webhook (`payment.authorized` or
   * `payment.declined`). `dispatch` sends that answer once the caller has recorded the step.
   */
  completeAction(request: { tenantId: string; reference: string; result: string }): Promise<{ dispatch?: () => void }>;
  /** Takes (part of) what was authorised. */
  capture(reference: string, amount: string, currencyCode: string): Promise<{ reference: string }>;
  /** Releases an authorisation that will not be captured. */
  void(reference: string): Promise<void>;
  /** Gives back (part of) what was captured. */
  refund(reference: string, amount: string, currencyCode: string): Promise<{ reference: string }>;
  /** Checks a webhook's signature with the tenant's key (the gateway calls it before anything else). */
  verifyWebhook(headers: DeliveryHeaders, rawBody: Buffer, key: string): Verdict;
  /** The event a verified body carries; throws `MalformedEvent` when it is not one. */
  parseEvent(text: string): ProviderEvent;
}

export class MalformedEvent extends Error {
  override name = 'MalformedEvent';
}
