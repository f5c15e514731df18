import type { EntityManager } from 'typeorm';
import type { Client } from '@openfeature/server-sdk';
import { evaluateFlag, type FlagDefinition, type FlagSubject } from '../../../../lib/flags/definition.js';
import { RULES, type RuleName } from './rules.js';

/** The feature flag that switches one enrichment rule: `enrichment.<rule>` (docs/flags.md). */
export const ruleFlagKey = (rule: RuleName) => `enrichment.${rule}`;

/**
 * Which rules the tenant's flags switch off for one product: a rule runs unless its flag
 * `enrichment.<rule>` serves `false` for the product's subject (its store, its sku as the
 * targeting key of a percentage). No flag, a flag that is off, or a value that is not a boolean:
 * the rule runs (OpenFeature's default value, as `ctx.flags.getBooleanValue(key, true, …)` gives).
 */
export type RuleSwitches = (subject: FlagSubject) => readonly RuleName[];

const NONE: RuleSwitches = () => [];

/**
 * The switches from a tenant's flags, compiled once for a batch: without a rule's flag nothing is
 * evaluated for it, and a flag whose answer cannot depend on the subject is evaluated once.
 */
export function ruleSwitchesOf(flags: ReadonlyMap<string, FlagDefinition>): RuleSwitches {
  const present = RULES.flatMap((rule) => {
    const flag = flags.get(ruleFlagKey(rule));
    return flag ? [{ rule, flag }] : [];
  });
  if (present.length === 0) return NONE;
  const fixedOff: RuleName[] = [];
  const perSubject: { rule: RuleName; flag: FlagDefinition }[] = [];
  for (const entry of present) {
    if (entry.flag.enabled && entry.flag.rules.length > 0) perSubject.push(entry);
    else if (isOff(entry.flag, {})) fixedOff.push(entry.rule);
  }
  if (perSubject.length === 0) return () => fixedOff;
  return (subject) => [...fixedOff, ...perSubject.filter(({ flag }) => isOff(flag, subject)).map(({ rule }) => rule)];
}

const isOff = (flag: FlagDefinition, subject: FlagSubject) => evaluateFlag(flag, subject).value === 'false';

/**
 * The switches from the subgraph's copy of the tenant's flags, read inside the caller's
 * transaction: for code that already holds one (merchant products applied by the event consumer),
 * where the process's flag cache may not read (embedded PGlite has one session).
 */
export async function ruleSwitchesIn(m: EntityManager, tenantId: string): Promise<RuleSwitches> {
  const rows: { flag: FlagDefinition }[] = await m.query(
    `SELECT flag FROM "${m.connection.driver.schema}"."feature_flag_copy" WHERE tenant_id = $1 AND key LIKE 'enrichment.%' AND flag IS NOT NULL`,
    [tenantId],
  );
  return ruleSwitchesOf(new Map(rows.map((r) => [r.flag.key, r.flag])));
}

/**
 * The switches for one product through the process's OpenFeature client (a request's path, before
 * its transaction): each rule's flag evaluated as a boolean, default true, for the product's sku.
 */
export async function ruleSwitchesFor(client: Client, tenantId: string, subject: FlagSubject): Promise<RuleSwitches> {
  const context = { tenantId, ...(subject.targetingKey ? { targetingKey: subject.targetingKey } : {}), ...(subject.storeId ? { storeId: subject.storeId } : {}) };
  const on = await Promise.all(RULES.map((rule) => client.getBooleanValue(ruleFlagKey(rule), true, context)));
  const off = RULES.filter((_, i) => !on[i]);
  return () => off;
}

/** Who a rule's flag is evaluated for: the product's (first) sku, stable wherever it comes from, and its store when it has one. */
export const ruleSubject = (sku: string, storeId?: string | null): FlagSubject => ({ ...(sku ? { targetingKey: sku } : {}), ...(storeId ? { storeId } : {}) });
