import { Column, Entity, PrimaryColumn } from 'typeorm';

export type StoreKind = 'STORE' | 'DARK_STORE' | 'WAREHOUSE' | 'RESTAURANT';

@Entity({ name: 'store' })
export class StoreEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;

  @Column({ type: 'text' })
  code!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  kind!: StoreKind;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt!: Date;
}
