import type { IncomingMessage, ServerResponse } from 'node:http';

/** Beyond this many bytes an oversized body is no longer read to its end: the socket is closed. */
export const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads a request body of at most `maxBytes`, with or without a Content-Length (chunked).
 * Resolves to null when it is larger: the rest is read and thrown away (up to `MAX_DRAIN_BYTES`),
 * so that the client, still sending, gets the 413 that follows rather than a connection reset.
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    let size = 0;
    let tooLarge = declared > maxBytes;
    if (declared > MAX_DRAIN_BYTES) {
      req.pause();
      return resolve(null);
    }
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) chunks.push(chunk);
      if (size > MAX_DRAIN_BYTES) {
        req.off('data', onData);
        req.pause();
        resolve(null);
      }
    };
    req.on('data', onData);
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** A plain-HTTP refusal in the shape of the endpoint's answers; the connection is closed after it. */
export function refuseRequest(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), connection: 'close' }).end(json);
}

/** Writes a fetch Response to a node response as it streams (a subscription over server-sent events may be the answer). */
export async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  const reader = response.body?.getReader();
  // The client left: stop the stream (and whatever feeds it).
  res.on('close', () => void reader?.cancel().catch(() => undefined));
  try {
    for (let part = await reader?.read(); part && !part.done; part = await reader!.read()) res.write(part.value);
    res.end();
  } catch {
    res.destroy();
  }
}
