import { Column, Entity } from 'typeorm';
import { TenantRow } from '../../../../../lib/db/tenant-row.entity.js';
import type { FlagRule, FlagVariant } from '../../../../../lib/flags/definition.js';

/** A feature flag of a tenant (docs/flags.md): its variants and rules as JSON, under row-level security. */
@Entity({ name: 'feature_flag' })
export class FeatureFlagEntity extends TenantRow {
  @Column({ type: 'text' })
  key!: string;

  @Column({ type: 'boolean' })
  enabled!: boolean;

  @Column({ type: 'jsonb' })
  variants!: FlagVariant[];

  @Column({ type: 'text', name: 'default_variant' })
  defaultVariant!: string;

  @Column({ type: 'jsonb' })
  rules!: FlagRule[];

  /** The tenant's flag revision this flag was last set at. */
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  revision!: number;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
