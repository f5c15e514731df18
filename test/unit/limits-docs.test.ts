import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { limitsTableRows } from '../../scripts/limits-table.js';

describe('docs/limits.md matches the code', () => {
  it('lists every argument and input field a client sends with the bound lib/input-bounds.ts applies', () => {
    const documented = readFileSync(join(__dirname, '..', '..', 'docs/limits.md'), 'utf8')
      .split('\n')
      .filter((line) => /^\| `[A-Za-z_]+\.[^`]+` \| `/.test(line))
      .sort();
    expect(documented).toEqual(limitsTableRows());
  });
});
