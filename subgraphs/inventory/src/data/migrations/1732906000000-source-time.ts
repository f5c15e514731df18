import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each delivery keeps its source time (the body's, else Shopify's X-Shopify-Triggered-At), so
 * levels without `updated_at` are watermarked too, and a note of what an applied delivery left
 * unchanged (an older level than one already applied), for the operator.
 */
export class SourceTime1732906000000 implements MigrationInterface {
  name = 'SourceTime1732906000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."ingestion_event" ADD COLUMN source_time timestamptz, ADD COLUMN note text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."ingestion_event" DROP COLUMN source_time, DROP COLUMN note`);
  }
}
