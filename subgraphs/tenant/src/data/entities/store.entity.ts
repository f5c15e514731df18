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

  /** IANA time zone; menus' availability windows are local times in it. */
  @Column({ type: 'text', name: 'time_zone', default: 'UTC' })
  timeZone!: string;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt!: Date;
}
