import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Money } from '../money.js';

/**
 * A quote as pricing signs it and orders charges it: HMAC-SHA256 over the JSON body with a key
 * derived from the secret the gateway and the subgraphs already share (so no new secret to
 * distribute), bound to its tenant and store, valid until `expiresAt`. Orders verifies it and
 * charges exactly these amounts; it never reads pricing's tables.
 */
export interface SignedQuote {
  v: 1;
  /** The quote's id: a claimed quote (coupon uses counted) places at most one order. */
  id: string;
  tenantId: string;
  storeId: string;
  currencyCode: string;
  /** True when pricing counted the quote's coupon and limited promotion uses (`claimQuote`). */
  claimed: boolean;
  /** True when an applied promotion has a coupon or a usage limit: only a claimed quote may then be charged. */
  limited: boolean;
  expiresAt: string;
  lines: { sku: string; quantity: number; unitPrice: string; discount: string; tax: string; total: string }[];
  subtotal: string;
  discountTotal: string;
  taxTotal: string;
  total: string;
  promotionIds: string[];
  /**
   * The coupon codes the quote was asked with (normalised, each once), applied or not: checkout
   * charges a cart's codes only through a quote asked with exactly them. Absent in tokens signed
   * before carts held codes (read as none).
   */
  couponCodes?: string[];
}

export type QuoteTokenProblem = 'MALFORMED' | 'TAMPERED' | 'EXPIRED' | 'OTHER_TENANT';

const b64 = (buf: Buffer) => buf.toString('base64url');
const keyOf = (secret: string) => createHmac('sha256', secret).update('commerce quote token v1').digest();
const mac = (secret: string, body: string) => createHmac('sha256', keyOf(secret)).update(body).digest();

export function signQuote(secret: string, quote: SignedQuote): string {
  const body = b64(Buffer.from(JSON.stringify(quote)));
  return `${body}.${b64(mac(secret, body))}`;
}

/** The quote, or why it cannot be charged. */
export function verifyQuote(secret: string, token: string, tenantId: string, now = new Date()): SignedQuote | QuoteTokenProblem {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return 'MALFORMED';
  const expected = mac(secret, body);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'TAMPERED';
  let quote: SignedQuote;
  try {
    quote = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SignedQuote;
  } catch {
    return 'MALFORMED';
  }
  if (quote.v !== 1) return 'MALFORMED';
  if (quote.tenantId !== tenantId) return 'OTHER_TENANT';
  if (!(new Date(quote.expiresAt) > now)) return 'EXPIRED';
  return quote;
}

export const quoteMoney = (amount: string, currencyCode: string): Money => ({ amount, currencyCode });
