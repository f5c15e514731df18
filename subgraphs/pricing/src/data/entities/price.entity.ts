import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The price of one variant in one store. */
@Entity({ name: 'price' })
export class PriceEntity {
  @PrimaryColumn({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;

  @PrimaryColumn({ type: 'text' })
  sku!: string;

  @PrimaryColumn({ type: 'uuid', name: 'store_id' })
  storeId!: string;

  /** Decimal string, exact (numeric). */
  @Column({ type: 'numeric', precision: 19, scale: 4 })
  amount!: string;

  @Column({ type: 'char', length: 3, name: 'currency_code' })
  currencyCode!: string;

  @Column({ type: 'int' })
  version!: number;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
