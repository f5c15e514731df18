import { Column, Entity } from 'typeorm';
import { TenantRow } from '../../../../../lib/db/tenant-row.entity.js';

@Entity({ name: 'category' })
export class CategoryEntity extends TenantRow {
  @Column({ type: 'text' })
  name!: string;

  /** The category it is filed under; null for a root. */
  @Column({ type: 'uuid', name: 'parent_id', nullable: true })
  parentId!: string | null;

  /** Root → itself, set by the database when the category is created. */
  @Column({ type: 'uuid', array: true, name: 'path_ids', nullable: true, insert: false, update: false })
  pathIds!: string[] | null;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  /** When it was archived (hidden from shoppers); null: live. */
  @Column({ type: 'timestamptz', name: 'archived_at', nullable: true })
  archivedAt!: Date | null;
}
