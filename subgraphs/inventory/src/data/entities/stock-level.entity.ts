import { Column, Entity } from 'typeorm';
import { SkuStoreRow } from '../../../../../lib/db/tenant-row.entity.js';

/** Projection of the ledger per (sku, store), maintained in the movement's transaction. */
@Entity({ name: 'stock_level' })
export class StockLevelEntity extends SkuStoreRow {
  @Column({ type: 'int', name: 'on_hand' })
  onHand!: number;

  @Column({ type: 'int' })
  reserved!: number;

  /** Units shipped to this store and not yet received. */
  @Column({ type: 'int', name: 'in_transit', default: 0 })
  inTransit!: number;

  @Column({ type: 'int' })
  version!: number;

  @Column({ type: 'timestamptz', name: 'updated_at', nullable: true })
  updatedAt!: Date | null;
}
