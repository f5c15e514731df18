import { auditLogMigration } from '../../../../../lib/audit/audit-log.migration.js';

/** The append-only audit log of this subgraph's mutations and its capture trigger (docs/audit.md). */
export const AuditLog1740018000000 = auditLogMigration('AuditLog1740018000000');
