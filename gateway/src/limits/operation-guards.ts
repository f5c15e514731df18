import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorConfig } from '@escape.tech/graphql-armor-types';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { operationLimits } from './operation-limits.js';
import { usePageSizeBounds } from './use-page-size-bounds.js';
import { useErrorCodes } from './use-error-codes.js';
import { useInputBounds } from './use-input-bounds.js';

/** What every operation passes before it runs, in this order. */
export function operationGuards(options: { armor?: GraphQLArmorConfig; production?: boolean } = {}): object[] {
  return [
    useErrorCodes(),
    // A literal page size out of bounds is refused before the cost limit, which multiplies by it.
    usePageSizeBounds(),
    // Every argument within its documented bound (docs/limits.md) before anything runs.
    useInputBounds(),
    ...new EnvelopArmor(operationLimits(options.armor, options.production)).protect().plugins,
    // Only requests a browser would preflight: no form posts or plain GETs from other sites.
    useCSRFPrevention({ requestHeaders: ['x-graphql-csrf', 'apollo-require-preflight'] }),
  ];
}
