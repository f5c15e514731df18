import { Column, Entity } from 'typeorm';
import { SkuStoreRow } from '../../../../../lib/db/tenant-row.entity.js';

/** The price of one variant in one store. */
@Entity({ name: 'price' })
export class PriceEntity extends SkuStoreRow {
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
