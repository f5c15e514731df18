import { Column, Entity } from 'typeorm';
import { TenantRow } from '../../../../../lib/db/tenant-row.entity.js';

/** Stock on its way from one store to another: shipped (in transit at the destination), then received. */
@Entity({ name: 'transfer' })
export class TransferEntity extends TenantRow {
  @Column({ type: 'text' })
  sku!: string;

  @Column({ type: 'uuid', name: 'from_store_id' })
  fromStoreId!: string;

  @Column({ type: 'uuid', name: 'to_store_id' })
  toStoreId!: string;

  @Column({ type: 'int' })
  quantity!: number;

  @Column({ type: 'text' })
  status!: 'SHIPPED' | 'RECEIVED';

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'received_at', nullable: true })
  receivedAt!: Date | null;
}
