import { createHash } from 'node:crypto';
import type { EntityManager, QueryRunner } from 'typeorm';
import { canonicalJson } from '../canonical-json.js';
import { appError } from '../errors.js';

/** A stable hash of a request payload (key order does not matter). */
export function payloadHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * Runs `work` once per (tenant, operation, key) inside the caller's transaction. A repeat with
 * the same payload returns the stored result and changes nothing; a repeat with another payload
 * is IDEMPOTENCY_KEY_REUSED. Concurrent repeats wait on the key's row until the first commits.
 * Without a key, `work` simply runs.
 */
export async function once<R>(
  manager: EntityManager,
  request: { tenantId: string; operation: string; key: string | null | undefined; payload: unknown },
  work: () => Promise<R>,
): Promise<{ result: R; replayed: boolean }> {
  if (!request.key) return { result: await work(), replayed: false };
  const table = `"${manager.connection.driver.schema}"."idempotency"`;
  const hash = payloadHash(request.payload);
  const claimed: unknown[] = await manager.query(
    `INSERT INTO ${table} (tenant_id, operation, key, request_hash) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING key`,
    [request.tenantId, request.operation, request.key, hash],
  );
  if (claimed.length === 0) {
    const [row] = (await manager.query(
      `SELECT request_hash, result FROM ${table} WHERE tenant_id = $1 AND operation = $2 AND key = $3`,
      [request.tenantId, request.operation, request.key],
    )) as { request_hash: string; result: R }[];
    if (!row || row.request_hash !== hash) {
      throw appError('IDEMPOTENCY_KEY_REUSED', `idempotencyKey "${request.key}" was already used with a different request`);
    }
    return { result: row.result, replayed: true };
  }
  const result = await work();
  await manager.query(`UPDATE ${table} SET result = $4 WHERE tenant_id = $1 AND operation = $2 AND key = $3`, [
    request.tenantId,
    request.operation,
    request.key,
    JSON.stringify(result),
  ]);
  return { result, replayed: false };
}

export async function createIdempotencyTable(queryRunner: QueryRunner): Promise<void> {
  const schema = queryRunner.connection.driver.schema;
  await queryRunner.query(`
    CREATE TABLE "${schema}"."idempotency" (
      tenant_id uuid NOT NULL,
      operation text NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      result jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, operation, key)
    )`);
}
