import { randomUUID } from 'node:crypto';
import { once } from '../../../../lib/db/idempotency.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { requireStoreAccess } from '../../../../lib/graphql/roles.js';
import { TransferEntity } from '../data/entities/transfer.entity.js';
import { requireStoreAndVariant } from './inventory.service.js';
import { account, LedgerBatch } from './ledger.js';
import { positive } from './reservation.service.js';

/** Transfers between stores: shipped out of one store's on hand into transit, received into the other's. */
export class TransferService extends TenantScopedService {
  async transfer(
    ctx: SubgraphContext,
    input: { sku: string; fromStoreId: string; toStoreId: string; quantity: number; idempotencyKey?: string | null },
  ): Promise<TransferEntity> {
    positive(input.quantity);
    if (input.fromStoreId === input.toStoreId) throw badInput('a transfer goes to another store', 'toStoreId');
    requireStoreAccess(ctx, input.fromStoreId);
    const { idempotencyKey, ...request } = input;
    const { result, replayed } = await this.tx(ctx, (m, tenantId) =>
      once(m, { tenantId, operation: 'transferStock', key: idempotencyKey, payload: request }, async () => {
        await requireStoreAndVariant(m, tenantId, input.fromStoreId, input.sku);
        await requireStoreAndVariant(m, tenantId, input.toStoreId, input.sku);
        const ledger = new LedgerBatch(m, tenantId);
        await ledger.lock([{ sku: input.sku, storeId: input.fromStoreId }, { sku: input.sku, storeId: input.toStoreId }]);
        const id = randomUUID();
        await m.getRepository(TransferEntity).insert({
          id, tenantId, sku: input.sku, fromStoreId: input.fromStoreId, toStoreId: input.toStoreId, quantity: input.quantity, status: 'SHIPPED', receivedAt: null,
        });
        ledger.post({
          sku: input.sku,
          storeId: input.fromStoreId,
          kind: 'TRANSFER_OUT',
          quantity: input.quantity,
          debit: account.inTransit(input.toStoreId),
          credit: account.onHand(input.fromStoreId),
          reference: `transfer:${id}`,
        });
        await ledger.commit();
        return id;
      }),
    );
    if (!replayed) await this.afterCommit();
    return this.tx(ctx, (m, tenantId) => m.getRepository(TransferEntity).findOneByOrFail({ tenantId, id: result }));
  }

  /** One transfer by its UUID (`node(id:)`), null when the tenant has none. */
  transferById(ctx: SubgraphContext, id: string): Promise<TransferEntity | null> {
    return isUuid(id) ? this.tx(ctx, (m, tenantId) => m.getRepository(TransferEntity).findOneBy({ tenantId, id })) : Promise.resolve(null);
  }

  async receiveTransfer(ctx: SubgraphContext, id: string): Promise<TransferEntity> {
    if (!isUuid(id)) throw notFound(`no transfer ${id}`);
    const transfer = await this.tx(ctx, async (m, tenantId) => {
      const row = await m.getRepository(TransferEntity).findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw notFound(`no transfer ${id}`);
      requireStoreAccess(ctx, row.toStoreId);
      if (row.status !== 'SHIPPED') throw appError('INVALID_TRANSITION', `transfer ${id} is ${row.status}; only a SHIPPED transfer can be received`);
      const ledger = new LedgerBatch(m, tenantId);
      await ledger.lock([{ sku: row.sku, storeId: row.toStoreId }]);
      ledger.post({
        sku: row.sku,
        storeId: row.toStoreId,
        kind: 'TRANSFER_IN',
        quantity: row.quantity,
        debit: account.onHand(row.toStoreId),
        credit: account.inTransit(row.toStoreId),
        reference: `transfer:${id}`,
      });
      await ledger.commit();
      row.status = 'RECEIVED';
      row.receivedAt = new Date();
      await m.getRepository(TransferEntity).update({ tenantId, id }, { status: 'RECEIVED', receivedAt: row.receivedAt });
      return row;
    });
    await this.afterCommit();
    return transfer;
  }
}
