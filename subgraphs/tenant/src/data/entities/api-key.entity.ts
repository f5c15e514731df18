import { Column, Entity } from 'typeorm';
import { TenantRow } from '../../../../../lib/db/tenant-row.entity.js';

import type { RoleName } from '../../../../../lib/tenant/roles.js';

/** A role as the enum spells it (the role table: lib/tenant/roles.ts). */
export type { RoleName };

/** An API key of a tenant; only the SHA-256 of the key is stored. */
@Entity({ name: 'api_key' })
export class ApiKeyEntity extends TenantRow {
  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  role!: RoleName;

  @Column({ type: 'text', name: 'key_hash' })
  keyHash!: string;

  @Column({ type: 'text' })
  prefix!: string;

  /** The stores the key may act on; null: all of its tenant's. */
  @Column({ type: 'uuid', name: 'store_ids', array: true, nullable: true })
  storeIds!: string[] | null;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  /** Runs only the tenant's published persisted documents. */
  @Column({ type: 'boolean', name: 'persisted_documents_only', default: false })
  persistedDocumentsOnly!: boolean;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
