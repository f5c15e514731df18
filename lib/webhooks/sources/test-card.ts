import { MalformedEvent } from '../../payments/provider.js';
import { parseTestCardEvent, TEST_CARD_SIGNATURE_HEADER, testCardWebhookKey, verifyTestCard } from '../../payments/test-card.js';
import { UnidentifiedDelivery, type PaymentWebhookSource } from '../source.js';

/**
 * The `test-card` payment processor's confirmations (`lib/payments/test-card.ts`), POSTed to
 * `/webhooks/test-card/<tenant id>`; handed to orders, which applies each event id once.
 */
export const testCard: PaymentWebhookSource = {
  provider: 'TEST_CARD',
  path: 'test-card',
  secretHeaders: [TEST_CARD_SIGNATURE_HEADER],
  key: testCardWebhookKey,
  verify: (headers, raw, key) => verifyTestCard(headers, raw, key),
  identify: (text) => {
    try {
      return { eventId: parseTestCardEvent(text).id };
    } catch (error) {
      if (error instanceof MalformedEvent) throw new UnidentifiedDelivery(error.message);
      throw error;
    }
  },
};
