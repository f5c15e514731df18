import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { TIMESTAMP_WINDOW_SECONDS, type Verdict } from '../webhooks/signatures.js';
import { header, type DeliveryHeaders } from '../webhooks/source.js';
import { MalformedEvent, type Authorization, type AuthorizeRequest, type PaymentProvider, type ProviderEvent } from './provider.js';

/**
 * The documented test cards (README, "Checkout"). Any other well-formed number is declined
 * (`card_declined`), as real processors' test modes do.
 */
export const TEST_CARDS = {
  /** Approved: the processor confirms the authorisation by a signed `payment.authorized` webhook. */
  SUCCESS: '4242424242424242',
  /** Declined at once (`card_declined`). */
  DECLINE: '4000000000000002',
  /** Declined at once (`insufficient_funds`). */
  INSUFFICIENT_FUNDS: '4000000000009995',
  /**
   * 3-D-Secure-style: the payment waits in ACTION_REQUIRED for the shopper's challenge;
   * `completePaymentAction` with `authenticated` passes it (then a `payment.authorized` webhook),
   * anything else fails it (`payment.declined`, `authentication_failed`).
   */
  ACTION_REQUIRED: '4000000000003220',
} as const;

/** A card number as the shopper typed it: digits, spaces or dashes; 12 to 19 digits. */
export function normalizeCardNumber(input: string): string | null {
  if (input.length > 23 || !/^[\d -]+$/.test(input)) return null;
  const digits = input.replace(/[ -]/g, '');
  return /^\d{12,19}$/.test(digits) ? digits : null;
}

/** The header that carries a test-card signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const TEST_CARD_SIGNATURE_HEADER = 'x-test-card-signature';

/**
 * The key a tenant's test-card webhooks are signed with: derived from the secret the gateway
 * and subgraphs share (as quote and customer-token keys are), so no secret is configured or
 * sent anywhere. A real processor's secret would be configured per tenant instead.
 */
export const testCardWebhookKey = (sharedSecret: string, tenantId: string) =>
  createHmac('sha256', sharedSecret).update(`commerce test-card webhook v1:${tenantId}`).digest('hex');

/** What the simulated processor sends: the signature header of a body. */
export function signTestCard(rawBody: string | Buffer, key: string, nowMs = Date.now()): Record<string, string> {
  const t = String(Math.floor(nowMs / 1000));
  const v1 = createHmac('sha256', key).update(`${t}.`).update(rawBody).digest('hex');
  return { [TEST_CARD_SIGNATURE_HEADER]: `t=${t},v1=${v1}` };
}

export function verifyTestCard(headers: DeliveryHeaders, rawBody: Buffer, key: string, nowMs = Date.now()): Verdict {
  const value = header(headers, TEST_CARD_SIGNATURE_HEADER);
  if (!value) return { ok: false, reason: 'X-Test-Card-Signature is missing' };
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(value.trim());
  if (!match) return { ok: false, reason: 'X-Test-Card-Signature must be t=<unix seconds>,v1=<64 hex digits>' };
  if (Math.abs(nowMs / 1000 - Number(match[1])) > TIMESTAMP_WINDOW_SECONDS) return { ok: false, reason: `the signature's time is more than ${TIMESTAMP_WINDOW_SECONDS} s from now` };
  const expected = createHmac('sha256', key).update(`${match[1]}.`).update(rawBody).digest();
  const given = Buffer.from(match[2]!, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: 'the signature does not match' };
}

/** The event in a verified test-card body: `{ id, type, data: { payment, reason? } }`. */
export function parseTestCardEvent(text: string): ProviderEvent {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MalformedEvent('The body is not valid JSON.');
  }
  const { id, type, data } = (typeof body === 'object' && body !== null ? body : {}) as { id?: unknown; type?: unknown; data?: { payment?: unknown; reason?: unknown } };
  if (typeof id !== 'string' || !/^evt_[A-Za-z0-9_-]{1,100}$/.test(id)) throw new MalformedEvent('id must be an event id (evt_…).');
  if (type !== 'payment.authorized' && type !== 'payment.declined') throw new MalformedEvent('type must be payment.authorized or payment.declined.');
  const reference = data?.payment;
  if (typeof reference !== 'string' || !/^tc_pay_[A-Za-z0-9_-]{1,100}$/.test(reference)) throw new MalformedEvent('data.payment must be a test-card payment reference.');
  const reason = typeof data?.reason === 'string' ? data.reason.slice(0, 100) : undefined;
  return { id, type, reference, ...(reason ? { reason } : {}) };
}

export interface TestCardOptions {
  /** The secret the gateway and subgraphs share (the webhook keys derive from it). */
  sharedSecret: string;
  /** The gateway's base URL (`http://host:port`) its webhooks are POSTed to; unset: none are sent. */
  webhookBaseUrl: () => string | undefined;
  /** Deliveries tried per event (default 5), a second apart, until one is answered 2xx. */
  attempts?: number;
  log?: (message: string) => void;
}

/** The test card processor: a card processor's behaviour, its confirmations sent as signed webhooks over real HTTP. */
export function createTestCard(options: TestCardOptions): PaymentProvider & { deliver(tenantId: string, event: { id: string; type: string; data: Record<string, string> }): Promise<void> } {
  const log = options.log ?? (() => {});
  const attempts = options.attempts ?? 5;
  const id = (prefix: string) => `${prefix}${randomBytes(12).toString('base64url')}`;

  async function deliver(tenantId: string, event: { id: string; type: string; data: Record<string, string> }): Promise<void> {
    const base = options.webhookBaseUrl();
    if (!base) return log('test-card: no webhook URL, the confirmation is not sent');
    const body = JSON.stringify(event);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const response = await fetch(`${base}/webhooks/test-card/${tenantId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signTestCard(body, testCardWebhookKey(options.sharedSecret, tenantId)) },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        if (response.ok) return;
        log(`test-card: webhook ${event.id} answered ${response.status} (attempt ${attempt})`);
      } catch (error) {
        log(`test-card: webhook ${event.id} failed (attempt ${attempt}): ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  return {
    name: 'TEST_CARD',
    deliver,
    async authorize(request: AuthorizeRequest): Promise<Authorization & { dispatch?: () => void }> {
      const reference = id('tc_pay_');
      const card = request.cardNumber ? normalizeCardNumber(request.cardNumber) : null;
      if (card === TEST_CARDS.SUCCESS) {
        // Confirmed asynchronously: the payment service dispatches it once the payment is recorded.
        const dispatch = () => void deliver(request.tenantId, { id: id('evt_'), type: 'payment.authorized', data: { payment: reference } });
        return { state: 'PENDING', reference, dispatch };
      }
      if (card === TEST_CARDS.ACTION_REQUIRED) return { state: 'ACTION_REQUIRED', reference };
      if (card === TEST_CARDS.INSUFFICIENT_FUNDS) return { state: 'DECLINED', reference, reason: 'insufficient_funds' };
      return { state: 'DECLINED', reference, reason: 'card_declined' };
    },
    async completeAction({ tenantId, reference, result }) {
      // `authenticated` is the documented passing answer of the test challenge; anything else fails it.
      const data: Record<string, string> = result === 'authenticated' ? { payment: reference } : { payment: reference, reason: 'authentication_failed' };
      const event = { id: id('evt_'), type: result === 'authenticated' ? 'payment.authorized' : 'payment.declined', data };
      return { dispatch: () => void deliver(tenantId, event) };
    },
    capture: async () => ({ reference: id('tc_cap_') }),
    void: async () => {},
    refund: async () => ({ reference: id('tc_ref_') }),
    verifyWebhook: (headers, raw, key) => verifyTestCard(headers, raw, key),
    parseEvent: parseTestCardEvent,
  };
}
