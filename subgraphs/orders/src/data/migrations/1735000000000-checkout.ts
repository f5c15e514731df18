import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableCustomerIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Carts, shipping methods and what an order keeps of its checkout (issue 17): customer, email,
 * address and shipping. A cart's id is a random capability, not a UUID. Orders and carts of a
 * customer are visible to that customer only (a restrictive policy beside the tenant's); a cart
 * of no customer is visible to whoever holds its id.
 */
export class Checkout1735000000000 implements MigrationInterface {
  name = 'Checkout1735000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."shipping_method" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        store_id uuid NOT NULL,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('FLAT', 'SUBTOTAL_BANDS', 'FREE_OVER', 'PICKUP')),
        amount numeric(19,4) NOT NULL DEFAULT 0,
        currency_code char(3) NOT NULL,
        free_over numeric(19,4),
        bands jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX shipping_method_store ON "${s}"."shipping_method" (tenant_id, store_id)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."cart" (
        id text PRIMARY KEY,
        tenant_id uuid NOT NULL,
        store_id uuid NOT NULL,
        customer_id uuid,
        email text,
        shipping_address jsonb,
        shipping_method_id uuid REFERENCES "${s}"."shipping_method"(id),
        order_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."cart_line" (
        cart_id text NOT NULL REFERENCES "${s}"."cart"(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        quantity int NOT NULL CHECK (quantity > 0),
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (cart_id, sku)
      )`);
    await queryRunner.query(`
      ALTER TABLE "${s}"."order"
        ADD COLUMN customer_id uuid,
        ADD COLUMN email text,
        ADD COLUMN shipping_address jsonb,
        ADD COLUMN shipping jsonb,
        ADD COLUMN cart_id text`);
    await queryRunner.query(`CREATE INDEX order_customer ON "${s}"."order" (tenant_id, customer_id, seq) WHERE customer_id IS NOT NULL`);
    await enableTenantIsolation(queryRunner, [{ table: 'shipping_method' }, { table: 'cart' }, { table: 'cart_line' }]);
    await enableCustomerIsolation(queryRunner, 'order');
    await enableCustomerIsolation(queryRunner, 'cart', { sharedWhenNull: true });
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP POLICY customer_isolation ON "${s}"."order"`);
    await queryRunner.query(`ALTER TABLE "${s}"."order" DROP COLUMN customer_id, DROP COLUMN email, DROP COLUMN shipping_address, DROP COLUMN shipping, DROP COLUMN cart_id`);
    await queryRunner.query(`DROP TABLE "${s}"."cart_line"`);
    await queryRunner.query(`DROP TABLE "${s}"."cart"`);
    await queryRunner.query(`DROP TABLE "${s}"."shipping_method"`);
  }
}
