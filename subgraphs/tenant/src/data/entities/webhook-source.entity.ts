import { Column, Entity } from 'typeorm';
import { TenantRow } from '../../../../../lib/db/tenant-row.entity.js';
import { WEBHOOK_SOURCE_NAMES, type WebhookSourceName } from '../../../../../lib/webhooks/registry.js';

/** The webhook sources of the registry (lib/webhooks/registry.ts). */
export const WEBHOOK_SOURCES = WEBHOOK_SOURCE_NAMES;
export type { WebhookSourceName };

/**
 * A merchant system allowed to push changes by webhook: the shared secret its requests are
 * signed with (kept to verify HMACs, so stored as given, under row-level security like every
 * tenant row; never returned by the public API) and the currency of the prices it sends.
 */
@Entity({ name: 'webhook_source' })
export class WebhookSourceEntity extends TenantRow {
  @Column({ type: 'text' })
  source!: WebhookSourceName;

  @Column({ type: 'text' })
  secret!: string;

  @Column({ type: 'text', name: 'currency_code' })
  currencyCode!: string;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
