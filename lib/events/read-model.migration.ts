import type { QueryRunner } from 'typeorm';

/** Stores a service has learnt of from `tenant.store.created` events. */
export async function createKnownStoreTable(queryRunner: QueryRunner): Promise<void> {
  const schema = queryRunner.connection.driver.schema;
  await queryRunner.query(`
    CREATE TABLE "${schema}"."known_store" (
      tenant_id uuid NOT NULL,
      store_id uuid NOT NULL,
      code text NOT NULL,
      PRIMARY KEY (tenant_id, store_id)
    )`);
}

/** Skus a service has learnt of from `catalog.variant.upserted` events. */
export async function createKnownVariantTable(queryRunner: QueryRunner): Promise<void> {
  const schema = queryRunner.connection.driver.schema;
  await queryRunner.query(`
    CREATE TABLE "${schema}"."known_variant" (
      tenant_id uuid NOT NULL,
      sku text NOT NULL,
      PRIMARY KEY (tenant_id, sku)
    )`);
}
