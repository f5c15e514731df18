import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { inTenantTransaction } from '../db/data-source.js';
import { enableTenantIsolation } from '../db/row-level-security.migration.js';
import { on, type TypedApplier } from '../events/on.js';
import type { ReadModel } from '../events/replay.js';
import type { EventBus } from '../events/event-bus.js';
import type { FlagDefinition, FlagSnapshot } from './definition.js';
import { createFlags, type Flags } from './provider.js';

/**
 * The copy of the tenant subgraph's flags that every other subgraph keeps, written by its durable
 * consumer of `tenant.feature-flag.changed`: what a process reads when it needs a tenant's flags
 * it has not cached (a subgraph never reads another's tables). A deleted flag stays as a row
 * without `flag` (a tombstone), so a late, older event cannot bring it back.
 */
export function featureFlagCopyMigration(name: string): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      const s = queryRunner.connection.driver.schema;
      await queryRunner.query(`
        CREATE TABLE "${s}"."feature_flag_copy" (
          tenant_id uuid NOT NULL,
          key text NOT NULL,
          revision bigint NOT NULL,
          flag jsonb,
          PRIMARY KEY (tenant_id, key)
        )`);
      await enableTenantIsolation(queryRunner, [{ table: 'feature_flag_copy' }]);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE "${queryRunner.connection.driver.schema}"."feature_flag_copy"`);
    }
  };
}

/** Keeps `feature_flag_copy` from the tenant subgraph's events; an older revision than the row's changes nothing. */
export const copyFeatureFlag: TypedApplier<'tenant.feature-flag.changed'> = async (manager, event) => {
  const { key, revision, flag } = event.payload;
  await manager.query(
    `INSERT INTO "${manager.connection.driver.schema}"."feature_flag_copy" AS c (tenant_id, key, revision, flag) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, key) DO UPDATE SET revision = EXCLUDED.revision, flag = EXCLUDED.flag WHERE c.revision < EXCLUDED.revision`,
    [event.tenantId, key, revision, flag === null ? null : JSON.stringify(flag)],
  );
};

/** The copy as a read model of `service` (`npm run replay -- <service>.feature-flags`, decision 0034). */
export const featureFlagCopyReadModel = (service: string): ReadModel => ({
  name: `${service}.feature-flags`,
  service,
  tables: ['feature_flag_copy'],
  description: "the tenant subgraph's feature flags (tenant.feature-flag.changed), read when a tenant's flags are not cached",
  reactions: [on('tenant.feature-flag.changed', copyFeatureFlag)],
});

/** Reads a tenant's flags from the service's copy: its revision is the newest change the copy holds. */
export function copiedFlags(dataSource: DataSource): (tenantId: string) => Promise<FlagSnapshot> {
  return (tenantId) =>
    inTenantTransaction(dataSource, tenantId, async (m) => {
      const rows: { revision: string; flag: FlagDefinition | null }[] = await m.query(
        `SELECT revision, flag FROM "${m.connection.driver.schema}"."feature_flag_copy" WHERE tenant_id = $1`,
        [tenantId],
      );
      return {
        revision: rows.reduce((max, row) => Math.max(max, Number(row.revision)), 0),
        flags: rows.flatMap((row) => (row.flag ? [row.flag] : [])),
      };
    });
}

/** A subgraph's flags (every subgraph but tenant): its copy, kept current by the change events. */
export const copiedFlagsOf = (deps: { dataSource: DataSource; bus: EventBus }, name: string): Flags =>
  createFlags({ name, bus: deps.bus, load: copiedFlags(deps.dataSource) });
