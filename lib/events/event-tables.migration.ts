import type { QueryRunner } from 'typeorm';

/** The outbox and processed-event tables every service has (both hold tenant rows). */
export const EVENT_TABLES = [{ table: 'outbox' }, { table: 'processed_event' }];

/** Creates them: each service's first migration. */
export async function createEventTables(queryRunner: QueryRunner): Promise<void> {
  const schema = queryRunner.connection.driver.schema;
  await queryRunner.query(`
    CREATE TABLE "${schema}"."outbox" (
      event_id uuid PRIMARY KEY,
      position bigserial NOT NULL,
      type text NOT NULL,
      tenant_id uuid NOT NULL,
      payload jsonb NOT NULL,
      version int NOT NULL DEFAULT 1,
      occurred_at timestamptz NOT NULL,
      published_at timestamptz
    )`);
  await queryRunner.query(
    `CREATE INDEX outbox_unpublished ON "${schema}"."outbox" (position) WHERE published_at IS NULL`,
  );
  await queryRunner.query(`
    CREATE TABLE "${schema}"."processed_event" (
      event_id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now()
    )`);
}

export async function dropEventTables(queryRunner: QueryRunner): Promise<void> {
  const schema = queryRunner.connection.driver.schema;
  await queryRunner.query(`DROP TABLE "${schema}"."processed_event"`);
  await queryRunner.query(`DROP TABLE "${schema}"."outbox"`);
}
