import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One row per event, written in the same transaction as the change it records. */
@Entity({ name: 'outbox' })
@Index('outbox_unpublished', ['position'], { where: 'published_at IS NULL' })
export class OutboxEvent {
  @PrimaryColumn({ type: 'uuid', name: 'event_id' })
  eventId!: string;

  /** Publication order within this service. */
  @Column({ type: 'bigint', generated: 'increment', name: 'position' })
  position!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'uuid', name: 'tenant_id' })
  tenantId!: string;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  @Column({ type: 'int', default: 1 })
  version!: number;

  @Column({ type: 'timestamptz', name: 'occurred_at' })
  occurredAt!: Date;

  @Column({ type: 'timestamptz', name: 'published_at', nullable: true })
  publishedAt!: Date | null;
}
