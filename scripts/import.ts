/**
 * `npm run import -- feed.csv [--gateway http://127.0.0.1:4000] [--key <admin API key>]`
 *
 * Streams a catalog feed to the gateway's /imports/catalog (never whole in memory), then follows
 * the import with `feedImport(id)` and a progress bar until its prices and stock are visible too
 * (PROPAGATING, then COMPLETED), and prints the review queue's first rows.
 * The key defaults to COMMERCE_API_KEY, then to the demo admin key `npm start` wrote.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { Transform } from 'node:stream';
import { demoKeysFile, readDemoKeys } from './demo-keys.js';

/** What `feedImport(id)` tells about an import (the fields PROGRESS asks for). */
export interface FeedProgress {
  status: string;
  total: number | null;
  processed: number;
  imported: number;
  failed: number;
  error: string | null;
  errors: { line: number; reason: string }[];
  effects: { prices: number; pricesApplied: number; stock: number; stockApplied: number; stockRefused: number };
}
import { graphqlOk } from './graphql-request.js';

const PROGRESS = `query ($id: ID!) {
  feedImport(id: $id) {
    status total processed imported failed error errors(first: 10) { line reason }
    effects { prices pricesApplied stock stockApplied stockRefused }
  }
}`;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function defaultKey(): string | undefined {
  if (process.env.COMMERCE_API_KEY) return process.env.COMMERCE_API_KEY;
  return readDemoKeys(demoKeysFile())?.admin;
}

function bar(label: string, done: number, total: number, suffix: string): void {
  const width = 30;
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${suffix}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
  else console.log(line);
}

async function upload(file: string, gateway: string, key: string): Promise<{ id: string; total: number }> {
  const size = statSync(file).size;
  let sent = 0;
  let lastShown = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      if (sent === size || Date.now() - lastShown > 200 || !process.stdout.isTTY) {
        lastShown = Date.now();
        if (process.stdout.isTTY || sent === size) bar('upload ', sent, size, `${(sent / 1048576).toFixed(1)} / ${(size / 1048576).toFixed(1)} MiB`);
      }
      callback(null, chunk);
    },
  });
  return new Promise((resolve, reject) => {
    const req = request(new URL('/imports/catalog', gateway), {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'content-length': String(size), authorization: `Bearer ${key}` },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        if (process.stdout.isTTY) process.stdout.write('\n');
        const body = JSON.parse(text || '{}') as { id?: string; total?: number; error?: { code: string; message: string } };
        if (res.statusCode === 202 && body.id) resolve({ id: body.id, total: body.total ?? 0 });
        else reject(new Error(`${res.statusCode}: ${body.error ? `${body.error.code}: ${body.error.message}` : text}`));
      });
    });
    req.on('error', reject);
    createReadStream(file).pipe(counter).pipe(req);
  });
}

async function main(): Promise<void> {
  const file = process.argv.slice(2).find((arg, i, args) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (!file || !existsSync(file)) {
    console.error('usage: npm run import -- <feed.csv> [--gateway http://127.0.0.1:4000] [--key <admin API key>]');
    process.exit(2);
  }
  const gateway = option('gateway') ?? process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000';
  const key = option('key') ?? defaultKey();
  if (!key) {
    console.error('no API key: pass --key, set COMMERCE_API_KEY, or run `npm start` once for the demo keys');
    process.exit(2);
  }
  const started = Date.now();
  const { id, total } = await upload(file, gateway, key);
  console.log(`import ${id} queued (${total} rows)`);
  for (;;) {
    const { feedImport: feed } = await graphqlOk<{ feedImport: FeedProgress }>(new URL('/graphql', gateway).toString(), PROGRESS, { id }, { authorization: `Bearer ${key}` });
    const { effects } = feed;
    if (feed.status === 'PROPAGATING') {
      // The catalog's part is done; prices and stock are still being applied by pricing and inventory.
      const done = effects.pricesApplied + effects.stockApplied + effects.stockRefused;
      bar('propagating', done, effects.prices + effects.stock, `prices ${effects.pricesApplied}/${effects.prices}, stock ${effects.stockApplied + effects.stockRefused}/${effects.stock}`);
    } else bar('import ', feed.processed, feed.total ?? total, `${feed.processed}/${feed.total ?? total} rows, ${feed.failed} to review`);
    if (feed.status === 'COMPLETED' || feed.status === 'FAILED') {
      if (process.stdout.isTTY) process.stdout.write('\n');
      const seconds = (Date.now() - started) / 1000;
      console.log(`${feed.status}: ${feed.imported} imported, ${feed.failed} to review, in ${seconds.toFixed(1)} s${feed.error ? ` — ${feed.error}` : ''}`);
      if (feed.status === 'COMPLETED') {
        const refused = effects.stockRefused ? ` (${effects.stockRefused} left unchanged: below what is reserved)` : '';
        console.log(`  visible: ${effects.pricesApplied} price rows, ${effects.stockApplied} stock levels${refused}`);
      }
      for (const row of feed.errors) console.log(`  line ${row.line}: ${row.reason}`);
      if (feed.failed > feed.errors.length) console.log(`  … and ${feed.failed - feed.errors.length} more: feedImport(id: "${id}") { errors(afterLine: …) }`);
      process.exit(feed.status === 'COMPLETED' ? 0 : 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

main().catch((error: unknown) => {
  console.error(`import failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
