import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webcrypto } from 'node:crypto';

/** One request the receiver got. */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** What the receiver answered (0: it never answered). */
  answered: number;
}

/** How the receiver answers a request to `path` (default 200 at once). */
export type Behaviour = (request: Received, index: number) => { status: number; body?: string; headers?: Record<string, string> } | 'hang';

/**
 * A local HTTP receiver for outbound webhooks: records every request, answers as each path's
 * behaviour says (500s, redirects, huge bodies, never).
 */
export async function startWebhookReceiver() {
  const received: Received[] = [];
  const behaviours = new Map<string, Behaviour>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
      const entry: Received = { path, headers, body: Buffer.concat(chunks).toString('utf8'), answered: 0 };
      const index = received.filter((r) => r.path === path).length;
      received.push(entry);
      const behaviour: Behaviour = behaviours.get(path) ?? (() => ({ status: 200 }));
      const answer = behaviour(entry, index);
      if (answer === 'hang') {
        hanging.add(response);
        return;
      }
      entry.answered = answer.status;
      response.writeHead(answer.status, answer.headers ?? {});
      response.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    on(path: string, behaviour: Behaviour) {
      behaviours.set(path, behaviour);
    },
    at: (path: string) => received.filter((r) => r.path === path),
    async stop() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Verifies a Standard Webhooks signature as a receiver would, written from the specification
 * alone (Web Crypto, not the signer's node:crypto code): the secret's base64 part after
 * `whsec_` is the HMAC-SHA256 key, the signed content `id.timestamp.body`, the header a
 * space-separated list of `v1,<base64>`; the timestamp within 5 minutes of now.
 */
export async function verifyStandardWebhook(secret: string, headers: Record<string, string>, body: string): Promise<boolean> {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return false;
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  if (!secret.startsWith('whsec_')) return false;
  const keyBytes = Uint8Array.from(atob(secret.slice(6)), (c) => c.charCodeAt(0));
  const key = await webcrypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const content = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  for (const candidate of signatures.split(' ')) {
    const [version, signature] = candidate.split(',');
    if (version !== 'v1' || !signature) continue;
    const bytes = Uint8Array.from(atob(signature), (c) => c.charCodeAt(0));
    // subtle.verify compares in constant time.
    if (await webcrypto.subtle.verify('HMAC', key, bytes, content)) return true;
  }
  return false;
}
