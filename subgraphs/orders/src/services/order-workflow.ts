import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appError } from '../../../../lib/errors.js';
import type { Flags } from '../../../../lib/flags/provider.js';
import { flagContext } from '../../../../lib/flags/provider.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import type { OrderStatus } from '../data/entities/order.entity.js';

/** A versioned order workflow, loaded from `workflows/order.vN.json`: data, not code. */
export interface WorkflowDefinition {
  name: string;
  version: number;
  description: string;
  initial: OrderStatus;
  transitions: { from: OrderStatus; event: string; to: OrderStatus }[];
}

export class OrderWorkflows {
  private readonly byVersion = new Map<number, WorkflowDefinition>();
  /** The version new orders start on. */
  readonly current: number;

  constructor(definitions: WorkflowDefinition[], current?: number) {
    for (const definition of definitions) this.byVersion.set(definition.version, definition);
    this.current = current ?? Math.max(...this.byVersion.keys());
    if (!this.byVersion.has(this.current)) throw new Error(`no order workflow version ${this.current}`);
  }

  /** The definitions shipped in `workflows/`. */
  static load(current?: number): OrderWorkflows {
    const folder = join(__dirname, '..', 'workflows');
    const definitions = readdirSync(folder)
      .filter((file) => /^order\.v\d+\.json$/.test(file))
      .map((file) => JSON.parse(readFileSync(join(folder, file), 'utf8')) as WorkflowDefinition);
    return new OrderWorkflows(definitions, current);
  }

  /** True when `version` is shipped in `workflows/`. */
  has(version: number): boolean {
    return this.byVersion.has(version);
  }

  definition(version: number): WorkflowDefinition {
    const definition = this.byVersion.get(version);
    if (!definition) throw new Error(`no order workflow version ${version}`);
    return definition;
  }

  /** Where `event` takes an order in `from` under `version`; INVALID_TRANSITION when it may not. */
  next(version: number, from: OrderStatus, event: string): OrderStatus {
    const transition = this.definition(version).transitions.find((t) => t.from === from && t.event === event);
    if (!transition) {
      throw appError('INVALID_TRANSITION', `An order in ${from} does not accept "${event}" (order workflow v${version}).`, {
        status: from,
        event,
        workflowVersion: version,
      });
    }
    return transition.to;
  }
}

/** The flag that chooses, per tenant, the workflow version a new order starts on (docs/flags.md). */
export const ORDER_WORKFLOW_FLAG = 'order-workflow-version';

/** Where a new order is placed, for the flag's rules: the caller, the store, and the order's id (what a percentage is stable for). */
export type WorkflowChoice = (ctx: SubgraphContext, storeId: string, orderId: string) => Promise<number>;

/**
 * The version a new order starts on: the tenant's `order-workflow-version` flag, evaluated for the
 * order (its id is the targeting key, so a 10 % canary puts one order in ten on the new version),
 * its store and the caller's roles; `workflows.current` (ORDER_WORKFLOW_VERSION, else the latest)
 * when the tenant has no such flag, it is off, or it names a version that is not shipped.
 */
export function chooseWorkflowVersion(flags: Pick<Flags, 'client'>, workflows: OrderWorkflows, log: (message: string) => void): WorkflowChoice {
  return async (ctx, storeId, orderId) => {
    const version = await flags.client.getNumberValue(ORDER_WORKFLOW_FLAG, workflows.current, flagContext(ctx, { storeId, targetingKey: orderId }));
    if (workflows.has(version)) return version;
    log(`orders: flag ${ORDER_WORKFLOW_FLAG} of tenant ${ctx.tenantId} names workflow version ${version}, which is not shipped; v${workflows.current} is used`);
    return workflows.current;
  };
}
