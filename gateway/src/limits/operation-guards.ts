import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorConfig } from '@escape.tech/graphql-armor-types';
import { operationLimits } from './operation-limits.js';
import { usePageSizeBounds } from './use-page-size-bounds.js';
import { useErrorCodes } from './use-error-codes.js';
import { useInputBounds } from './use-input-bounds.js';
import { useCsrfGuard } from './use-csrf-guard.js';
import { useVariableCoercion } from './use-variable-coercion.js';

/** What every operation passes before it runs, in this order. */
export function operationGuards(options: { armor?: GraphQLArmorConfig; production?: boolean } = {}): object[] {
  return [
    useErrorCodes(),
    // Variables of the declared types first: every later guard reads them.
    useVariableCoercion(),
    // A literal page size out of bounds is refused before the cost limit, which multiplies by it.
    usePageSizeBounds(),
    // Every argument within its documented bound (docs/limits.md) before anything runs.
    useInputBounds(),
    ...new EnvelopArmor(operationLimits(options.armor, options.production)).protect().plugins,
    // No POST another site's form could send (GETs run as clients send them: decision 0026).
    useCsrfGuard(),
  ];
}
