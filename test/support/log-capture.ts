import { Writable } from 'node:stream';

/** A pino destination that keeps every JSON line written to it, as text and parsed. */
export function captureLogLines(): { destination: Writable; lines: Record<string, any>[]; raw: string[] } {
  const lines: Record<string, any>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { destination, lines, raw };
}
