import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { qualified, updatedRows } from '../../../../lib/db/data-source.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput } from '../../../../lib/errors.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { postJson } from '../../../../lib/outbound/post-json.js';
import { TargetRefused, type TargetGuard } from '../../../../lib/outbound/target-policy.js';
import type { TransitionDecider, TransitionSubject } from '../../../../lib/plugins/plugin.js';

export const HOOK_EVENTS = ['place', 'pay', 'fulfil', 'cancel'] as const;
export const DEFAULT_HOOK_TIMEOUT_MS = 2_000;
export const MAX_HOOK_TIMEOUT_MS = 10_000;

export interface OrderHookRow {
  event: string;
  url: string;
  timeoutMs: number;
  failurePolicy: 'OPEN' | 'CLOSED';
  updatedAt: Date;
}

export interface OrderHookDecisionRow {
  id: string;
  event: string;
  orderId: string | null;
  decidedBy: string;
  allowed: boolean;
  policyApplied: 'OPEN' | 'CLOSED' | null;
  reason: string | null;
  latencyMs: number;
  at: Date;
}

/**
 * Synchronous decisions at order transitions: the in-process deciders of plug-ins, then the
 * tenant's HTTPS hook for that transition (one per event), called with a deadline. Its JSON answer
 * `{ "allow": bool, "reason"?: string }` decides; a timeout, an error, a non-2xx or a malformed
 * answer falls to the hook's failure policy (OPEN allows, CLOSED rejects). Every decision of a hook
 * or a plug-in is recorded, with the policy when it was the policy that decided.
 */
export class OrderHooksService extends TenantScopedService {
  constructor(
    dataSource: DataSource,
    afterCommit: () => Promise<void>,
    private readonly guard: TargetGuard,
    private readonly deciders: ReadonlyMap<string, readonly TransitionDecider[]> = new Map(),
  ) {
    super(dataSource, afterCommit);
  }

  private get hooks() {
    return qualified(this.dataSource, 'order_hook');
  }

  private get decisionsTable() {
    return qualified(this.dataSource, 'order_hook_decision');
  }

  async set(ctx: SubgraphContext, input: { event: string; url: string; timeoutMs?: number | null; failurePolicy?: 'OPEN' | 'CLOSED' | null }): Promise<OrderHookRow> {
    requireRole(ctx, 'admin');
    const event = input.event.toLowerCase();
    if (!(HOOK_EVENTS as readonly string[]).includes(event)) throw badInput(`event is one of ${HOOK_EVENTS.join(', ')}`, 'event');
    const timeoutMs = input.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    try {
      await this.guard.resolve(this.guard.checkUrl(input.url));
    } catch (error) {
      if (error instanceof TargetRefused) throw appError(error.code, error.message, { field: 'url' });
      throw error;
    }
    return this.tx(ctx, async (m, tenantId) => {
      const rows: OrderHookRow[] = await m.query(
        `INSERT INTO ${this.hooks} (tenant_id, event, url, timeout_ms, failure_policy) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, event) DO UPDATE SET url = EXCLUDED.url, timeout_ms = EXCLUDED.timeout_ms, failure_policy = EXCLUDED.failure_policy, updated_at = now()
         RETURNING event, url, timeout_ms AS "timeoutMs", failure_policy AS "failurePolicy", updated_at AS "updatedAt"`,
        [tenantId, event, input.url, timeoutMs, input.failurePolicy ?? 'OPEN'],
      );
      return rows[0]!;
    });
  }

  async remove(ctx: SubgraphContext, event: string): Promise<boolean> {
    requireRole(ctx, 'admin');
    return this.tx(ctx, async (m) => updatedRows(await m.query(`DELETE FROM ${this.hooks} WHERE event = $1 RETURNING event`, [event.toLowerCase()])).length > 0);
  }

  list(ctx: SubgraphContext): Promise<OrderHookRow[]> {
    requireRole(ctx, 'admin');
    return this.tx(ctx, (m) =>
      m.query(`SELECT event, url, timeout_ms AS "timeoutMs", failure_policy AS "failurePolicy", updated_at AS "updatedAt" FROM ${this.hooks} ORDER BY event`),
    );
  }

  decisions(ctx: SubgraphContext, first: number): Promise<OrderHookDecisionRow[]> {
    requireRole(ctx, 'admin');
    return this.tx(ctx, (m) =>
      m.query(
        `SELECT id, event, order_id AS "orderId", decided_by AS "decidedBy", allowed, policy_applied AS "policyApplied", reason, latency_ms AS "latencyMs", at
         FROM ${this.decisionsTable} ORDER BY at DESC, id LIMIT $1`,
        [first],
      ),
    );
  }

  /** Throws ORDER_HOOK_REJECTED when a plug-in or the tenant's hook rejects the transition. */
  async decide(ctx: SubgraphContext, subject: TransitionSubject): Promise<void> {
    for (const decider of this.deciders.get(subject.event) ?? []) {
      const started = performance.now();
      const answer = await decider(subject);
      if (!answer.allow) {
        await this.record(ctx, subject, { decidedBy: 'plugin', allowed: false, policyApplied: null, reason: answer.reason ?? null, latencyMs: performance.now() - started });
        throw rejected(subject, answer.reason);
      }
    }
    const [hook] = await this.tx(ctx, (m): Promise<OrderHookRow[]> =>
      m.query(`SELECT url, timeout_ms AS "timeoutMs", failure_policy AS "failurePolicy" FROM ${this.hooks} WHERE event = $1`, [subject.event]),
    );
    if (!hook) return;
    const outcome = await this.call(hook, subject);
    await this.record(ctx, subject, outcome);
    if (!outcome.allowed) throw rejected(subject, outcome.reason ?? undefined, outcome.policyApplied);
  }

  private async call(hook: OrderHookRow, subject: TransitionSubject) {
    const started = performance.now();
    const fallback = (why: string) => ({ decidedBy: hook.url, allowed: hook.failurePolicy === 'OPEN', policyApplied: hook.failurePolicy, reason: why, latencyMs: performance.now() - started });
    try {
      // Checked again per call, as outbound webhooks are: DNS may have changed since the hook was set.
      const url = this.guard.checkUrl(hook.url);
      const target = await this.guard.resolve(url);
      const body = JSON.stringify({ transition: subject.event, ...subject });
      const result = await postJson({ url, ...target, headers: {}, body, timeoutMs: hook.timeoutMs, maxResponseBytes: 4_096 });
      if (result.error) return fallback(result.error);
      if (result.status === null || result.status < 200 || result.status >= 300) return fallback(`HTTP ${result.status}`);
      const answer = JSON.parse(result.body) as { allow?: unknown; reason?: unknown };
      if (typeof answer.allow !== 'boolean') return fallback('the answer has no boolean "allow"');
      return { decidedBy: hook.url, allowed: answer.allow, policyApplied: null, reason: typeof answer.reason === 'string' ? answer.reason.slice(0, 500) : null, latencyMs: result.latencyMs };
    } catch (error) {
      return fallback(error instanceof TargetRefused ? `${error.code}: ${error.message}` : `invalid answer: ${String(error)}`);
    }
  }

  private record(ctx: SubgraphContext, subject: TransitionSubject, outcome: { decidedBy: string; allowed: boolean; policyApplied: string | null; reason: string | null; latencyMs: number }) {
    return this.tx(ctx, (m, tenantId) =>
      m.query(
        `INSERT INTO ${this.decisionsTable} (id, tenant_id, event, order_id, decided_by, allowed, policy_applied, reason, latency_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [randomUUID(), tenantId, subject.event, subject.orderId, outcome.decidedBy, outcome.allowed, outcome.policyApplied, outcome.reason, Math.round(outcome.latencyMs)],
      ),
    );
  }
}

function rejected(subject: TransitionSubject, reason?: string, policyApplied?: string | null) {
  const why = reason ? `: ${reason}` : '';
  return appError('ORDER_HOOK_REJECTED', `The merchant's check rejected "${subject.event}"${why}.`, { event: subject.event, policyApplied: policyApplied ?? null });
}
