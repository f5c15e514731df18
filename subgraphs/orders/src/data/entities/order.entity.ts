import { Column, Entity } from 'typeorm';
import { TenantRow } from '../../../../../lib/db/tenant-row.entity.js';
import type { SignedQuote } from '../../../../../lib/pricing/quote-token.js';

export type OrderStatus = 'PLACED' | 'RESERVED' | 'AUTHORIZED' | 'PAID' | 'PARTIALLY_FULFILLED' | 'READY_FOR_PICKUP' | 'FULFILLED' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'REJECTED' | 'CANCELLED';

@Entity({ name: 'order' })
export class OrderEntity extends TenantRow {
  @Column({ type: 'bigint', generated: 'increment', insert: false })
  seq!: string;

  /** Sequential within the tenant. */
  @Column({ type: 'int' })
  number!: number;

  @Column({ type: 'uuid', name: 'store_id' })
  storeId!: string;

  @Column({ type: 'text' })
  status!: OrderStatus;

  @Column({ type: 'numeric', precision: 19, scale: 4, name: 'total_amount' })
  totalAmount!: string;

  @Column({ type: 'char', length: 3, name: 'currency_code' })
  currencyCode!: string;

  /** The workflow version the order started on, and keeps. */
  @Column({ type: 'int', name: 'workflow_version', default: 1 })
  workflowVersion!: number;

  /** Increases by one with every transition. */
  @Column({ type: 'int', default: 1 })
  version!: number;

  /** The pricing quote the order was charged from, if any (immutable). */
  @Column({ type: 'uuid', name: 'quote_id', nullable: true })
  quoteId!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  quote!: SignedQuote | null;

  /** The customer who checked out (null: staff or anonymous). */
  @Column({ type: 'uuid', name: 'customer_id', nullable: true })
  customerId!: string | null;

  @Column({ type: 'text', nullable: true })
  email!: string | null;

  @Column({ type: 'jsonb', name: 'shipping_address', nullable: true })
  shippingAddress!: Record<string, string | null> | null;

  /** The shipping method as it was chosen and priced at checkout. */
  @Column({ type: 'jsonb', nullable: true })
  shipping!: { methodId: string; name: string; kind: string; amount: string } | null;

  @Column({ type: 'text', name: 'cart_id', nullable: true })
  cartId!: string | null;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt!: Date;
}
