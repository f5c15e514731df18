import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Stock on its way from one store to another: shipped (in transit at the destination), then received. */
@Entity({ name: 'transfer' })
export class TransferEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;

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
