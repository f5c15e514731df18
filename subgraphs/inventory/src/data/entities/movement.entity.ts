import { Column, Entity } from 'typeorm';
import { TenantRow } from '../../../../../lib/db/tenant-row.entity.js';

export type MovementKind = 'RECEIPT' | 'ADJUSTMENT' | 'SALE' | 'RESERVATION' | 'RELEASE' | 'TRANSFER_OUT' | 'TRANSFER_IN' | 'RETURN';

/** One immutable double-entry ledger record; the database refuses UPDATE and DELETE. */
@Entity({ name: 'movement' })
export class MovementEntity extends TenantRow {
  @Column({ type: 'bigint', generated: 'increment', insert: false })
  seq!: string;

  @Column({ type: 'text' })
  sku!: string;

  @Column({ type: 'uuid', name: 'store_id' })
  storeId!: string;

  @Column({ type: 'text' })
  kind!: MovementKind;

  @Column({ type: 'int' })
  quantity!: number;

  @Column({ type: 'text', name: 'debit_account' })
  debitAccount!: string;

  @Column({ type: 'text', name: 'credit_account' })
  creditAccount!: string;

  @Column({ type: 'text', nullable: true })
  reference!: string | null;

  @Column({ type: 'uuid', name: 'reservation_id', nullable: true })
  reservationId!: string | null;

  @Column({ type: 'uuid', name: 'source_event_id', nullable: true })
  sourceEventId!: string | null;

  @Column({ type: 'timestamptz', name: 'occurred_at', default: () => 'now()' })
  occurredAt!: Date;
}
