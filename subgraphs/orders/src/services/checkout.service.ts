import { badInput } from '../../../../lib/errors.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import type { OrderEntity } from '../data/entities/order.entity.js';
import { insufficientStock, type CartService } from './cart.service.js';

export interface CheckoutInput {
  cartId: string;
  paymentMethod: { provider: string; cardNumber?: string | null };
  idempotencyKey: string;
}

/**
 * `checkout`: the cart becomes an order, the order saga reserves its stock through the ledger,
 * and only a reserved order starts its payment. The answer waits for the saga (a few
 * milliseconds), so the shopper who lost the last unit hears INSUFFICIENT_STOCK at once.
 */
export class CheckoutService {
  constructor(private readonly carts: CartService) {}

  async checkout(ctx: SubgraphContext, input: CheckoutInput): Promise<OrderEntity> {
    const provider = input.paymentMethod.provider;
    if (provider !== 'MANUAL' && provider !== 'TEST_CARD') throw badInput('paymentMethod.provider must be MANUAL or TEST_CARD', 'paymentMethod.provider');
    const { orderId } = await this.carts.placeFromCart(ctx, { cartId: input.cartId, idempotencyKey: input.idempotencyKey, provider });
    const order = await this.carts.settled(ctx, orderId);
    if (order.status === 'REJECTED') {
      await this.carts.reopen(ctx, input.cartId, orderId);
      throw insufficientStock(orderId);
    }
    return order;
  }
}
