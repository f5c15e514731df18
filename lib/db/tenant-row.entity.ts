import { Column, PrimaryColumn } from 'typeorm';

/** What every tenant-owned row with its own id has: the id (UUID) and its tenant (row-level security's key). */
export abstract class TenantRow {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;
}
