import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A cart keeps the coupon codes its shopper applied (issue 17, `applyCouponCode`), normalised as
 * pricing normalises them (trimmed, upper case). Pricing prices them when the cart is read
 * (`Cart.quote`); checkout charges them only through a claimed quote naming the same codes.
 */
export class CartCoupons1740028000000 implements MigrationInterface {
  name = 'CartCoupons1740028000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."cart" ADD COLUMN coupon_codes text[] NOT NULL DEFAULT '{}'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."cart" DROP COLUMN coupon_codes`);
  }
}
