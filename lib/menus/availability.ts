/**
 * Availability windows of menu items (issue 19, decision 0036): the catalog answers `orderable`
 * and orders refuses a line by the same rule, so both read this one function. Times are local
 * wall-clock times `HH:MM` in the store's IANA time zone; a window whose end is before its start
 * runs over midnight (22:00–02:00). An item with no window in a store is always orderable there.
 */
export interface AvailabilityWindow {
  from: string;
  to: string;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes since local midnight of `HH:MM`, or null when it is not such a time. */
export const minutesOf = (time: string): number | null => {
  const match = TIME.exec(time);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
};

/** Whether `timeZone` is an IANA time zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Minutes since midnight at `at` in `timeZone`. */
export function localMinutes(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}

/** Whether `at` falls in one of `windows` (from inclusive, to exclusive); true when there are none. */
export function isWithinWindows(windows: readonly AvailabilityWindow[], timeZone: string, at: Date): boolean {
  if (windows.length === 0) return true;
  const now = localMinutes(at, timeZone);
  return windows.some((w) => {
    const from = minutesOf(w.from)!;
    const to = minutesOf(w.to)!;
    return from <= to ? now >= from && now < to : now >= from || now < to;
  });
}
