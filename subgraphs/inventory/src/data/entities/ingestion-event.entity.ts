import { Column, Entity } from 'typeorm';
import { TenantRow } from '../../../../../lib/db/tenant-row.entity.js';
import type { WebhookSourceName } from '../../../../../lib/webhooks/registry.js';

/** A webhook source of the registry (lib/webhooks/registry.ts). */
export type IngestionSource = WebhookSourceName;
export type IngestionStatus = 'RECEIVED' | 'APPLIED' | 'NEEDS_REVIEW' | 'RETRYING' | 'DEAD_LETTER';

/** One accepted webhook delivery: its raw body as signed, and how far its processing got. */
@Entity({ name: 'ingestion_event' })
export class IngestionEventEntity extends TenantRow {
  /** Arrival order (cursor of `ingestionEvents`). */
  @Column({ type: 'bigint', insert: false, update: false })
  seq!: string;

  @Column({ type: 'text' })
  source!: IngestionSource;

  /** `inventory_levels/update`, `products/update`, `stock.delta`, `stock.level`. */
  @Column({ type: 'text' })
  topic!: string;

  /** The source's event id (Shopify's webhook id, the event_id of POS/ERP) or a fingerprint of the body. */
  @Column({ type: 'text', name: 'external_id' })
  externalId!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ type: 'text', name: 'currency_code', nullable: true })
  currencyCode!: string | null;

  @Column({ type: 'text' })
  status!: IngestionStatus;

  @Column({ type: 'int' })
  attempts!: number;

  /** Why it needs review, or why the last attempt failed. */
  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;

  /** What an applied delivery left unchanged and why (an older level than one already applied). */
  @Column({ type: 'text', nullable: true })
  note!: string | null;

  /** When the change happened at the source (body time, else X-Shopify-Triggered-At); null for deliveries stored before it was kept. */
  @Column({ type: 'timestamptz', name: 'source_time', nullable: true })
  sourceTime!: Date | null;

  @Column({ type: 'timestamptz', name: 'received_at' })
  receivedAt!: Date;

  @Column({ type: 'timestamptz', name: 'next_attempt_at', nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'applied_at', nullable: true })
  appliedAt!: Date | null;
}
