import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A model ask is retried instead of dropped (issue 19): the worker leases an ask (`due_at` moves
 * past the request's time) rather than deleting it when it takes it, deletes it once the model has
 * answered, and on a failure makes it due again later (`attempts` counts the tries). A process
 * killed while asking leaves the ask to be taken again when its lease ends.
 */
export class EnrichmentModelAskRetries1740039000000 implements MigrationInterface {
  name = 'EnrichmentModelAskRetries1740039000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."enrichment_model_ask" ADD COLUMN attempts int NOT NULL DEFAULT 0, ADD COLUMN due_at timestamptz NOT NULL DEFAULT now()`);
    await queryRunner.query(`DROP INDEX "${s}"."enrichment_model_ask_queued"`);
    await queryRunner.query(`CREATE INDEX "enrichment_model_ask_due" ON "${s}"."enrichment_model_ask" (due_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP INDEX "${s}"."enrichment_model_ask_due"`);
    await queryRunner.query(`CREATE INDEX "enrichment_model_ask_queued" ON "${s}"."enrichment_model_ask" (queued_at)`);
    await queryRunner.query(`ALTER TABLE "${s}"."enrichment_model_ask" DROP COLUMN attempts, DROP COLUMN due_at`);
  }
}
