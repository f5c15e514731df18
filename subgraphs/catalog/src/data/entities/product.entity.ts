import { Column, Entity } from 'typeorm';
import { TenantRow } from '../../../../../lib/db/tenant-row.entity.js';

@Entity({ name: 'product' })
export class ProductEntity extends TenantRow {
  /** Creation order; the stable key of product pagination. */
  @Column({ type: 'bigint', generated: 'increment', insert: false })
  seq!: string;

  @Column({ type: 'text' })
  title!: string;

  /** URL name, unique per tenant; made from the title by the database when none is given. */
  @Column({ type: 'text', nullable: true })
  handle!: string | null;

  @Column({ type: 'text', nullable: true })
  brand!: string | null;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  /** Shown to the storefront and partners; unpublished products are drafts for staff. */
  @Column({ type: 'boolean', default: true })
  published!: boolean;

  /** The product's id in the system that owns it (`shopify:<id>`, `feed:<handle>`); null when made here. */
  @Column({ type: 'text', name: 'external_ref', nullable: true })
  externalRef!: string | null;

  @Column({ type: 'uuid', name: 'category_id', nullable: true })
  categoryId!: string | null;

  /** Its latest version's number (0: unchanged since before versions were kept); set by the database on every change. */
  @Column({ type: 'int', insert: false, update: false, default: 0 })
  version!: number;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'updated_at', default: () => 'now()' })
  updatedAt!: Date;

  /** Its options and their values ("Size": S, M, L), in order. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  options!: ProductOptionValue[];

  /** Its images and videos, in order. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  media!: MediaValue[];

  /** When it was archived (hidden from shoppers, kept for staff and history); null: live. */
  @Column({ type: 'timestamptz', name: 'archived_at', nullable: true })
  archivedAt!: Date | null;
}

export interface ProductOptionValue {
  name: string;
  values: string[];
}

export interface MediaValue {
  url: string;
  alt: string | null;
  kind: 'IMAGE' | 'VIDEO';
}
