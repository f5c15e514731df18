import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Outbound webhooks: subscriptions (URL, event types, signing secret), the events they matched
 * (one row per event: the dedupe mark and the signed body) and one delivery per subscription and
 * event, written in the consumer's transaction and sent by the worker.
 */
export class OutboundWebhooks1736000000000 implements MigrationInterface {
  name = 'OutboundWebhooks1736000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."webhook_subscription" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES "${s}"."tenant"(id),
        url text NOT NULL,
        event_types text[] NOT NULL,
        description text,
        secret text NOT NULL,
        previous_secret text,
        previous_secret_expires_at timestamptz,
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'FAILING')),
        failure_reason text,
        failing_since timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX webhook_subscription_tenant ON "${s}"."webhook_subscription" (tenant_id, created_at)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."webhook_message" (
        event_id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        type text NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."webhook_delivery" (
        id uuid PRIMARY KEY,
        seq bigserial NOT NULL UNIQUE,
        tenant_id uuid NOT NULL,
        subscription_id uuid NOT NULL REFERENCES "${s}"."webhook_subscription"(id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES "${s}"."webhook_message"(event_id),
        event_type text NOT NULL,
        resource_key text NOT NULL,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        first_attempt_at timestamptz,
        last_attempt_at timestamptz,
        delivered_at timestamptz,
        request_headers jsonb,
        response_status int,
        response_body text,
        latency_ms int,
        error text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX webhook_delivery_pending ON "${s}"."webhook_delivery" (subscription_id, resource_key, seq) WHERE status = 'PENDING'`);
    await queryRunner.query(`CREATE INDEX webhook_delivery_by_subscription ON "${s}"."webhook_delivery" (subscription_id, seq)`);
    await enableTenantIsolation(queryRunner, [{ table: 'webhook_subscription' }, { table: 'webhook_message' }, { table: 'webhook_delivery' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP TABLE "${s}"."webhook_delivery"`);
    await queryRunner.query(`DROP TABLE "${s}"."webhook_message"`);
    await queryRunner.query(`DROP TABLE "${s}"."webhook_subscription"`);
  }
}
