import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { MediaValue } from './product.entity.js';

@Entity({ name: 'variant' })
export class VariantEntity {
  @PrimaryColumn({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;

  @PrimaryColumn({ type: 'text' })
  sku!: string;

  @Column({ type: 'uuid', name: 'product_id' })
  productId!: string;

  @Column({ type: 'text' })
  title!: string;

  @Column({ type: 'text', nullable: true })
  barcode!: string | null;

  @Column({ type: 'int' })
  position!: number;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  /** Its value of each of its product's options ("Size": "L"). */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  options!: { name: string; value: string }[];

  @Column({ type: 'jsonb', default: () => "'[]'" })
  media!: MediaValue[];
}
