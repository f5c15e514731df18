import { appError, badInput } from '../../../../lib/errors.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { normalizeCardNumber } from '../../../../lib/payments/test-card.js';
import type { OrderEntity } from '../data/entities/order.entity.js';
import { insufficientStock, type CartService } from './cart.service.js';
import type { PaymentService } from './payment.service.js';

export interface CheckoutInput {
  cartId: string;
  paymentMethod: { provider: string; cardNumber?: string | null };
  idempotencyKey: string;
  quoteToken?: string | null;
}

/**
 * `checkout`: the cart becomes an order, the order saga reserves its stock through the ledger,
 * and only a reserved order starts its payment. The answer waits for the saga (a few
 * milliseconds), so the shopper who lost the last unit hears INSUFFICIENT_STOCK at once; a
 * declined card cancels the order (its stock is released) and answers PAYMENT_DECLINED.
 */
export class CheckoutService {
  constructor(
    private readonly carts: CartService,
    private readonly payments: PaymentService,
  ) {}

  async checkout(ctx: SubgraphContext, input: CheckoutInput): Promise<OrderEntity> {
    const provider = input.paymentMethod.provider;
    if (provider !== 'MANUAL' && provider !== 'TEST_CARD') throw badInput('paymentMethod.provider must be MANUAL or TEST_CARD', 'paymentMethod.provider');
    const card = input.paymentMethod.cardNumber;
    if (provider === 'TEST_CARD' && (!card || !normalizeCardNumber(card))) throw badInput('paymentMethod.cardNumber must be 12 to 19 digits (spaces and dashes allowed)', 'paymentMethod.cardNumber');
    if (provider === 'MANUAL' && card) throw badInput('a MANUAL payment takes no card number', 'paymentMethod.cardNumber');
    const { orderId } = await this.carts.placeFromCart(ctx, { cartId: input.cartId, idempotencyKey: input.idempotencyKey, provider, quoteToken: input.quoteToken });
    const order = await this.carts.settled(ctx, orderId);
    if (order.status === 'REJECTED') {
      await this.carts.reopen(ctx, input.cartId, orderId);
      throw insufficientStock(orderId);
    }
    if (order.status === 'PLACED') return order;
    const payment = await this.payments.start(ctx, orderId, provider, card);
    if (payment.state === 'DECLINED') {
      // The shopper may try again with another card (and another idempotency key).
      await this.carts.reopen(ctx, input.cartId, orderId);
      throw appError('PAYMENT_DECLINED', `The card was declined (${payment.reason ?? 'card_declined'}); nothing was charged and the cart is open again.`, { orderId, reason: payment.reason ?? 'card_declined' });
    }
    return this.carts.settled(ctx, orderId, 0);
  }
}
