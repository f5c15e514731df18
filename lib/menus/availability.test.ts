import { isTimeZone, isWithinWindows, minutesOf } from './availability.js';

describe('availability windows', () => {
  const at = (iso: string) => new Date(iso);

  it('reads local time in the store zone, from inclusive and to exclusive', () => {
    const breakfast = [{ from: '07:00', to: '11:00' }];
    // 06:30 UTC is 07:30 in Berlin in winter (UTC+1).
    expect(isWithinWindows(breakfast, 'Europe/Berlin', at('2026-01-15T06:30:00Z'))).toBe(true);
    expect(isWithinWindows(breakfast, 'UTC', at('2026-01-15T06:30:00Z'))).toBe(false);
    expect(isWithinWindows(breakfast, 'UTC', at('2026-01-15T07:00:00Z'))).toBe(true);
    expect(isWithinWindows(breakfast, 'UTC', at('2026-01-15T11:00:00Z'))).toBe(false);
  });

  it('runs a window whose end is before its start over midnight; no window is always open', () => {
    const late = [{ from: '22:00', to: '02:00' }];
    expect(isWithinWindows(late, 'UTC', at('2026-01-15T23:30:00Z'))).toBe(true);
    expect(isWithinWindows(late, 'UTC', at('2026-01-16T01:59:00Z'))).toBe(true);
    expect(isWithinWindows(late, 'UTC', at('2026-01-16T12:00:00Z'))).toBe(false);
    expect(isWithinWindows([], 'UTC', at('2026-01-16T12:00:00Z'))).toBe(true);
  });

  it('accepts HH:MM and IANA zones only', () => {
    expect([minutesOf('07:30'), minutesOf('24:00'), minutesOf('7:30')]).toEqual([450, null, null]);
    expect([isTimeZone('Asia/Kolkata'), isTimeZone('Mars/Olympus')]).toEqual([true, false]);
  });
});
