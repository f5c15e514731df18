import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../../../lib/graphql/pagination.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { isKnownVariant, knownStores } from '../../../../lib/events/read-model.js';
import { IngestionEventEntity, type IngestionSource, type IngestionStatus } from '../data/entities/ingestion-event.entity.js';
import { adapt, MalformedPayload, parsePayload } from '../../../../lib/webhooks/adapters.js';
import { WEBHOOK_SOURCE_NAMES } from '../../../../lib/webhooks/registry.js';
import { DEFAULT_MAX_AGE_MS, deliverySourceTime } from './delivery-time.js';

const SOURCES: readonly IngestionSource[] = WEBHOOK_SOURCE_NAMES;
const STATUSES: readonly IngestionStatus[] = ['RECEIVED', 'APPLIED', 'NEEDS_REVIEW', 'RETRYING', 'DEAD_LETTER'];
const MAX_EXTERNAL_ID = 255;

function requireSource(source: string): IngestionSource {
  if (!SOURCES.includes(source as IngestionSource)) throw badInput(`source must be one of ${SOURCES.join(', ')}`, 'source');
  return source as IngestionSource;
}

function requireExternalId(externalId: string): string {
  const id = externalId.trim();
  if (!id || id.length > MAX_EXTERNAL_ID) throw badInput(`externalId must be 1 to ${MAX_EXTERNAL_ID} characters`, 'externalId');
  return id;
}

/**
 * The inventory side of webhook ingestion: the gateway hands over each verified delivery, which
 * is stored at once (deduplicated by the source's event id) for the worker to apply; admins map
 * the sources' sku and location ids to ours and look after what could not be applied.
 */
export class IngestionService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    /** Wakes the worker: a new delivery is waiting. */
    private readonly nudge: () => void,
    /** Deliveries of a state older than this are refused (default 24 h; 0: no window). */
    private readonly maxAgeMs: number = DEFAULT_MAX_AGE_MS,
  ) {
    super(dataSource, afterCommit);
  }

  /**
   * Stores a verified delivery (the gateway's call): RECEIVED and due now, or, when the source
   * already delivered that event id, the first delivery's id with `duplicate`. A delivery without
   * a time, or whose time is outside the window, is refused and nothing is stored.
   */
  async receive(
    ctx: SubgraphContext,
    input: { source: string; topic: string; externalId: string; body: string; currencyCode?: string | null; triggeredAt?: string | null },
  ): Promise<{ id: string; duplicate: boolean }> {
    requireRole(ctx, 'gateway');
    const source = requireSource(input.source);
    const externalId = requireExternalId(input.externalId);
    let occurredAt: Date | null;
    try {
      occurredAt = adapt(source, input.topic, parsePayload(input.body)).occurredAt;
    } catch (error) {
      if (error instanceof SyntaxError) throw badInput('the body is not valid JSON', 'body');
      if (error instanceof MalformedPayload) throw badInput(error.message, 'body');
      throw error;
    }
    // A refusal is decided now but answered after the duplicate check: a delivery already stored stays a duplicate.
    let sourceTime: Date | null = null;
    let refusal: unknown = null;
    try {
      sourceTime = deliverySourceTime({ source, topic: input.topic, bodyTime: occurredAt, triggeredAt: input.triggeredAt }, { maxAgeMs: this.maxAgeMs });
    } catch (error) {
      refusal = error;
    }
    const receipt = await this.tx(ctx, async (m, tenantId) => {
      const s = m.connection.driver.schema;
      if (!refusal) {
        const inserted: { id: string }[] = await m.query(
          `INSERT INTO "${s}"."ingestion_event" (id, tenant_id, source, topic, external_id, body, currency_code, source_time, status, received_at, next_attempt_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'RECEIVED', now(), now())
           ON CONFLICT (tenant_id, source, external_id) DO NOTHING RETURNING id`,
          [randomUUID(), tenantId, source, input.topic, externalId, input.body, input.currencyCode ?? null, sourceTime],
        );
        if (inserted[0]) return { id: inserted[0].id, duplicate: false };
      }
      const [first]: { id: string }[] = await m.query(
        `SELECT id FROM "${s}"."ingestion_event" WHERE tenant_id = $1 AND source = $2 AND external_id = $3`,
        [tenantId, source, externalId],
      );
      if (!first) throw refusal ?? new Error('a conflicting ingestion event that cannot be read');
      return { id: first.id, duplicate: true };
    });
    if (!receipt.duplicate) this.nudge();
    return receipt;
  }

  /** Maps a source's sku (Shopify: inventory item id) to one of ours (admin). */
  async mapSku(ctx: SubgraphContext, input: { source: string; externalId: string; sku: string }) {
    requireRole(ctx, 'admin');
    const source = requireSource(input.source);
    const externalId = requireExternalId(input.externalId);
    return this.tx(ctx, async (m, tenantId) => {
      if (!(await isKnownVariant(m, tenantId, input.sku))) throw notFound(`no variant with sku ${input.sku}`);
      await upsertSkuMapping(m, tenantId, source, externalId, input.sku);
      return { source, externalId, sku: input.sku };
    });
  }

  /** Maps a source's location id to one of our stores (admin). */
  async mapLocation(ctx: SubgraphContext, input: { source: string; externalId: string; storeId: string }) {
    requireRole(ctx, 'admin');
    const source = requireSource(input.source);
    const externalId = requireExternalId(input.externalId);
    return this.tx(ctx, async (m, tenantId) => {
      if (!(await knownStores(m, tenantId, [input.storeId])).has(input.storeId)) throw notFound(`no store ${input.storeId}`);
      await m.query(
        `INSERT INTO "${m.connection.driver.schema}"."external_location" (tenant_id, source, external_id, store_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, source, external_id) DO UPDATE SET store_id = EXCLUDED.store_id`,
        [tenantId, source, externalId, input.storeId],
      );
      return { source, externalId, storeId: input.storeId };
    });
  }

  /** Both maps of the tenant, optionally for one source (admin). */
  async mappings(ctx: SubgraphContext, sourceArg: string | null | undefined) {
    requireRole(ctx, 'admin');
    const source = sourceArg ? requireSource(sourceArg) : null;
    return this.tx(ctx, async (m, tenantId) => {
      const s = m.connection.driver.schema;
      const filter = `WHERE tenant_id = $1 AND ($2::text IS NULL OR source = $2) ORDER BY source, external_id`;
      const skus: { source: string; external_id: string; sku: string }[] = await m.query(`SELECT source, external_id, sku FROM "${s}"."external_sku" ${filter}`, [tenantId, source]);
      const locations: { source: string; external_id: string; store_id: string }[] = await m.query(
        `SELECT source, external_id, store_id FROM "${s}"."external_location" ${filter}`,
        [tenantId, source],
      );
      return {
        skus: skus.map((r) => ({ source: r.source, externalId: r.external_id, sku: r.sku })),
        locations: locations.map((r) => ({ source: r.source, externalId: r.external_id, storeId: r.store_id })),
      };
    });
  }

  /** Deliveries, newest first, by status and source (admin): the review queue and the dead letters. */
  events(
    ctx: SubgraphContext,
    args: { status?: string | null; source?: string | null; first?: number | null; after?: string | null },
  ): Promise<Connection<IngestionEventEntity>> {
    requireRole(ctx, 'admin');
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after);
    if (after !== undefined && !/^\d+$/.test(after)) throw badInput('after is not a valid cursor', 'after');
    if (args.status && !STATUSES.includes(args.status as IngestionStatus)) throw badInput(`status must be one of ${STATUSES.join(', ')}`, 'status');
    const source = args.source ? requireSource(args.source) : null;
    return this.tx(ctx, async (m, tenantId) => {
      const qb = m
        .getRepository(IngestionEventEntity)
        .createQueryBuilder('e')
        .where('e.tenant_id = :tenantId', { tenantId })
        .orderBy('e.seq', 'DESC')
        .limit(limit + 1);
      if (args.status) qb.andWhere('e.status = :status', { status: args.status });
      if (source) qb.andWhere('e.source = :source', { source });
      if (after !== undefined) qb.andWhere('e.seq < :after', { after });
      return toConnection(await qb.getMany(), limit, (e) => e.seq);
    });
  }

  event(ctx: SubgraphContext, id: string): Promise<IngestionEventEntity | null> {
    requireRole(ctx, 'admin');
    if (!isUuid(id)) return Promise.resolve(null);
    return this.tx(ctx, (m, tenantId) => m.getRepository(IngestionEventEntity).findOneBy({ tenantId, id }));
  }

  /**
   * Queues a delivery that needs review or ended in the dead letters for another try, with its
   * attempts counted afresh (admin). Applied deliveries are never applied twice.
   */
  async retry(ctx: SubgraphContext, id: string): Promise<IngestionEventEntity> {
    requireRole(ctx, 'admin');
    if (!isUuid(id)) throw notFound(`no ingestion event ${id}`);
    const row = await this.tx(ctx, async (m, tenantId) => {
      const repo = m.getRepository(IngestionEventEntity);
      const event = await repo.findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } });
      if (!event) throw notFound(`no ingestion event ${id}`);
      if (event.status === 'APPLIED') throw appError('INVALID_TRANSITION', `ingestion event ${id} is APPLIED; it is never applied twice`, { status: event.status });
      if (event.status === 'RECEIVED' || event.status === 'RETRYING') return event;
      await repo.update({ tenantId, id }, { status: 'RECEIVED', attempts: 0, nextAttemptAt: new Date() });
      return repo.findOneByOrFail({ tenantId, id });
    });
    this.nudge();
    return row;
  }
}

export async function upsertSkuMapping(m: EntityManager, tenantId: string, source: string, externalId: string, sku: string): Promise<void> {
  await m.query(
    `INSERT INTO "${m.connection.driver.schema}"."external_sku" (tenant_id, source, external_id, sku) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, source, external_id) DO UPDATE SET sku = EXCLUDED.sku`,
    [tenantId, source, externalId, sku],
  );
}
