import { createHash } from 'node:crypto';
import { badInput } from '../errors.js';
import { isUuid } from '../graphql/context.js';
import { maxItemsOf, maxLengthOf } from '../input-bounds.js';
import { roleOf, type Role } from '../tenant/roles.js';

/**
 * A tenant's feature flag as every process keeps it (the tenant subgraph's row, the event's
 * payload, the copies other subgraphs keep): named variants, each a value as text, and rules tried
 * in order. docs/flags.md describes it; the bounds are here and in lib/input-bounds.ts.
 */
export interface FlagDefinition {
  key: string;
  enabled: boolean;
  variants: FlagVariant[];
  /** Served when the flag is on and no rule matches. */
  defaultVariant: string;
  rules: FlagRule[];
  /** ISO 8601 time of the last change. */
  updatedAt: string;
}

export interface FlagVariant {
  name: string;
  /** Text; read as the type the caller asks for (`true`, `3`, `blue`, `{"a":1}`). */
  value: string;
}

/** Matches a subject when every condition it has holds; an empty list is no condition. */
export interface FlagRule {
  storeIds: string[];
  /** Lower case, as signed contexts spell roles. */
  roles: Role[];
  /** Of the subjects the conditions match, those whose bucket is below this (0 to 100) get `variant`. */
  percentage: number;
  variant: string;
}

/** What a tenant's flags look like in one place at one time: `revision` counts the tenant's flag changes. */
export interface FlagSnapshot {
  revision: number;
  flags: FlagDefinition[];
}

export const FLAG_KEY = /^[a-z0-9][a-z0-9._-]*$/;
export const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Flags one tenant may have (each event and copy carries one flag; this bounds what a process caches per tenant). */
export const MAX_FLAGS_PER_TENANT = 100;
/** A flag without variants is a boolean one: `on` serves true, `off` false. */
export const BOOLEAN_VARIANTS: readonly FlagVariant[] = Object.freeze([
  { name: 'on', value: 'true' },
  { name: 'off', value: 'false' },
]);

/** What `setFeatureFlag` takes, as GraphQL delivers it (roles as the enum spells them). */
export interface FlagInput {
  key: string;
  enabled: boolean;
  variants?: { name: string; value: string }[] | null;
  defaultVariant?: string | null;
  rules?: { storeIds?: string[] | null; roles?: string[] | null; percentage?: number | null; variant: string }[] | null;
}

/**
 * The definition an input describes, or BAD_USER_INPUT naming the first field that breaks a rule.
 * The gateway has already applied the lengths and counts of lib/input-bounds.ts; they are checked
 * again here, with the rules no table says: key and variant names, the percentage's range,
 * variants that exist, unique names. Whether the stores exist is the caller's to check.
 */
export function parseFlagInput(input: FlagInput, now = new Date()): FlagDefinition {
  const key = input.key;
  if (key.length > maxLengthOf('FeatureFlagInput.key') || !FLAG_KEY.test(key)) {
    throw badInput(`key must be 1 to ${maxLengthOf('FeatureFlagInput.key')} lower-case letters, digits, '.', '_' or '-', starting with a letter or digit`, 'key');
  }
  const given = input.variants ?? [];
  if (given.length > maxItemsOf('FeatureFlagInput.variants')) throw badInput(`a flag has at most ${maxItemsOf('FeatureFlagInput.variants')} variants`, 'variants');
  const variants = given.length > 0 ? given.map((v) => ({ name: v.name, value: v.value })) : BOOLEAN_VARIANTS.map((v) => ({ ...v }));
  const names = new Set<string>();
  for (const variant of variants) {
    if (variant.name.length > maxLengthOf('FlagVariantInput.name') || !VARIANT_NAME.test(variant.name)) {
      throw badInput(`a variant name is 1 to ${maxLengthOf('FlagVariantInput.name')} letters, digits, '.', '_' or '-', starting with a letter or digit`, 'variants.name');
    }
    if (names.has(variant.name)) throw badInput(`variant ${variant.name} is named twice`, 'variants.name');
    if (variant.value.length > maxLengthOf('FlagVariantInput.value') || variant.value.includes('\u0000')) {
      throw badInput(`a variant value is at most ${maxLengthOf('FlagVariantInput.value')} characters, without NUL`, 'variants.value');
    }
    names.add(variant.name);
  }
  const defaultVariant = input.defaultVariant ?? variants[0]!.name;
  if (!names.has(defaultVariant)) throw badInput(`defaultVariant ${defaultVariant} is not one of the variants (${[...names].join(', ')})`, 'defaultVariant');
  const rules = input.rules ?? [];
  if (rules.length > maxItemsOf('FeatureFlagInput.rules')) throw badInput(`a flag has at most ${maxItemsOf('FeatureFlagInput.rules')} rules`, 'rules');
  return {
    key,
    enabled: input.enabled,
    variants,
    defaultVariant,
    rules: rules.map((rule) => {
      const percentage = rule.percentage ?? 100;
      if (!Number.isInteger(percentage) || percentage < 0 || percentage > 100) throw badInput('percentage must be between 0 and 100', 'rules.percentage');
      if (!names.has(rule.variant)) throw badInput(`rule variant ${rule.variant} is not one of the variants (${[...names].join(', ')})`, 'rules.variant');
      const storeIds = [...new Set(rule.storeIds ?? [])];
      if (storeIds.length > maxItemsOf('FlagRuleInput.storeIds')) throw badInput(`a rule names at most ${maxItemsOf('FlagRuleInput.storeIds')} stores`, 'rules.storeIds');
      const unknown = storeIds.find((id) => !isUuid(id));
      if (unknown !== undefined) throw badInput(`no store ${unknown}`, 'rules.storeIds');
      const roles = [...new Set(rule.roles ?? [])].map((name) => {
        const role = roleOf(name);
        if (!role || role === 'gateway') throw badInput(`no role ${name}`, 'rules.roles');
        return role;
      });
      return { storeIds, roles, percentage, variant: rule.variant };
    }),
    updatedAt: now.toISOString(),
  };
}

/**
 * The subject's bucket for a flag, 0 to 99: SHA-256 of `key:subject`, its first 48 bits modulo
 * 100. The same for the same flag and subject in every process, so a rollout widened from 30 to
 * 50 % keeps the 30 % it had; independent between flags.
 */
export function bucketOf(key: string, subject: string): number {
  return createHash('sha256').update(`${key}:${subject}`).digest().readUIntBE(0, 6) % 100;
}

/** Who a flag is evaluated for. */
export interface FlagSubject {
  /** What percentage rollouts are stable for (an order id, a customer id, a store id). */
  targetingKey?: string;
  storeId?: string;
  roles?: readonly string[];
}

/** OpenFeature's reasons, as this evaluation uses them. */
export type FlagReason = 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'DISABLED' | 'ERROR';

export interface FlagResolution {
  /** Absent when the flag is off or unknown: the caller's default applies. */
  variant?: string;
  value?: string;
  reason: FlagReason;
  errorCode?: 'FLAG_NOT_FOUND';
  /** The rule that matched (0-based). */
  ruleIndex?: number;
  /** The subject's bucket, when a rule with a percentage was tried. */
  bucket?: number;
}

/**
 * Evaluates one flag for one subject: off (`DISABLED`) serves the caller's default; on, the first
 * rule whose stores and roles match and whose percentage takes the subject's bucket serves its
 * variant (`TARGETING_MATCH`, or `SPLIT` when it took a share); no rule: the default variant
 * (`DEFAULT`). A rule with a share below 100 needs a targeting key: without one it never matches.
 */
export function evaluateFlag(flag: FlagDefinition | undefined, subject: FlagSubject): FlagResolution {
  if (!flag) return { reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' };
  if (!flag.enabled) return { reason: 'DISABLED' };
  let bucket: number | undefined;
  for (const [ruleIndex, rule] of flag.rules.entries()) {
    if (rule.storeIds.length > 0 && !(subject.storeId && rule.storeIds.includes(subject.storeId))) continue;
    if (rule.roles.length > 0 && !rule.roles.some((role) => subject.roles?.includes(role))) continue;
    if (rule.percentage < 100) {
      if (!subject.targetingKey) continue;
      bucket ??= bucketOf(flag.key, subject.targetingKey);
      if (bucket >= rule.percentage) continue;
    }
    return { variant: rule.variant, value: valueOf(flag, rule.variant), reason: rule.percentage < 100 ? 'SPLIT' : 'TARGETING_MATCH', ruleIndex, bucket };
  }
  return { variant: flag.defaultVariant, value: valueOf(flag, flag.defaultVariant), reason: 'DEFAULT', bucket };
}

const valueOf = (flag: FlagDefinition, variant: string) => flag.variants.find((v) => v.name === variant)?.value;
