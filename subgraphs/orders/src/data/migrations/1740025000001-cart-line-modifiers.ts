import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cart lines carry modifiers (issue 19, decision 0036): a latte with oat milk and one with soy
 * are two lines of one sku, so a line is its cart, its sku and its modifiers (sorted skus; none:
 * the empty array).
 */
export class CartLineModifiers1740025000001 implements MigrationInterface {
  name = 'CartLineModifiers1740025000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."cart_line" ADD COLUMN modifiers text[] NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "${s}"."cart_line" DROP CONSTRAINT cart_line_pkey, ADD PRIMARY KEY (cart_id, sku, modifiers)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DELETE FROM "${s}"."cart_line" WHERE modifiers <> '{}'`);
    await queryRunner.query(`ALTER TABLE "${s}"."cart_line" DROP CONSTRAINT cart_line_pkey, ADD PRIMARY KEY (cart_id, sku), DROP COLUMN modifiers`);
  }
}
