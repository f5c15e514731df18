import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/** What one attempt got back: a status (any, 3xx included: redirects are not followed) or an error. */
export interface AttemptResult {
  status: number | null;
  /** The response body's first bytes (at most `maxResponseBytes`). */
  body: string;
  latencyMs: number;
  error: string | null;
  /** `Retry-After` in seconds, when the receiver sent one. */
  retryAfterSeconds: number | null;
}

/**
 * POSTs one webhook to `url`, connecting only to `address` (checked by the target policy just
 * before; the name is not resolved again, so DNS cannot swap it for a private one in between).
 * The whole attempt has `timeoutMs`; the body read stops at `maxResponseBytes`.
 */
export function postJson(options: {
  url: URL;
  address: string;
  family: 4 | 6;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  maxResponseBytes: number;
}): Promise<AttemptResult> {
  const started = performance.now();
  const { url, address, family } = options;
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<AttemptResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, latencyMs: Math.round(performance.now() - started) });
    };
    const request = client.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        lookup: pinned,
        agent: false,
        headers: { ...options.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body), 'user-agent': 'commerce-webhooks/1' },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          const retryAfter = Number(response.headers['retry-after']);
          finish({
            status: response.statusCode ?? null,
            body: Buffer.concat(chunks).subarray(0, options.maxResponseBytes).toString('utf8'),
            error: null,
            retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null,
          });
        };
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          // Enough read: what follows is not kept, and a receiver streaming forever is cut off.
          if (size >= options.maxResponseBytes) {
            done();
            response.destroy();
          }
        });
        response.on('end', done);
        response.on('error', (error) => finish({ status: response.statusCode ?? null, body: '', error: error.message, retryAfterSeconds: null }));
      },
    );
    const timer = setTimeout(() => {
      finish({ status: null, body: '', error: `timed out after ${options.timeoutMs} ms`, retryAfterSeconds: null });
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error) => finish({ status: null, body: '', error: error.message, retryAfterSeconds: null }));
    request.end(options.body);
  });
}
