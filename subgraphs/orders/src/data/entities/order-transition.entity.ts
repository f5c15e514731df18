import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { OrderStatus } from './order.entity.js';

/** One step of an order's life: from, to, the event that caused it, and when. Append-only. */
@Entity({ name: 'order_transition' })
export class OrderTransitionEntity {
  @PrimaryColumn({ type: 'uuid', name: 'order_id' })
  orderId!: string;

  @PrimaryColumn({ type: 'int' })
  seq!: number;

  @Column({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;

  @Column({ type: 'text', name: 'from_status', nullable: true })
  fromStatus!: OrderStatus | null;

  @Column({ type: 'text', name: 'to_status' })
  toStatus!: OrderStatus;

  @Column({ type: 'text' })
  event!: string;

  @Column({ type: 'text', nullable: true })
  cause!: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;
}
