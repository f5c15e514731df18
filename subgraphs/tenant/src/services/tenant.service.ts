import { randomUUID } from 'node:crypto';
import { In } from 'typeorm';
import { inSystemTransaction, inTenantTransaction } from '../../../../lib/db/data-source.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { isUuid, requireTenant } from '../../../../lib/graphql/context.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { isTimeZone } from '../../../../lib/menus/availability.js';
import { canonicalLocale, MAX_LOCALE_LENGTH } from '../../../../lib/search-language.js';
import { StoreEntity, type StoreKind } from '../data/entities/store.entity.js';
import { TenantEntity } from '../data/entities/tenant.entity.js';

const emit = outboxOf('tenant');
const STORE_KINDS: readonly StoreKind[] = ['STORE', 'DARK_STORE', 'WAREHOUSE', 'RESTAURANT'];
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const HOST = /^[a-z0-9.-]{1,253}$/;

export interface CreateTenantInput {
  slug: string;
  name: string;
  domains?: string[] | null;
  /** BCP 47; none when absent. */
  locale?: string | null;
  /** Fixed id (seed data); generated when absent. */
  id?: string;
}

export interface CreateStoreInput {
  code: string;
  name: string;
  kind: StoreKind;
  id?: string;
  timeZone?: string | null;
}

/** Tenants, their domains and stores. */
export class TenantService extends TenantScopedService {
  async createTenant(input: CreateTenantInput): Promise<TenantEntity> {
    if (!SLUG.test(input.slug)) throw badInput('slug must be lower-case letters, digits and dashes', 'slug');
    if (!input.name.trim()) throw badInput('name must not be empty', 'name');
    const domains = (input.domains ?? []).map((d) => d.toLowerCase());
    if (domains.some((d) => !HOST.test(d))) throw badInput('domains must be host names', 'domains');
    const locale = input.locale == null ? null : checkedLocale(input.locale);
    const tenant = await inSystemTransaction(this.dataSource, async (m) => {
      const taken = await m.getRepository(TenantEntity).findOne({ where: { slug: input.slug } });
      if (taken) throw badInput(`slug "${input.slug}" is taken`, 'slug');
      const row = m.getRepository(TenantEntity).create({
        id: input.id ?? randomUUID(),
        slug: input.slug,
        name: input.name.trim(),
        domains,
        locale,
      });
      await m.getRepository(TenantEntity).insert(row);
      await emit(m, row.id, 'tenant.tenant.created', { id: row.id, slug: row.slug, name: row.name, domains });
      if (locale) await emit(m, row.id, 'tenant.tenant.locale-set', { locale });
      return row;
    });
    await this.afterCommit();
    return tenant;
  }

  async createStore(tenantId: string, input: CreateStoreInput): Promise<StoreEntity> {
    if (!input.code.trim()) throw badInput('code must not be empty', 'code');
    if (!input.name.trim()) throw badInput('name must not be empty', 'name');
    if (!STORE_KINDS.includes(input.kind)) throw badInput(`kind must be one of ${STORE_KINDS.join(', ')}`, 'kind');
    const timeZone = checkedTimeZone(input.timeZone ?? 'UTC');
    const store = await inTenantTransaction(this.dataSource, tenantId, async (m) => {
      if (!(await m.getRepository(TenantEntity).existsBy({ id: tenantId }))) throw notFound('no such tenant');
      const repo = m.getRepository(StoreEntity);
      if (await repo.existsBy({ tenantId, code: input.code })) throw badInput(`store code "${input.code}" is taken`, 'code');
      const row = repo.create({ id: input.id ?? randomUUID(), tenantId, code: input.code, name: input.name, kind: input.kind, timeZone });
      await repo.insert(row);
      await emit(m, tenantId, 'tenant.store.created', { id: row.id, code: row.code, name: row.name, kind: row.kind, timeZone });
      return row;
    });
    await this.afterCommit();
    return store;
  }

  /** `createTenant` through the API: platform only. */
  createTenantAs(ctx: SubgraphContext, input: CreateTenantInput): Promise<TenantEntity> {
    requireRole(ctx, 'platform');
    return this.createTenant({ slug: input.slug, name: input.name, domains: input.domains ?? [], locale: input.locale ?? null });
  }

  /** `createStore` through the API: platform for any tenant, an admin for its own. */
  createStoreAs(ctx: SubgraphContext, input: CreateStoreInput & { tenantId?: string | null }): Promise<StoreEntity> {
    const role = requireRole(ctx, 'platform', 'admin');
    const tenantId = role === 'platform' ? input.tenantId : (input.tenantId ?? ctx.tenantId);
    if (!tenantId) throw badInput('tenantId is required for platform', 'tenantId');
    if (role === 'admin' && tenantId !== ctx.tenantId) throw appError('FORBIDDEN', 'An admin acts on its own tenant only.');
    if (!isUuid(tenantId)) throw notFound(`no tenant ${tenantId}`);
    return this.createStore(tenantId, { code: input.code, name: input.name, kind: input.kind, timeZone: input.timeZone ?? null });
  }

  /** Sets a store's time zone (admin of its tenant); catalog and orders learn it by `tenant.store.time-zone-set`. */
  async setStoreTimeZone(ctx: SubgraphContext, storeId: string, timeZone: string): Promise<StoreEntity> {
    requireRole(ctx, 'admin');
    const tenantId = requireTenant(ctx);
    const zone = checkedTimeZone(timeZone);
    const store = await inTenantTransaction(this.dataSource, tenantId, async (m) => {
      const repo = m.getRepository(StoreEntity);
      const row = isUuid(storeId) ? await repo.findOne({ where: { tenantId, id: storeId }, lock: { mode: 'pessimistic_write' } }) : null;
      if (!row) throw notFound(`no store ${storeId}`);
      if (row.timeZone === zone) return row;
      row.timeZone = zone;
      await repo.update({ tenantId, id: row.id }, { timeZone: zone });
      await emit(m, tenantId, 'tenant.store.time-zone-set', { id: row.id, timeZone: zone });
      return row;
    });
    await this.afterCommit();
    return store;
  }

  /** Sets the tenant's locale (admin); the catalog learns it by `tenant.tenant.locale-set` and re-indexes its search. */
  async setLocale(ctx: SubgraphContext, locale: string): Promise<TenantEntity> {
    requireRole(ctx, 'admin');
    const tenantId = requireTenant(ctx);
    const canonical = checkedLocale(locale);
    const tenant = await inTenantTransaction(this.dataSource, tenantId, async (m) => {
      const repo = m.getRepository(TenantEntity);
      const row = await repo.findOne({ where: { id: tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw appError('UNAUTHENTICATED', 'unknown tenant');
      if (row.locale === canonical) return row;
      row.locale = canonical;
      await repo.update({ id: tenantId }, { locale: canonical });
      await emit(m, tenantId, 'tenant.tenant.locale-set', { locale: canonical });
      return row;
    });
    await this.afterCommit();
    return tenant;
  }

  current(ctx: SubgraphContext): Promise<TenantEntity> {
    const tenantId = requireTenant(ctx);
    return inTenantTransaction(this.dataSource, tenantId, async (m) => {
      const tenant = await m.getRepository(TenantEntity).findOneBy({ id: tenantId });
      if (!tenant) throw appError('UNAUTHENTICATED', 'unknown tenant');
      return tenant;
    });
  }

  stores(ctx: SubgraphContext): Promise<StoreEntity[]> {
    const tenantId = requireTenant(ctx);
    return inTenantTransaction(this.dataSource, tenantId, (m) =>
      m.getRepository(StoreEntity).find({ where: { tenantId }, order: { code: 'ASC' } }),
    );
  }

  async store(ctx: SubgraphContext, id: string): Promise<StoreEntity | null> {
    const tenantId = requireTenant(ctx);
    if (!isUuid(id)) return null;
    return inTenantTransaction(this.dataSource, tenantId, (m) => m.getRepository(StoreEntity).findOneBy({ tenantId, id }));
  }

  async storesByIds(ctx: SubgraphContext, ids: readonly string[]): Promise<(StoreEntity | null)[]> {
    const tenantId = requireTenant(ctx);
    const valid = ids.filter(isUuid);
    const rows = valid.length
      ? await inTenantTransaction(this.dataSource, tenantId, (m) =>
          m.getRepository(StoreEntity).find({ where: { tenantId, id: In(valid) } }),
        )
      : [];
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** The gateway's lookup, through the API: only the gateway may ask. */
  resolveAs(ctx: SubgraphContext, input: { slug?: string | null; host?: string | null }): Promise<TenantEntity | null> {
    requireRole(ctx, 'gateway');
    return this.resolve(input);
  }

  /** Maps a slug, tenant id or host name to a tenant (the gateway's lookup). */
  async resolve(input: { slug?: string | null; host?: string | null }): Promise<TenantEntity | null> {
    return inSystemTransaction(this.dataSource, async (m) => {
      const repo = m.getRepository(TenantEntity);
      if (input.slug) {
        const key = input.slug.trim();
        return (await repo.findOneBy({ slug: key.toLowerCase() })) ?? (isUuid(key) ? await repo.findOneBy({ id: key }) : null);
      }
      if (input.host) {
        const host = input.host.toLowerCase().replace(/:\d+$/, '');
        return repo.createQueryBuilder('t').where(':host = ANY(t.domains)', { host }).getOne();
      }
      return null;
    });
  }

  countTenants(): Promise<number> {
    return inSystemTransaction(this.dataSource, (m) => m.getRepository(TenantEntity).count());
  }
}

/** An IANA time zone this runtime knows (`Europe/Berlin`), else BAD_USER_INPUT. */
function checkedTimeZone(timeZone: string): string {
  const zone = timeZone.trim();
  if (!isTimeZone(zone) || zone === '') throw badInput(`${timeZone} is not an IANA time zone (e.g. Europe/Berlin)`, 'timeZone');
  return zone;
}

/** A locale in canonical BCP 47 form, or BAD_USER_INPUT. */
function checkedLocale(locale: string): string {
  const canonical = canonicalLocale(locale.trim());
  if (!canonical) throw badInput(`locale must be a BCP 47 language tag of at most ${MAX_LOCALE_LENGTH} characters, such as "en-GB" or "de"`, 'locale');
  return canonical;
}
