import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** How far a POS/ERP `X-Timestamp` may be from the gateway's clock (replay protection). */
export const TIMESTAMP_WINDOW_SECONDS = 300;

export type Verdict = { ok: true } | { ok: false; reason: string };

const equal = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

/** A base64 HMAC-SHA256 of the raw body in one header (`name` as the sender spells it, for the reason). */
function verifyBodyHmac(name: string, rawBody: Buffer, header: string | undefined, secret: string): Verdict {
  if (!header) return { ok: false, reason: `${name} is missing` };
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return equal(Buffer.from(header.trim(), 'base64'), expected) ? { ok: true } : { ok: false, reason: 'the signature does not match' };
}

/** Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body with the app's secret. */
export const verifyShopify = (rawBody: Buffer, header: string | undefined, secret: string): Verdict => verifyBodyHmac('X-Shopify-Hmac-Sha256', rawBody, header, secret);

/** WooCommerce: `X-WC-Webhook-Signature` is the base64 HMAC-SHA256 of the raw body with the webhook's secret. */
export const verifyWoo = (rawBody: Buffer, header: string | undefined, secret: string): Verdict => verifyBodyHmac('X-WC-Webhook-Signature', rawBody, header, secret);

/**
 * POS and ERP: `X-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` with
 * `X-Timestamp: <unix seconds>` no more than five minutes from now.
 */
export function verifySignedJson(
  rawBody: Buffer,
  timestampHeader: string | undefined,
  signatureHeader: string | undefined,
  secret: string,
  nowMs = Date.now(),
): Verdict {
  if (!timestampHeader || !/^\d{1,12}$/.test(timestampHeader.trim())) return { ok: false, reason: 'X-Timestamp must be unix seconds' };
  if (!signatureHeader) return { ok: false, reason: 'X-Signature is missing' };
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(signatureHeader.trim());
  if (!match) return { ok: false, reason: 'X-Signature must be sha256=<64 hex digits>' };
  const timestamp = timestampHeader.trim();
  const skew = Math.abs(nowMs / 1000 - Number(timestamp));
  if (skew > TIMESTAMP_WINDOW_SECONDS) return { ok: false, reason: `X-Timestamp is more than ${TIMESTAMP_WINDOW_SECONDS} s from now` };
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
  return equal(Buffer.from(match[1]!, 'hex'), expected) ? { ok: true } : { ok: false, reason: 'the signature does not match' };
}

/** What a sender computes: the headers of a signed POS/ERP request (clients, tests, benchmarks). */
export function signJson(rawBody: string | Buffer, secret: string, nowMs = Date.now()): { 'x-timestamp': string; 'x-signature': string } {
  const timestamp = String(Math.floor(nowMs / 1000));
  const signature = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
  return { 'x-timestamp': timestamp, 'x-signature': `sha256=${signature}` };
}

/** What Shopify sends in `X-Shopify-Hmac-Sha256` (and WooCommerce in `X-WC-Webhook-Signature`: the same digest). */
export const signShopify = (rawBody: string | Buffer, secret: string) => createHmac('sha256', secret).update(rawBody).digest('base64');

/** A body's digest: the dedupe key when a source sends no event id. */
export const bodyDigest = (rawBody: Buffer) => `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
