import { randomUUID } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import { inTenantTransaction } from '../../../../lib/db/data-source.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { badInput } from '../../../../lib/errors.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { MAX_FLAGS_PER_TENANT, parseFlagInput, type FlagDefinition, type FlagInput, type FlagSnapshot } from '../../../../lib/flags/definition.js';
import { flagContext, type Flags } from '../../../../lib/flags/provider.js';
import { requireTenant } from '../../../../lib/graphql/context.js';
import { requireRole, requireStoreAccess } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { FeatureFlagEntity } from '../data/entities/feature-flag.entity.js';
import { StoreEntity } from '../data/entities/store.entity.js';

const emit = outboxOf('tenant');

/** A flag as the API shows it. */
export type FeatureFlagView = FlagDefinition & { revision: number };

/** What `featureFlagEvaluation` answers: what the caller's code gets, and why. */
export interface FlagEvaluationView {
  key: string;
  value: string | null;
  variant: string | null;
  reason: string;
  errorCode: string | null;
  ruleIndex: number | null;
  bucket: number | null;
  subject: string | null;
}

const toDefinition = (row: FeatureFlagEntity): FlagDefinition => ({
  key: row.key,
  enabled: row.enabled,
  variants: row.variants,
  defaultVariant: row.defaultVariant,
  rules: row.rules,
  updatedAt: row.updatedAt.toISOString(),
});

/**
 * The tenant's feature flags (docs/flags.md): set and deleted by admins, each change one step of
 * the tenant's flag revision and one `tenant.feature-flag.changed` event in the same transaction,
 * which every process's cache and every subgraph's copy follow.
 */
export class FeatureFlagService extends TenantScopedService {
  /** Set once the service's flags exist (they read through `snapshot`). */
  flags?: Flags;

  /** Creates or replaces a flag (admin); BAD_USER_INPUT for anything past docs/limits.md or a store of no one. */
  async set(ctx: SubgraphContext, input: FlagInput): Promise<FeatureFlagView> {
    requireRole(ctx, 'admin');
    const definition = parseFlagInput(input);
    const view = await this.tx(ctx, async (m, tenantId) => {
      // First: the revision's row lock puts concurrent changes of the tenant's flags in one order.
      const revision = await nextRevision(m, tenantId);
      const storeIds = [...new Set(definition.rules.flatMap((rule) => rule.storeIds))];
      if (storeIds.length > 0) {
        const known = new Set((await m.getRepository(StoreEntity).findBy({ tenantId, id: In(storeIds) })).map((s) => s.id));
        const unknown = storeIds.find((id) => !known.has(id));
        if (unknown) throw badInput(`no store ${unknown}`, 'rules.storeIds');
      }
      const repo = m.getRepository(FeatureFlagEntity);
      const existing = await repo.findOneBy({ tenantId, key: definition.key });
      if (!existing && (await repo.countBy({ tenantId })) >= MAX_FLAGS_PER_TENANT) {
        throw badInput(`a tenant has at most ${MAX_FLAGS_PER_TENANT} flags: delete one first`, 'key');
      }
      await repo.save(repo.create({
        id: existing?.id ?? randomUUID(),
        tenantId,
        key: definition.key,
        enabled: definition.enabled,
        variants: definition.variants,
        defaultVariant: definition.defaultVariant,
        rules: definition.rules,
        revision,
        updatedAt: new Date(definition.updatedAt),
      }));
      await emit(m, tenantId, 'tenant.feature-flag.changed', { key: definition.key, revision, flag: definition });
      return { ...definition, revision };
    });
    await this.afterCommit();
    // This process reads its own writes at once; the others learn it from the event.
    this.flags?.cache.changed({ tenantId: requireTenant(ctx), key: view.key, revision: view.revision, flag: definition });
    return view;
  }

  /** Deletes a flag (admin): true when there was one (and the change is announced), false otherwise. */
  async delete(ctx: SubgraphContext, key: string): Promise<boolean> {
    requireRole(ctx, 'admin');
    const revision = await this.tx(ctx, async (m, tenantId) => {
      const deleted: unknown[] = await m.query(`DELETE FROM "${m.connection.driver.schema}"."feature_flag" WHERE tenant_id = $1 AND key = $2 RETURNING id`, [tenantId, key]);
      // TypeORM's raw DELETE answers [rows, count].
      const rows = Array.isArray(deleted[0]) ? (deleted[0] as unknown[]) : deleted;
      if (rows.length === 0) return null;
      const next = await nextRevision(m, tenantId);
      await emit(m, tenantId, 'tenant.feature-flag.changed', { key, revision: next, flag: null });
      return next;
    });
    if (revision === null) return false;
    await this.afterCommit();
    this.flags?.cache.changed({ tenantId: requireTenant(ctx), key, revision, flag: null });
    return true;
  }

  /** The tenant's flags by key (admin). */
  list(ctx: SubgraphContext): Promise<FeatureFlagView[]> {
    requireRole(ctx, 'admin');
    return this.tx(ctx, async (m, tenantId) =>
      (await m.getRepository(FeatureFlagEntity).find({ where: { tenantId }, order: { key: 'ASC' } })).map((row) => ({ ...toDefinition(row), revision: row.revision })),
    );
  }

  /** What the caller's code gets for `key` in `storeId` (default subject: the signed-in customer, else the store). */
  async evaluate(ctx: SubgraphContext, args: { key: string; storeId?: string | null; subject?: string | null }): Promise<FlagEvaluationView> {
    requireTenant(ctx);
    if (args.storeId) requireStoreAccess(ctx, args.storeId);
    const targetingKey = args.subject ?? ctx.customerId ?? args.storeId ?? null;
    const details = await this.flags!.client.getStringDetails(args.key, '', flagContext(ctx, { storeId: args.storeId, targetingKey }));
    const number = (value: unknown) => (typeof value === 'number' ? value : null);
    return {
      key: args.key,
      value: details.variant === undefined ? null : details.value,
      variant: details.variant ?? null,
      reason: details.reason ?? 'UNKNOWN',
      errorCode: details.errorCode ?? null,
      ruleIndex: number(details.flagMetadata.ruleIndex),
      bucket: number(details.flagMetadata.bucket),
      subject: targetingKey,
    };
  }

  /** A tenant's flags and revision, for this service's cache. */
  snapshot(tenantId: string): Promise<FlagSnapshot> {
    return inTenantTransaction(this.dataSource, tenantId, async (m) => {
      const rows = await m.getRepository(FeatureFlagEntity).findBy({ tenantId });
      const [counter] = (await m.query(`SELECT revision FROM "${m.connection.driver.schema}"."feature_flag_revision" WHERE tenant_id = $1`, [tenantId])) as { revision: string }[];
      return { revision: Number(counter?.revision ?? 0), flags: rows.map(toDefinition) };
    });
  }

  /** The gateway's read of the tenant's flags (its cache), as JSON; not part of the public API. */
  async gatewaySnapshot(ctx: SubgraphContext): Promise<string> {
    requireRole(ctx, 'gateway');
    return JSON.stringify(await this.snapshot(requireTenant(ctx)));
  }
}

/** Moves the tenant's flag revision on by one (the row lock orders concurrent changes) and returns it. */
async function nextRevision(m: EntityManager, tenantId: string): Promise<number> {
  const [{ revision }] = (await m.query(
    `INSERT INTO "${m.connection.driver.schema}"."feature_flag_revision" (tenant_id, revision) VALUES ($1, 1)
     ON CONFLICT (tenant_id) DO UPDATE SET revision = feature_flag_revision.revision + 1 RETURNING revision`,
    [tenantId],
  )) as [{ revision: string }];
  return Number(revision);
}
