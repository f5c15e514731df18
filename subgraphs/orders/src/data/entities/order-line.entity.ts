import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'order_line' })
export class OrderLineEntity {
  @PrimaryColumn({ type: 'uuid', name: 'order_id' })
  orderId!: string;

  @PrimaryColumn({ type: 'int', name: 'line_no' })
  lineNo!: number;

  @Column({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;

  @Column({ type: 'text' })
  sku!: string;

  @Column({ type: 'int' })
  quantity!: number;

  /** Unit price when the order was placed. */
  @Column({ type: 'numeric', precision: 19, scale: 4, name: 'unit_amount' })
  unitAmount!: string;

  @Column({ type: 'char', length: 3, name: 'currency_code' })
  currencyCode!: string;

  /** The modifiers chosen (menus), each with its unit price when the order was placed; included in `unitAmount`. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  modifiers!: { sku: string; name: string; amount: string }[];

  /** Variant title when the order was placed. */
  @Column({ type: 'text', nullable: true })
  title!: string | null;
}
