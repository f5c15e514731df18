import { randomUUID } from 'node:crypto';
import {
  FlagNotFoundError,
  InvalidContextError,
  NOOP_PROVIDER,
  OpenFeature,
  TypeMismatchError,
  type Client,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { EventBus } from '../events/event-bus.js';
import { isUuid } from '../graphql/context.js';
import type { CallerContext } from '../tenant/signed-context.js';
import { FlagCache } from './cache.js';
import { evaluateFlag, type FlagSnapshot, type FlagSubject } from './definition.js';
import { watchFlagChanges } from './flag-events.js';

/**
 * Our OpenFeature provider: a tenant's flags from this process's `FlagCache`, evaluated by
 * `evaluateFlag`. The evaluation context must carry `tenantId`; `targetingKey`, `storeId` and
 * `roles` are what rules match on. A variant's value is text, read as the type asked for:
 * `true`/`false` for a boolean, a finite number, any string, a JSON object or array.
 */
export class CommerceFlagProvider implements Provider {
  readonly metadata = { name: 'commerce-flags' } as const;
  readonly runsOn = 'server' as const;

  constructor(private readonly cache: FlagCache) {}

  resolveBooleanEvaluation(key: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return this.resolve(key, defaultValue, context, 'boolean', (text) => (text === 'true' ? true : text === 'false' ? false : undefined));
  }

  resolveNumberEvaluation(key: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return this.resolve(key, defaultValue, context, 'number', (text) => {
      const value = text.trim() === '' ? NaN : Number(text);
      return Number.isFinite(value) ? value : undefined;
    });
  }

  resolveStringEvaluation(key: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return this.resolve(key, defaultValue, context, 'string', (text) => text);
  }

  resolveObjectEvaluation<T extends JsonValue>(key: string, defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return this.resolve(key, defaultValue, context, 'JSON object or array', (text) => {
      try {
        const value = JSON.parse(text) as unknown;
        return typeof value === 'object' && value !== null ? (value as T) : undefined;
      } catch {
        return undefined;
      }
    });
  }

  private async resolve<T>(key: string, defaultValue: T, context: EvaluationContext, type: string, read: (text: string) => T | undefined): Promise<ResolutionDetails<T>> {
    const tenantId = context.tenantId;
    if (typeof tenantId !== 'string' || !isUuid(tenantId)) throw new InvalidContextError('the evaluation context has no tenantId');
    const resolution = evaluateFlag((await this.cache.flags(tenantId)).get(key), subjectOf(context));
    if (resolution.errorCode) throw new FlagNotFoundError(`no flag ${key}`);
    const flagMetadata: FlagMetadata = {
      ...(resolution.ruleIndex !== undefined ? { ruleIndex: resolution.ruleIndex } : {}),
      ...(resolution.bucket !== undefined ? { bucket: resolution.bucket } : {}),
    };
    if (resolution.value === undefined) return { value: defaultValue, reason: resolution.reason, flagMetadata };
    const value = read(resolution.value);
    if (value === undefined) throw new TypeMismatchError(`variant ${resolution.variant} of flag ${key} is not a ${type}`);
    return { value, variant: resolution.variant, reason: resolution.reason, flagMetadata };
  }
}

/** The rule-matching part of an evaluation context. */
export function subjectOf(context: EvaluationContext): FlagSubject {
  const roles = Array.isArray(context.roles) ? context.roles.filter((r): r is string => typeof r === 'string') : [];
  return {
    targetingKey: typeof context.targetingKey === 'string' && context.targetingKey !== '' ? context.targetingKey : undefined,
    storeId: typeof context.storeId === 'string' ? context.storeId : undefined,
    roles,
  };
}

/**
 * The evaluation context of a request: its tenant and roles as the gateway signed them, the store
 * it acts on, and what percentage rollouts are stable for (default: the signed-in customer).
 */
export function flagContext(caller: Pick<CallerContext, 'tenantId' | 'roles' | 'customerId'>, extra: { storeId?: string | null; targetingKey?: string | null } = {}): EvaluationContext {
  const targetingKey = extra.targetingKey ?? caller.customerId;
  return {
    tenantId: caller.tenantId ?? '',
    roles: [...caller.roles],
    ...(extra.storeId ? { storeId: extra.storeId } : {}),
    ...(targetingKey ? { targetingKey } : {}),
  };
}

/** A process's flags: the OpenFeature client its code evaluates with, and the cache behind it. */
export interface Flags {
  /** An OpenFeature client bound to this service's provider (a domain of its own). */
  readonly client: Client;
  readonly cache: FlagCache;
  /** Starts following `tenant.feature-flag.changed` on the bus (no-op without one). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The flags of one service in this process: our provider over a cache that reads a tenant's flags
 * with `load` and is kept current by the bus's change events (one ephemeral consumer group per
 * process and bus, shared by the services of `npm start`).
 */
export function createFlags(options: { name: string; bus?: EventBus; load: (tenantId: string) => Promise<FlagSnapshot>; ttlMs?: number }): Flags {
  const cache = new FlagCache({ load: options.load, ttlMs: options.ttlMs });
  // A domain per instance: tests and `npm start` run several systems' services in one process.
  const domain = `${options.name}:${randomUUID()}`;
  const provider = new CommerceFlagProvider(cache);
  OpenFeature.setProvider(domain, provider);
  const client = OpenFeature.getClient(domain);
  let unwatch: (() => Promise<void>) | undefined;
  let stopped = false;
  return {
    client,
    cache,
    async start() {
      if (stopped) OpenFeature.setProvider(domain, provider);
      stopped = false;
      if (options.bus && !unwatch) unwatch = await watchFlagChanges(options.bus, cache);
    },
    async stop() {
      await unwatch?.();
      unwatch = undefined;
      // The domain lets go of this cache (what it kept is garbage once the service is gone).
      stopped = true;
      OpenFeature.setProvider(domain, NOOP_PROVIDER);
    },
  };
}
