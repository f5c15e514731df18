import type { DataSource } from 'typeorm';
import { openServiceDatabase } from '../../../../lib/db/data-source.js';
import { OutboxEvent } from '../../../../lib/events/outbox-event.entity.js';
import { ProcessedEvent } from '../../../../lib/events/processed-event.entity.js';
import { OrderLineEntity } from './entities/order-line.entity.js';
import { OrderTransitionEntity } from './entities/order-transition.entity.js';
import { OrderEntity } from './entities/order.entity.js';
import { Initial1732300000000 } from './migrations/1732300000000-initial.js';
import { RowLevelSecurity1732500000000 } from './migrations/1732500000000-row-level-security.js';
import { Workflow1732600000000 } from './migrations/1732600000000-workflow.js';
import { OrderQuotes1733600000000 } from './migrations/1733600000000-quotes.js';
import { Checkout1735000000000 } from './migrations/1735000000000-checkout.js';
import { OrderHooks1736000000000 } from './migrations/1736000000000-order-hooks.js';
import { Payments1739017000000 } from './migrations/1739017000000-payments.js';
import { Shipments1739017000001 } from './migrations/1739017000001-shipments.js';
import { Returns1739017000002 } from './migrations/1739017000002-returns.js';
import { AuditLog1740018000000 } from './migrations/1740018000000-audit-log.js';
import { Modifiers1740019600000 } from './migrations/1740019600000-modifiers.js';
import { Availability1740019600001 } from './migrations/1740019600001-availability.js';
import { ReturnCancel1740024000000 } from './migrations/1740024000000-return-cancel.js';
import { CartLineModifiers1740025000001 } from './migrations/1740025000001-cart-line-modifiers.js';
import { StoreTimeZones1740025000004 } from './migrations/1740025000004-store-time-zones.js';
import { CartCoupons1740028000000 } from './migrations/1740028000000-cart-coupons.js';
import { FeatureFlagCopy1740018100000 } from './migrations/1740018100000-feature-flag-copy.js';

export function openOrdersDatabase(url: string, schema = 'orders'): Promise<DataSource> {
  return openServiceDatabase({
    url,
    schema,
    entities: [OrderEntity, OrderLineEntity, OrderTransitionEntity, OutboxEvent, ProcessedEvent],
    migrations: [Initial1732300000000, RowLevelSecurity1732500000000, Workflow1732600000000, OrderQuotes1733600000000, Checkout1735000000000, OrderHooks1736000000000, Payments1739017000000, Shipments1739017000001, Returns1739017000002, AuditLog1740018000000, FeatureFlagCopy1740018100000, Modifiers1740019600000, Availability1740019600001, ReturnCancel1740024000000, CartLineModifiers1740025000001, StoreTimeZones1740025000004, CartCoupons1740028000000],
  });
}
