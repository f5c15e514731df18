import { EVENT_TYPES, eventInfo } from '../../lib/events/event-map.js';
import { EventTooNewError, eventReader, missingUpcasters, readEvent, UPCASTERS } from '../../lib/events/upcasters.js';

const envelope = (type: string, version: number, payload: Record<string, unknown>) => ({
  eventId: '00000000-0000-4000-8000-000000000001',
  type,
  occurredAt: '2026-01-01T00:00:00.000Z',
  tenantId: '00000000-0000-4000-8000-000000000002',
  source: 'tenant',
  version,
  payload,
});

describe('upcasters', () => {
  it('cover every older version of every type in the event map (and name no type outside it)', () => {
    expect(missingUpcasters()).toEqual([]);
    for (const type of Object.keys(UPCASTERS)) expect(EVENT_TYPES).toContain(type);
  });

  it('hand the current version through unchanged, and refuse a newer one with its type, id and versions', () => {
    const current = envelope('tenant.store.created', eventInfo('tenant.store.created')!.version, { id: 'x', code: 'S1', name: 'n', kind: 'STORE' });
    expect(readEvent(current)).toBe(current);
    const newer = { ...current, version: current.version + 1 };
    expect(() => readEvent(newer)).toThrow(EventTooNewError);
    expect(() => readEvent(newer)).toThrow(`event tenant.store.created ${current.eventId} from tenant is version ${newer.version}, this consumer reads it up to version ${current.version}`);
  });

  it('apply each step in turn from an old version, and fail on a missing step', () => {
    const read = eventReader({
      versionOf: () => 3,
      upcasters: { 'x.y.z': { 1: ({ a, ...rest }) => ({ ...rest, b: a }), 2: ({ b, ...rest }) => ({ ...rest, c: [b] }) } },
    });
    expect(read(envelope('x.y.z', 1, { a: 7, keep: true }))).toEqual(expect.objectContaining({ version: 3, payload: { keep: true, c: [7] } }));
    expect(read(envelope('x.y.z', 2, { b: 8 }))).toEqual(expect.objectContaining({ version: 3, payload: { c: [8] } }));
    expect(() => eventReader({ versionOf: () => 2, upcasters: {} })(envelope('x.y.z', 1, {}))).toThrow('no upcaster from version 1 to 2');
  });
});
