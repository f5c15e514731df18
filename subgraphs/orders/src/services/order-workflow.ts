import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appError } from '../../../../lib/errors.js';
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
