import { GraphQLError } from 'graphql';

/**
 * Every error code a client can receive, with what it means. The README's table is this registry.
 */
export const ErrorCodes = {
  BAD_USER_INPUT: 'The input is malformed or breaks a rule (non-positive quantity, bad amount, unknown currency, a NUL or a value past its bound in docs/limits.md).',
  NOT_FOUND: 'The sku, store, product, order or category does not exist in this tenant.',
  UNAUTHENTICATED: 'No tenant could be resolved from the request (unknown host or tenant id).',
  FORBIDDEN: 'The caller may not do this.',
  INSUFFICIENT_STOCK: 'Not enough available stock: the movement or reservation would take it below zero.',
  RESERVATION_NOT_ACTIVE: 'The reservation was already released, committed or expired.',
  INVALID_TRANSITION: 'The order (or transfer) is in a state from which that event is not allowed; the message names both.',
  IDEMPOTENCY_KEY_REUSED: 'The idempotency key was already used with a different payload.',
  OPERATION_LIMIT_EXCEEDED: 'The operation is too deep, too costly, or has too many aliases, directives or tokens; or one socket (or graphql-sse event stream) runs too many operations.',
  RATE_LIMITED: 'Too many requests from this API key, token or client this minute, or too many failed authentications from this client address; `Retry-After` says when to retry. `customerLogin` answers it after 5 failed logins of one email within 15 minutes (`extensions.retryAfterSeconds`).',
  LIVE_UPDATES_INTERRUPTED: 'Sent in a subscription payload: the event bus is unreachable, so no live updates arrive for now; the subscription stays open and every key\'s current state follows when they resume.',
  COUPON_EXHAUSTED: 'A coupon (or a promotion with a usage limit) has no uses left: claimQuote refused the quote and counted nothing; `extensions.couponCode` names it. Ask again with `dropExhaustedCoupons: true` to be priced without it.',
  PAYMENT_DECLINED: 'checkout: the payment provider declined the card (`extensions.reason`: `card_declined`, `insufficient_funds`); the order (`extensions.orderId`) is cancelled, its stock released, nothing captured, and the cart is open again.',
  REFUND_EXCEEDS_CAPTURED: 'refundOrder: the amount is more than what was captured and not yet refunded (`extensions.refundable`); nothing was refunded.',
  QUOTE_INVALID: 'The quote token was altered, is not a quote, belongs to another tenant or store, or was already charged by another order; nothing was placed.',
  QUOTE_REQUIRED: 'placeOrder or checkout without a quoteToken (every order is charged a pricing quote: price its lines with `quote` — for a cart, its `quote { token }` — or `claimQuote` when a coupon or limited promotion applies, and pass the token); nothing was placed.',
  QUOTE_EXPIRED: 'The quote is past its `expiresAt` (15 minutes after it was made); nothing was placed. Ask for a new quote.',
  MODIFIERS_INVALID: 'An order line\'s modifiers do not fit its item\'s modifier groups (too few or too many of a group, not one of its modifiers, chosen twice, or unpriced in the store); nothing was placed.',
  OUTSIDE_AVAILABILITY_WINDOW: 'A menu item outside its availability windows in the store (breakfast only until 11:00); `extensions.sku`, `timeZone` and `windows` say when it is orderable. Nothing was placed.',
  WEBHOOK_OUT_OF_WINDOW: 'A webhook delivery whose source time is older than the window (WEBHOOK_MAX_AGE_HOURS) or ahead of the clock; nothing was stored (HTTP 422).',
  WEBHOOK_URL_INVALID: 'A webhook subscription URL that is not an absolute http(s) URL, carries credentials, or is plain http in production (NODE_ENV=production); `extensions.field` is `url`.',
  WEBHOOK_TARGET_FORBIDDEN: 'A webhook subscription URL whose host is, or resolves to, a private, loopback, link-local or reserved address (or does not resolve); allowed only by WEBHOOK_ALLOWED_CIDRS.',
  ORDER_HOOK_REJECTED: 'A merchant\'s decision hook (or an in-process plug-in) rejected the order transition, or could not answer in time and its failure policy is CLOSED; `extensions.event` names the transition, `extensions.policyApplied` is set when the policy decided. Nothing changed.',
  QUERY_TIMEOUT: 'A database statement ran past the statement timeout (DB_STATEMENT_TIMEOUT_MS, default 5 s) and was cancelled; its transaction changed nothing. `extensions.retryable` is true: retry, or narrow the query.',
  SERVICE_UNAVAILABLE: 'A subgraph (or the tenant directory) could not be reached; its fields are null, the rest arrives.',
  PERSISTED_QUERY_NOT_FOUND: 'Automatic persisted queries: this tenant has no document with that sha256Hash (yet); send the query with its hash once to register it.',
  PERSISTED_QUERY_NOT_SUPPORTED: 'Automatic persisted queries: an extensions.persistedQuery version other than 1.',
  PERSISTED_DOCUMENT_REQUIRED: 'Trusted documents: the API key runs only published persisted documents (`persistedDocumentsOnly`); send `documentId` (or the APQ sha256Hash) of one, not a query (HTTP 400).',
  PERSISTED_DOCUMENT_NOT_FOUND: 'Trusted documents: the tenant published no document with that `documentId` (or, for a persistedDocumentsOnly key, that sha256Hash); publish it with publishPersistedDocuments (HTTP 400).',
  CSRF_REFUSED: 'A POST a form on another site could send (no content type, or text/plain, form or multipart) without an x-graphql-csrf header: nothing ran (HTTP 403).',
  INTERNAL_SERVER_ERROR: 'An unexpected failure; details are in the server log, never in the response.',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** An error the client is meant to see, with a stable `extensions.code`. */
export function appError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export const badInput = (message: string, field?: string) =>
  appError('BAD_USER_INPUT', message, field ? { field } : {});
export const notFound = (message: string) => appError('NOT_FOUND', message);

/** True for errors that carry one of our codes and so may reach the client as they are. */
export function isAppError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError && typeof error.extensions?.code === 'string';
}
