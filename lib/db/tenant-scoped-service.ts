import type { DataSource, EntityManager } from 'typeorm';
import { requireTenant } from '../graphql/context.js';
import type { SubgraphContext } from '../graphql/service.js';
import { inTenantTransaction } from './data-source.js';

/** Base of every subgraph service: its database, its outbox flush, and transactions scoped to the caller's tenant. */
export abstract class TenantScopedService {
  constructor(
    protected readonly dataSource: DataSource,
    /** Publishes what the last transaction wrote to the outbox. */
    protected readonly afterCommit: () => Promise<void>,
  ) {}

  /** One transaction with the request's tenant (and signed-in customer, if any) set; UNAUTHENTICATED without a tenant. */
  protected tx<T>(ctx: SubgraphContext, work: (m: EntityManager, tenantId: string) => Promise<T>): Promise<T> {
    const tenantId = requireTenant(ctx);
    return inTenantTransaction(this.dataSource, tenantId, (m) => work(m, tenantId), ctx.customerId);
  }
}
