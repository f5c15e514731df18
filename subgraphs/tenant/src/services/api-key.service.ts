import { randomBytes, randomUUID } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import { inSystemTransaction, inTenantTransaction } from '../../../../lib/db/data-source.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import { KEY_ROLE_NAMES, ROLES, roleOf } from '../../../../lib/tenant/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { ApiKeyEntity, type RoleName } from '../data/entities/api-key.entity.js';
import { StoreEntity } from '../data/entities/store.entity.js';
import { TenantEntity } from '../data/entities/tenant.entity.js';
import { hashApiKey } from '../../../../lib/tenant/api-key-hash.js';

const emit = outboxOf('tenant');
const KEY_ROLES: readonly RoleName[] = KEY_ROLE_NAMES;

/** API keys: created per tenant with a role, stored hashed, shown once, revocable. */
export class ApiKeyService extends TenantScopedService {
  /** Platform names the tenant; an admin acts on its own. */
  private targetTenant(ctx: SubgraphContext, tenantId: string | null | undefined): string {
    const role = requireRole(ctx, 'platform', 'admin');
    if (role === 'platform') {
      if (!tenantId) throw badInput('tenantId is required for platform', 'tenantId');
      return tenantId;
    }
    if (tenantId && tenantId !== ctx.tenantId) throw appError('FORBIDDEN', 'An admin acts on its own tenant only.');
    return ctx.tenantId!;
  }

  async create(
    ctx: SubgraphContext,
    input: { name: string; role: RoleName; tenantId?: string | null; storeIds?: readonly string[] | null; persistedDocumentsOnly?: boolean | null },
  ): Promise<{ key: string; apiKey: ApiKeyEntity }> {
    const tenantId = this.targetTenant(ctx, input.tenantId);
    if (!input.name.trim()) throw badInput('name must not be empty', 'name');
    if (!KEY_ROLES.includes(input.role)) throw badInput(`an API key's role is one of ${KEY_ROLES.join(', ')}`, 'role');
    if (input.storeIds && !ROLES[roleOf(input.role)!].storeBound) throw badInput('only a POS key is bound to stores', 'storeIds');
    if (input.storeIds?.length === 0) throw badInput('storeIds, when given, names at least one store', 'storeIds');
    const key = `ck_${randomBytes(24).toString('base64url')}`;
    const apiKey = await inTenantTransaction(this.dataSource, tenantId, async (m) => {
      if (!isUuid(tenantId) || !(await m.getRepository(TenantEntity).existsBy({ id: tenantId }))) throw notFound(`no tenant ${tenantId}`);
      const storeIds = input.storeIds ? [...new Set(input.storeIds)] : null;
      if (storeIds) {
        const found = await m.getRepository(StoreEntity).countBy({ tenantId, id: In(storeIds.filter(isUuid)) });
        if (found !== storeIds.length) throw notFound('storeIds names a store this tenant does not have');
      }
      const row = m.getRepository(ApiKeyEntity).create({
        id: randomUUID(),
        tenantId,
        name: input.name.trim(),
        role: input.role,
        keyHash: hashApiKey(key),
        prefix: key.slice(0, 10),
        storeIds,
        persistedDocumentsOnly: input.persistedDocumentsOnly ?? false,
        revokedAt: null,
      });
      await m.getRepository(ApiKeyEntity).insert(row);
      await emit(m, tenantId, 'tenant.api-key.created', { id: row.id, role: row.role });
      return m.getRepository(ApiKeyEntity).findOneByOrFail({ id: row.id });
    });
    await this.afterCommit();
    return { key, apiKey };
  }

  async revoke(ctx: SubgraphContext, id: string): Promise<ApiKeyEntity> {
    const role = requireRole(ctx, 'platform', 'admin');
    if (!isUuid(id)) throw notFound(`no API key ${id}`);
    const revoke = async (m: EntityManager) => {
      const repo = m.getRepository(ApiKeyEntity);
      const row = await repo.findOneBy(role === 'platform' ? { id } : { id, tenantId: ctx.tenantId! });
      if (!row) throw notFound(`no API key ${id}`);
      if (!row.revokedAt) {
        row.revokedAt = new Date();
        await repo.update({ id }, { revokedAt: row.revokedAt });
        await emit(m, row.tenantId, 'tenant.api-key.revoked', { id, keyHash: row.keyHash });
      }
      return row;
    };
    const key = role === 'platform' ? await inSystemTransaction(this.dataSource, revoke) : await inTenantTransaction(this.dataSource, ctx.tenantId!, revoke);
    await this.afterCommit();
    return key;
  }

  list(ctx: SubgraphContext): Promise<ApiKeyEntity[]> {
    requireRole(ctx, 'admin');
    return this.tx(ctx, (m, tenantId) => m.getRepository(ApiKeyEntity).find({ where: { tenantId }, order: { createdAt: 'DESC' } }));
  }

  /** The gateway's lookup: a live key's tenant and role, by the key's hash. */
  async authenticate(ctx: SubgraphContext, keyHash: string) {
    requireRole(ctx, 'gateway');
    return inSystemTransaction(this.dataSource, async (m) => {
      const key = await m.getRepository(ApiKeyEntity).findOneBy({ keyHash });
      if (!key || key.revokedAt) return null;
      const tenant = await m.getRepository(TenantEntity).findOneByOrFail({ id: key.tenantId });
      return { apiKeyId: key.id, role: key.role, storeIds: key.storeIds, persistedDocumentsOnly: key.persistedDocumentsOnly, tenant };
    });
  }
}
