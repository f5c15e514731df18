import { randomUUID } from 'node:crypto';
import type { PaymentProvider } from './provider.js';
import { MalformedEvent } from './provider.js';

/**
 * Pay at the till or by bank transfer: nothing is held at checkout (the payment waits, PENDING)
 * and staff marks the order paid (`payOrder`), which is the capture. No processor, no webhooks.
 */
export const manual: PaymentProvider = {
  name: 'MANUAL',
  authorize: async () => ({ state: 'PENDING', reference: `manual_${randomUUID()}` }),
  // Never ACTION_REQUIRED: the payment service does not ask.
  completeAction: async () => {
    throw new Error('manual payments have no challenge');
  },
  capture: async (reference) => ({ reference }),
  void: async () => {},
  refund: async () => ({ reference: `manual_refund_${randomUUID()}` }),
  verifyWebhook: () => ({ ok: false, reason: 'manual payments have no webhooks' }),
  parseEvent: () => {
    throw new MalformedEvent('manual payments have no webhooks');
  },
};
