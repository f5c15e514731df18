import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { limitsTableRows } from '../../scripts/limits-table.js';
import { WS_LIMITS } from '../../gateway/src/subscriptions/graphql-ws-protocol.js';
import { MAX_LIST_ITEMS, MAX_QUANTITY, MAX_STOCK_LEVEL, MAX_STRING_LENGTH } from '../../lib/input-bounds.js';
import { MAX_AMOUNT_WHOLE_DIGITS } from '../../lib/money.js';

describe('docs/limits.md matches the code', () => {
  it('lists every argument and input field a client sends with the bound lib/input-bounds.ts applies', () => {
    const documented = readFileSync(join(__dirname, '..', '..', 'docs/limits.md'), 'utf8')
      .split('\n')
      .filter((line) => /^\| `([A-Za-z_]+\.|@[a-z]+\()[^`]+` \| `/.test(line))
      .sort();
    expect(documented).toEqual(limitsTableRows());
  });

  it('states the socket, quantity, level and amount bounds the code applies', () => {
    const limits = readFileSync(join(__dirname, '..', '..', 'docs/limits.md'), 'utf8');
    const fmt = (n: number) => n.toLocaleString('en-US');
    const stated = [
      `| ${WS_LIMITS.maxPayloadBytes / 1024 / 1024} MiB, as over HTTP |`,
      `| ${WS_LIMITS.maxInitBytes / 1024} KiB |`,
      `| ${WS_LIMITS.maxSubscriptionsPerSocket} |`,
      `(${MAX_STRING_LENGTH} unless the table\nsays otherwise)`,
      `holds at most ${MAX_LIST_ITEMS} items unless`,
      `±${fmt(MAX_QUANTITY)}`,
      `holds at most\n  ${fmt(MAX_STOCK_LEVEL)} units`,
      `at most ${MAX_AMOUNT_WHOLE_DIGITS} digits before the point`,
    ];
    expect(stated.filter((text) => !limits.includes(text))).toEqual([]);
  });
});
