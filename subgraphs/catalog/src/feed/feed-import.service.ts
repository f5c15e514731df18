import { randomUUID } from 'node:crypto';
import { inTenantTransaction, updatedRows } from '../../../../lib/db/data-source.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput } from '../../../../lib/errors.js';
import { isUuid, requireTenant } from '../../../../lib/graphql/context.js';
import { pageSize } from '../../../../lib/graphql/pagination.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';

/** Chunks of the uploaded file as stored: large enough for few rows, small enough for bounded memory. */
export const CHUNK_BYTES = 256 * 1024;
/** The largest feed accepted (default 256 MiB). */
export const MAX_FEED_BYTES = 256 * 1024 * 1024;

export interface FeedImportView {
  id: string;
  status: 'RECEIVING' | 'QUEUED' | 'RUNNING' | 'PROPAGATING' | 'COMPLETED' | 'FAILED';
  bytes: number;
  total: number | null;
  processed: number;
  imported: number;
  failed: number;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  effects: { prices: number; pricesApplied: number; stock: number; stockApplied: number; stockRefused: number };
}

const VIEW = `id, status, bytes::float8 AS bytes, total, processed, imported, failed, error, created_at AS "createdAt", finished_at AS "finishedAt",
  json_build_object('prices', prices_expected, 'pricesApplied', prices_applied, 'stock', stock_expected, 'stockApplied', stock_applied, 'stockRefused', stock_refused) AS effects`;

/**
 * Bulk catalog feeds: a file is stored as it arrives (in chunks, never whole in memory) and
 * queued; the feed worker imports it; admins follow its progress and its review queue.
 */
export class FeedImportService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    /** Wakes the worker: a feed is queued. */
    private readonly nudge: () => void,
  ) {
    super(dataSource, afterCommit);
  }

  /**
   * Stores a feed read from `body` and queues it (admin). Lines are counted on the way, so the
   * import's `total` is known (as lines) before a row is parsed.
   */
  async receive(ctx: SubgraphContext, body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, maxBytes = MAX_FEED_BYTES): Promise<FeedImportView> {
    requireRole(ctx, 'admin');
    const tenantId = requireTenant(ctx);
    const id = randomUUID();
    const s = this.dataSource.driver.schema;
    await this.tx(ctx, (m) => m.query(`INSERT INTO "${s}"."feed_import" (id, tenant_id, status) VALUES ($1, $2, 'RECEIVING')`, [id, tenantId]));
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let seq = 0;
    let bytes = 0;
    let lines = 0;
    let last = 0x0a;
    const store = async () => {
      if (pendingBytes === 0) return;
      const data = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await inTenantTransaction(this.dataSource, tenantId, (m) =>
        m.query(`INSERT INTO "${s}"."feed_chunk" (import_id, seq, tenant_id, data) VALUES ($1, $2, $3, $4)`, [id, seq++, tenantId, data]),
      );
    };
    try {
      for await (const piece of body) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
        bytes += chunk.length;
        if (bytes > maxBytes) throw badInput(`the feed is larger than ${maxBytes} bytes`, 'csv');
        for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
        if (chunk.length) last = chunk[chunk.length - 1]!;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= CHUNK_BYTES) await store();
      }
      await store();
      if (bytes === 0) throw badInput('the feed is empty', 'csv');
    } catch (error) {
      // Nothing of a failed upload is kept but the record of its failure.
      await this.tx(ctx, async (m) => {
        await m.query(`DELETE FROM "${s}"."feed_chunk" WHERE import_id = $1`, [id]);
        await m.query(`UPDATE "${s}"."feed_import" SET status = 'FAILED', bytes = $2, error = $3, finished_at = now() WHERE id = $1`, [
          id,
          bytes,
          error instanceof Error ? `upload failed: ${error.message}` : 'upload failed',
        ]);
      });
      throw error;
    }
    // Rows: every line but the header (and a last line without a newline counts too).
    const total = Math.max(0, lines + (last === 0x0a ? 0 : 1) - 1);
    const view = await this.tx(ctx, async (m) => {
      const [row] = updatedRows<FeedImportView>(
        await m.query(`UPDATE "${s}"."feed_import" SET status = 'QUEUED', bytes = $2, total = $3 WHERE id = $1 RETURNING ${VIEW}`, [id, bytes, total]),
      );
      return row!;
    });
    this.nudge();
    return view;
  }

  /** `importCatalogFeed(csv:)`: a feed small enough for a GraphQL request body. */
  importText(ctx: SubgraphContext, csv: string): Promise<FeedImportView> {
    return this.receive(ctx, [csv]);
  }

  async get(ctx: SubgraphContext, id: string): Promise<FeedImportView | null> {
    requireRole(ctx, 'admin');
    if (!isUuid(id)) return null;
    const [row]: FeedImportView[] = await this.tx(ctx, (m, tenantId) =>
      m.query(`SELECT ${VIEW} FROM "${m.connection.driver.schema}"."feed_import" WHERE tenant_id = $1 AND id = $2`, [tenantId, id]),
    );
    return row ?? null;
  }

  list(ctx: SubgraphContext, first: number | null | undefined): Promise<FeedImportView[]> {
    requireRole(ctx, 'admin');
    return this.tx(ctx, (m, tenantId) =>
      m.query(`SELECT ${VIEW} FROM "${m.connection.driver.schema}"."feed_import" WHERE tenant_id = $1 ORDER BY seq DESC LIMIT $2`, [tenantId, pageSize(first)]),
    );
  }

  /** The review queue of one import: its bad rows, by line. */
  rowErrors(ctx: SubgraphContext, importId: string, args: { first?: number | null; afterLine?: number | null }) {
    requireRole(ctx, 'admin');
    if (args.afterLine !== undefined && args.afterLine !== null && !Number.isInteger(args.afterLine)) throw badInput('afterLine must be a line number', 'afterLine');
    return this.tx(ctx, (m, tenantId) =>
      m.query(
        `SELECT line, reason, raw FROM "${m.connection.driver.schema}"."feed_row_error"
          WHERE tenant_id = $1 AND import_id = $2 AND line > $3 ORDER BY line LIMIT $4`,
        [tenantId, importId, args.afterLine ?? 0, pageSize(args.first)],
      ) as Promise<{ line: number; reason: string; raw: string }[]>,
    );
  }

  /** FORBIDDEN unless an admin; used by the upload route before it reads a byte. */
  static requireUploader(ctx: SubgraphContext): void {
    if (!ctx.roles.includes('admin')) throw appError('FORBIDDEN', 'This needs the role admin.');
  }
}
