import { badInput } from './errors.js';

/**
 * The bounds of everything a client sends, in one table (docs/limits.md is this table; a test
 * keeps them in step). Keys are schema coordinates: `Input.field` for an input field,
 * `Type.field(arg:)` for an argument. A string or ID without an entry may be `MAX_STRING_LENGTH`
 * long, a list `MAX_LIST_ITEMS` long; an Int without an entry has GraphQL's 32-bit range.
 * No string anywhere may contain U+0000 (PostgreSQL cannot store it in text).
 */
export const MAX_STRING_LENGTH = 255;
export const MAX_LIST_ITEMS = 100;
/** The largest quantity one movement, reservation, transfer or order line may move. */
export const MAX_QUANTITY = 1_000_000;
/** The most units one stock level may count (the columns are int4: 2,147,483,647). */
export const MAX_STOCK_LEVEL = 1_000_000_000;

export const INPUT_BOUNDS = {
  /** Longest string (UTF-16 code units), where the default does not fit. */
  maxLength: {
    'Mutation.importCatalogFeed(csv:)': 1_048_576,
    'UpsertProductInput.description': 10_000,
    'SaveProductDraftInput.description': 10_000,
    /** An ISO 8601 time. */
    'Mutation.publishProduct(at:)': 64,
    'Product.orderable(at:)': 64,
    /** HH:MM, an IANA zone name. */
    'AvailabilityWindowInput.from': 5,
    'AvailabilityWindowInput.to': 5,
    'SetAvailabilityWindowsInput.timeZone': 64,
    'CreateStoreInput.timeZone': 64,
    'Mutation.setStoreTimeZone(timeZone:)': 64,
    /** A BCP 47 tag (lib/search-language.ts). */
    'Mutation.setTenantLocale(locale:)': 35,
    'CreateTenantInput.locale': 35,
    'AdjustStockInput.reason': 500,
    /** What a processor's challenge page hands back (test-card: `authenticated`). */
    'CompletePaymentActionInput.actionResult': 200,
    'PlaceOrderInput.quoteToken': 65_536,
    'CheckoutInput.quoteToken': 65_536,
    'QuoteInput.couponCodes': 64,
    'Mutation.applyCouponCode(code:)': 64,
    'Mutation.removeCouponCode(code:)': 64,
    'CreatePromotionInput.couponCode': 64,
    'CreateWebhookSubscriptionInput.url': 2_048,
    'CreateWebhookSubscriptionInput.description': 500,
    'SetOrderHookInput.url': 2_048,
    'Query.search(query:)': 200,
    /** A TITLE-sorted search's cursor carries the title. */
    'Query.search(after:)': 1_024,
    /** ISO 8601 date-times. */
    'AuditLogFilter.from': 64,
    'AuditLogFilter.to': 64,
    'Query.auditLog(after:)': 512,
    /** A persisted document's GraphQL (docs/limits.md: 64 KiB, as APQ keeps). */
    'PersistedDocumentInput.body': 65_536,
    /** Feature flags (docs/flags.md): keys and variant names also have a pattern, checked by lib/flags/definition.ts. */
    'FeatureFlagInput.key': 64,
    'FeatureFlagInput.defaultVariant': 64,
    'FlagVariantInput.name': 64,
    'FlagVariantInput.value': 1_024,
    'FlagRuleInput.variant': 64,
    'Mutation.deleteFeatureFlag(key:)': 64,
    'Query.featureFlagEvaluation(key:)': 64,
    /** Labels of incremental delivery (docs/incremental-delivery.md); `@stream`'s keeps the same bound. */
    '@defer(label:)': 100,
    '@stream(label:)': 100,
    /** Catalog attributes, options and media (issue 15). */
    'MediaInput.url': 2_048,
    'DefineAttributeInput.name': 64,
    'ProductOptionInput.name': 64,
  } as Record<string, number>,
  /** Most items in a list, where the default does not fit. */
  maxItems: {
    'Subscription.stockChanged(skus:)': 1_000,
    'Subscription.priceChanged(skus:)': 1_000,
    'SetPriceListPricesInput.prices': 1_000,
    'PromotionTargetInput.skus': 1_000,
    'QuoteInput.couponCodes': 10,
    'CreateShippingMethodInput.bands': 20,
    'EnrichmentRulesInput.brands': 1_000,
    /** One publish: the documents of one app's manifest. */
    'PublishPersistedDocumentsInput.operations': 1_000,
    /** Menus (decision 0036): groups of one product, modifiers of one group or one order line. */
    'Mutation.setModifierGroups(groups:)': 20,
    'ModifierGroupInput.modifiers': 20,
    'OrderLineInput.modifiers': 20,
    'CartLineInput.modifiers': 20,
    'SetAvailabilityWindowsInput.windows': 10,
    'FeatureFlagInput.variants': 20,
    'FeatureFlagInput.rules': 20,
    'FlagRuleInput.roles': 10,
    'UpsertProductInput.options': 10,
    'UpsertProductInput.media': 20,
    'VariantInput.media': 20,
  } as Record<string, number>,
  /** Int ranges (inclusive) narrower than GraphQL's. */
  intRange: {
    'ReceiveStockInput.quantity': [1, MAX_QUANTITY],
    'ReserveStockInput.quantity': [1, MAX_QUANTITY],
    'TransferStockInput.quantity': [1, MAX_QUANTITY],
    'OrderLineInput.quantity': [1, MAX_QUANTITY],
    'ModifierGroupInput.minSelections': [0, 20],
    'ModifierGroupInput.maxSelections': [1, 20],
    'QuoteLineInput.quantity': [1, MAX_QUANTITY],
    'CartLineInput.quantity': [1, MAX_QUANTITY],
    'ShipmentLineInput.quantity': [1, MAX_QUANTITY],
    'ReturnLineInput.quantity': [1, MAX_QUANTITY],
    'Customer.orders(first:)': [1, 100],
    'PriceListPriceInput.minQuantity': [1, MAX_QUANTITY],
    'CreatePromotionInput.minQuantity': [1, MAX_QUANTITY],
    'CreatePromotionInput.usageLimit': [1, 1_000_000_000],
    'CreatePromotionInput.perCustomerLimit': [1, 1_000_000_000],
    'CreatePromotionInput.priority': [-1_000_000, 1_000_000],
    'CreatePriceListInput.priority': [-1_000_000, 1_000_000],
    'AdjustStockInput.delta': [-MAX_QUANTITY, MAX_QUANTITY],
    'ReserveStockInput.ttlSeconds': [1, 2_592_000],
    'Query.products(first:)': [1, 100],
    'Product.versions(first:)': [1, 100],
    'Query.productVersion(version:)': [1, 2 ** 31 - 1],
    'Mutation.revertProduct(version:)': [1, 2 ** 31 - 1],
    'Query.search(first:)': [1, 100],
    'Product.recommendations(first:)': [1, 50],
    'Query.trending(first:)': [1, 50],
    'Query.feedImports(first:)': [1, 100],
    'Query.ingestionEvents(first:)': [1, 100],
    'Query.movements(first:)': [1, 100],
    'Query.orders(first:)': [1, 100],
    'Store.inventory(first:)': [1, 100],
    'FeedImport.errors(first:)': [1, 100],
    'Query.webhookDeliveries(first:)': [1, 100],
    'Query.orderHookDecisions(first:)': [1, 100],
    'Query.auditLog(first:)': [1, 100],
    'SetOrderHookInput.timeoutMs': [100, 10_000],
    'FlagRuleInput.percentage': [0, 100],
    /** Items of a streamed list sent in the first payload (no list a client can ask is longer). */
    '@stream(initialCount:)': [0, MAX_LIST_ITEMS],
  } as Record<string, readonly [number, number]>,
} as const;

export const maxLengthOf = (coordinate: string) => INPUT_BOUNDS.maxLength[coordinate] ?? MAX_STRING_LENGTH;
export const maxItemsOf = (coordinate: string) => INPUT_BOUNDS.maxItems[coordinate] ?? MAX_LIST_ITEMS;
export const intRangeOf = (coordinate: string): readonly [number, number] => INPUT_BOUNDS.intRange[coordinate] ?? [-(2 ** 31), 2 ** 31 - 1];

/** BAD_USER_INPUT when `text` has a NUL or is longer than `maxLength`; `name` says which input. */
export function checkText(text: string, name: string, maxLength: number) {
  if (text.includes('\u0000')) return badInput(`${name} contains a NUL character (U+0000), which is not allowed`, name);
  if (text.length > maxLength) return badInput(`${name} is longer than ${maxLength} characters`, name);
  return undefined;
}

/** BAD_USER_INPUT when `value` is outside `range`. */
export function checkInt(value: number, name: string, [min, max]: readonly [number, number]) {
  return value < min || value > max ? badInput(`${name} must be between ${min} and ${max}`, name) : undefined;
}

/** BAD_USER_INPUT when a list has more than `maxItems` items. */
export function checkItems(items: readonly unknown[], name: string, maxItems: number) {
  return items.length > maxItems ? badInput(`${name} has more than ${maxItems} items`, name) : undefined;
}
