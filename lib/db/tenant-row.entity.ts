import { Column, PrimaryColumn } from 'typeorm';

/** What every tenant-owned row with its own id has: the id (UUID) and its tenant (row-level security's key). */
export abstract class TenantRow {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;
}

/** What a row kept per (sku, store) of a tenant has: its three-part key (inventory's stock level, pricing's price). */
export abstract class SkuStoreRow {
  @PrimaryColumn({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;

  @PrimaryColumn({ type: 'text' })
  sku!: string;

  @PrimaryColumn({ type: 'uuid', name: 'store_id' })
  storeId!: string;
}
