/**
 * Takes the complete server-sent-event blocks off the front of `buffer`, pushes the data of each
 * `next` event (parsed) into `events`, and returns what is left (a block not yet complete).
 */
export function takeNextEvents(buffer: string, events: unknown[]): string {
  let cut: number;
  while ((cut = buffer.indexOf('\n\n')) >= 0) {
    const block = buffer.slice(0, cut);
    buffer = buffer.slice(cut + 2);
    const data = block.split('\n').find((line) => line.startsWith('data:'));
    if (data && block.includes('event: next')) events.push(JSON.parse(data.slice(5)));
  }
  return buffer;
}
