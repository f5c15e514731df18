/**
 * `npm run bench:ledger`: reservations straight into the inventory's ledger (the service layer,
 * one transaction each: lock the level, check, append the balanced movement, update the
 * projection, write the outbox event) with N concurrent writers, on the PostgreSQL that
 * DATABASE_URL names or on embedded PGlite. Prints reservations and movements per second,
 * latency percentiles, and the oversell check: reserved never exceeds what was received, and
 * rebuilding the projection from the ledger corrects nothing.
 *
 * Options: --writers 50 --seconds 10 --skus 20 --stock 2000 --pool 20 --audit off|on|both
 * (`--audit on`: each reservation runs in an audit scope, as a mutation through the API does:
 * the record and the changed rows are written in its transaction; `both`: every other one, and
 * the latencies of each kind apart, so that a busy machine slows both alike; docs/audit.md).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { inSystemTransaction, inTenantTransaction } from '../lib/db/data-source.js';
import { startEmbeddedPostgres } from '../lib/db/embedded-postgres.js';
import { openInventoryDatabase } from '../subgraphs/inventory/src/data/database.js';
import { account, LedgerBatch } from '../subgraphs/inventory/src/services/ledger.js';
import { rebuildStockLevels } from '../subgraphs/inventory/src/services/projection-rebuild.js';
import { ReservationService } from '../subgraphs/inventory/src/services/reservation.service.js';
import { newAuditScope, runInAuditScope } from '../lib/audit/audit-scope.js';
import { benchArgs } from './args.js';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const { values } = benchArgs({
    options: {
      writers: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '10' },
      skus: { type: 'string', default: '20' },
      stock: { type: 'string', default: '2000' },
      pool: { type: 'string', default: '20' },
      audit: { type: 'string', default: 'off' },
    },
  });
  const writers = Number(values.writers);
  const skuCount = Number(values.skus);
  const stockPerSku = Number(values.stock);
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres();
  const schema = `inventory_bench${randomBytes(3).toString('hex')}`;
  // Fewer connections than writers: past ~20 on 2 cores, more only adds contention.
  const dataSource = await openInventoryDatabase(process.env.DATABASE_URL ?? embedded!.url, schema, Number(values.pool));
  try {
    const tenantId = randomUUID();
    const storeId = randomUUID();
    const skus = Array.from({ length: skuCount }, (_, i) => `BENCH-${i}`);
    await inTenantTransaction(dataSource, tenantId, async (m) => {
      await m.query(`INSERT INTO "${schema}".known_store (tenant_id, store_id, code) VALUES ($1, $2, 'B1')`, [tenantId, storeId]);
      for (const sku of skus) await m.query(`INSERT INTO "${schema}".known_variant (tenant_id, sku) VALUES ($1, $2)`, [tenantId, sku]);
      const ledger = new LedgerBatch(m, tenantId);
      await ledger.lock(skus.map((sku) => ({ sku, storeId })));
      for (const sku of skus) ledger.post({ sku, storeId, kind: 'RECEIPT', quantity: stockPerSku, debit: account.onHand(storeId), credit: 'external:supplier' });
      await ledger.commit();
    });
    // The relay is not running: its publishing is measured elsewhere (bench:subscriptions).
    const reservations = new ReservationService(dataSource, async () => undefined);
    const ctx = { tenantId, roles: ['pos' as const], requestId: 'bench' };

    const audited = values.audit === 'on';
    let attempts = 0;
    const latencies: number[] = [];
    const auditedLatencies: number[] = [];
    let won = 0;
    let refused = 0;
    let failed = 0;
    const until = performance.now() + Number(values.seconds) * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        let i = w;
        while (performance.now() < until) {
          const sku = skus[(i = (i * 7 + 3) % skuCount)]!;
          const inScope = values.audit === 'both' ? (attempts++ & 1) === 1 : audited;
          const t0 = performance.now();
          try {
            const reserve = () => reservations.reserve(ctx, { sku, storeId, quantity: 1 });
            await (inScope ? runInAuditScope(newAuditScope({ database: dataSource, requestId: 'bench', actor: 'bench', roles: 'pos', operation: 'reserveStock', source: 'api', targetIds: [sku, storeId], input: { input: { sku, storeId, quantity: 1 } } }), reserve) : reserve());
            won += 1;
          } catch (error) {
            if ((error as { extensions?: { code?: string } }).extensions?.code === 'INSUFFICIENT_STOCK') refused += 1;
            else failed += 1;
          }
          (inScope ? auditedLatencies : latencies).push(performance.now() - t0);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    auditedLatencies.sort((a, b) => a - b);

    const [check] = await inSystemTransaction(dataSource, (m) =>
      m.query(
        `SELECT count(*) FILTER (WHERE reserved > on_hand OR on_hand <> $1)::int AS broken,
                sum(reserved)::int AS reserved
           FROM "${schema}".stock_level`,
        [stockPerSku],
      ),
    );
    const [{ active }] = await inSystemTransaction(dataSource, (m) => m.query(`SELECT count(*)::int AS active FROM "${schema}".reservation WHERE status = 'ACTIVE'`));
    const rebuilt = await rebuildStockLevels(dataSource);

    console.log(`bench:ledger  db=${process.env.DATABASE_URL ? 'postgresql' : 'pglite'}  writers=${writers}  pool=${values.pool}  audit=${values.audit}  skus=${skuCount}  stock/sku=${stockPerSku}  ${elapsed.toFixed(1)} s`);
    console.log(`reservations: ${won} ok (${(won / elapsed).toFixed(0)}/s), ${refused} INSUFFICIENT_STOCK, ${failed} other errors`);
    console.log(`movements: ${((won + skuCount) / elapsed).toFixed(0)}/s (one balanced movement per reservation)`);
    const line = (label: string, sorted: number[]) =>
      console.log(`${label}  p50=${percentile(sorted, 50).toFixed(2)}  p95=${percentile(sorted, 95).toFixed(1)}  p99=${percentile(sorted, 99).toFixed(1)}  max=${(sorted.at(-1) ?? NaN).toFixed(1)}`);
    if (latencies.length) line(values.audit === 'both' ? 'latency ms (not audited)' : 'latency ms', latencies);
    if (auditedLatencies.length) line('latency ms (audited)    ', auditedLatencies);
    const oversold = check.broken > 0 || check.reserved !== won || active !== won || won > skuCount * stockPerSku;
    console.log(`oversell check: reserved ${check.reserved} = reservations ${won} = active ${active} <= stock ${skuCount * stockPerSku}; levels broken ${check.broken}; rebuild corrected ${rebuilt.corrected} -> ${oversold || rebuilt.corrected ? 'FAILED' : 'ok'}`);
    if (oversold || rebuilt.corrected) process.exitCode = 1;
  } finally {
    await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.query(`DROP ROLE IF EXISTS "${schema}_app"`);
    await dataSource.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
