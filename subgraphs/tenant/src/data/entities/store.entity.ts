import { Column, Entity } from 'typeorm';
import { TenantRow } from '../../../../../lib/db/tenant-row.entity.js';

export type StoreKind = 'STORE' | 'DARK_STORE' | 'WAREHOUSE' | 'RESTAURANT';

@Entity({ name: 'store' })
export class StoreEntity extends TenantRow {
  @Column({ type: 'text' })
  code!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  kind!: StoreKind;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt!: Date;
}
