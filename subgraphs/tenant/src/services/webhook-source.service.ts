import { randomUUID } from 'node:crypto';
import { inSystemTransaction } from '../../../../lib/db/data-source.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { badInput } from '../../../../lib/errors.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { parseMoney } from '../../../../lib/money.js';
import { TenantEntity } from '../data/entities/tenant.entity.js';
import { WEBHOOK_SOURCES, WebhookSourceEntity, type WebhookSourceName } from '../data/entities/webhook-source.entity.js';

const emit = outboxOf('tenant');
const MIN_SECRET_LENGTH = 16;

/** Which merchant systems may push to a tenant by webhook, and the secrets they sign with. */
export class WebhookSourceService extends TenantScopedService {
  /** Sets (or rotates) a source's secret (admin). The secret is never returned. */
  async configure(
    ctx: SubgraphContext,
    input: { source: WebhookSourceName; secret: string; currencyCode?: string | null },
  ): Promise<WebhookSourceEntity> {
    requireRole(ctx, 'admin');
    if (!WEBHOOK_SOURCES.includes(input.source)) throw badInput(`source must be one of ${WEBHOOK_SOURCES.join(', ')}`, 'source');
    if (input.secret.length < MIN_SECRET_LENGTH) throw badInput(`secret must be at least ${MIN_SECRET_LENGTH} characters`, 'secret');
    const currencyCode = parseMoney('0', input.currencyCode ?? 'USD').currencyCode;
    const row = await this.tx(ctx, async (m, tenantId) => {
      const repo = m.getRepository(WebhookSourceEntity);
      const existing = await repo.findOneBy({ tenantId, source: input.source });
      const next = repo.create({
        id: existing?.id ?? randomUUID(),
        tenantId,
        source: input.source,
        secret: input.secret,
        currencyCode,
        updatedAt: new Date(),
      });
      await repo.save(next);
      // No secret in the event: gateways only drop what they cached.
      await emit(m, tenantId, 'tenant.webhook-source.configured', { source: next.source, currencyCode });
      return next;
    });
    await this.afterCommit();
    return row;
  }

  list(ctx: SubgraphContext): Promise<WebhookSourceEntity[]> {
    requireRole(ctx, 'admin');
    return this.tx(ctx, (m, tenantId) => m.getRepository(WebhookSourceEntity).find({ where: { tenantId }, order: { source: 'ASC' } }));
  }

  /** The gateway's lookup before it verifies a webhook: the tenant (by slug) and that source's secret. */
  async secretFor(ctx: SubgraphContext, tenantSlug: string, source: string) {
    requireRole(ctx, 'gateway');
    if (!WEBHOOK_SOURCES.includes(source as WebhookSourceName)) return null;
    return inSystemTransaction(this.dataSource, async (m) => {
      const tenant = await m.getRepository(TenantEntity).findOneBy({ slug: tenantSlug.toLowerCase() });
      if (!tenant) return null;
      const row = await m.getRepository(WebhookSourceEntity).findOneBy({ tenantId: tenant.id, source: source as WebhookSourceName });
      return row ? { tenantId: tenant.id, source: row.source, secret: row.secret, currencyCode: row.currencyCode } : null;
    });
  }
}
