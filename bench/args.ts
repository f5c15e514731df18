import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * A bench's command line: `node:util`'s parseArgs (strict), plus `--help` / `-h`, which prints the
 * bench's own header comment (the usage line and what it measures) and exits 0. A mistyped or
 * unknown option prints parseArgs' message and a pointer to `--help` and exits 2, instead of a
 * stack trace.
 */
export function benchArgs<T extends { options: Options }>(config: T): ReturnType<typeof parseArgs<T>> {
  const script = process.argv[1] ?? '';
  try {
    const parsed = parseArgs({ options: { ...config.options, help: { type: 'boolean', short: 'h' } } });
    if (parsed.values.help) {
      process.stdout.write(`${usageOf(script)}\n`);
      process.exit(0);
    }
    delete parsed.values.help;
    return parsed as ReturnType<typeof parseArgs<T>>;
  } catch (error) {
    if (!(error instanceof TypeError) || !('code' in error) || !String(error.code).startsWith('ERR_PARSE_ARGS')) throw error;
    process.stderr.write(`${error.message}\n(npm run ${benchName(script)} -- --help lists the options)\n`);
    process.exit(2);
  }
}

/** The first block comment of the script, without its stars. */
export function usageOf(script: string): string {
  const text = readFileSync(script, 'utf8');
  const block = /\/\*\*([\s\S]*?)\*\//.exec(text);
  if (!block) return `${script}: no description`;
  return block[1]!
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

function benchName(script: string): string {
  const name = /([\w-]+)\.ts$/.exec(script)?.[1];
  return name ? `bench:${name === 'pricing' ? 'quote' : name}` : 'bench:…';
}
