import { describe, expect, it } from 'vitest';
import {
  decideClaims,
  parseLedger,
  pruneReservations,
  serializeLedger,
  type CountView,
  type Reservation,
} from './quota-ledger.ts';

const times = { ttlMs: 90_000, settleMs: 15_000 };
const NOW = Date.parse('2026-12-04T12:00:00Z');

/** visible: keys the informer shows; seenUids: reserved objects this replica has seen */
function view(visible: string[] = [], seenUids: string[] = []): CountView {
  return { visible: new Set(visible), seen: (_key, r) => !!r.uid && seenUids.includes(r.uid) };
}

const claim = (key: string, max: number, dryRun = false) => ({ key, uid: `uid-${key}`, max, dryRun });

describe('reservation ledger', () => {
  it('round-trips through ConfigMap data, one reservation a line', () => {
    const ledger = new Map([
      [
        'maxRoutes',
        new Map<string, Reservation>([
          ['HTTPRoute/acme-web/b', { uid: 'u2', at: NOW }],
          ['GRPCRoute/acme-api/a', { at: NOW - 1000 }],
        ]),
      ],
    ]);
    const data = serializeLedger(ledger);
    expect(data.maxRoutes).toBe(
      '{\n"GRPCRoute/acme-api/a": {"at":"2026-12-04T11:59:59.000Z"},\n' +
        '"HTTPRoute/acme-web/b": {"uid":"u2","at":"2026-12-04T12:00:00.000Z"}\n}\n',
    );
    expect(parseLedger(data)).toEqual({ ledger, malformed: [] });
  });

  it('starts a field that someone broke empty, and says which', () => {
    const parsed = parseLedger({
      maxRoutes: '{"HTTPRoute/a/b": {"at": "not a time"}}',
      maxOther: '[1]',
      fine: '{}',
    });
    expect(parsed.malformed).toEqual(['maxRoutes', 'maxOther']);
    expect(parsed.ledger.get('maxRoutes')?.size).toBe(0);
    expect(parsed.ledger.get('fine')?.size).toBe(0);
  });

  it('admits claims in order until the limit, counting visible objects and unseen reservations once', () => {
    const entries = new Map<string, Reservation>([
      // in flight: reserved, not visible yet
      ['HTTPRoute/ns/inflight', { uid: 'u-inflight', at: NOW - 1000 }],
      // reserved and already visible: counted once
      ['HTTPRoute/ns/visible', { uid: 'u-visible', at: NOW - 1000 }],
    ]);
    const v = view(['HTTPRoute/ns/visible', 'GRPCRoute/ns/old']);
    const { results, changed } = decideClaims(
      entries,
      [claim('HTTPRoute/ns/a', 5), claim('HTTPRoute/ns/b', 5), claim('HTTPRoute/ns/c', 5)],
      v,
      NOW,
      times,
    );
    expect(results).toEqual([
      { admitted: true, inUse: 4, reserved: true },
      { admitted: true, inUse: 5, reserved: true },
      { admitted: false, inUse: 5, inFlight: 3 },
    ]);
    expect(changed).toBe(true);
    expect([...entries.keys()].sort()).toEqual([
      'HTTPRoute/ns/a',
      'HTTPRoute/ns/b',
      'HTTPRoute/ns/inflight',
      'HTTPRoute/ns/visible',
    ]);
    expect(entries.get('HTTPRoute/ns/a')).toEqual({ uid: 'uid-HTTPRoute/ns/a', at: NOW });
  });

  it('does not count expired reservations (failed later in the chain) nor seen ones (deleted since)', () => {
    const entries = new Map<string, Reservation>([
      ['HTTPRoute/ns/failed', { uid: 'u-failed', at: NOW - times.ttlMs }],
      ['HTTPRoute/ns/deleted', { uid: 'u-deleted', at: NOW - 1000 }],
    ]);
    const { results } = decideClaims(
      entries,
      [claim('HTTPRoute/ns/a', 1)],
      view([], ['u-deleted']),
      NOW,
      times,
    );
    expect(results).toEqual([{ admitted: true, inUse: 1, reserved: true }]);
  });

  it('answers dry runs without reserving anything', () => {
    const entries = new Map<string, Reservation>([['HTTPRoute/ns/x', { uid: 'u', at: NOW }]]);
    const { results, changed } = decideClaims(
      entries,
      [claim('HTTPRoute/ns/a', 2, true), claim('HTTPRoute/ns/b', 2, true), claim('HTTPRoute/ns/c', 1, true)],
      view(),
      NOW,
      times,
    );
    expect(results).toEqual([
      { admitted: true, inUse: 2, reserved: false },
      { admitted: true, inUse: 2, reserved: false },
      { admitted: false, inUse: 1, inFlight: 1 },
    ]);
    expect(changed).toBe(false);
    expect([...entries.keys()]).toEqual(['HTTPRoute/ns/x']);
  });

  it('admits a CREATE of a name that already holds a slot without taking another; a retry refreshes it', () => {
    const entries = new Map<string, Reservation>([['HTTPRoute/ns/retry', { uid: 'old', at: NOW - 80_000 }]]);
    const { results, changed } = decideClaims(
      entries,
      [claim('HTTPRoute/ns/exists', 2), claim('HTTPRoute/ns/retry', 2), claim('HTTPRoute/ns/new', 2)],
      view(['HTTPRoute/ns/exists']),
      NOW,
      times,
    );
    expect(results).toEqual([
      // the API server will answer AlreadyExists: it takes no slot of its own
      { admitted: true, inUse: 2, reserved: false },
      { admitted: true, inUse: 2, reserved: true },
      { admitted: false, inUse: 2, inFlight: 1 },
    ]);
    expect(changed).toBe(true);
    expect(entries.get('HTTPRoute/ns/retry')).toEqual({ uid: 'uid-HTTPRoute/ns/retry', at: NOW });
  });

  it('refuses every claim when the visible objects alone are at or over the limit', () => {
    const { results, changed } = decideClaims(
      new Map(),
      [claim('HTTPRoute/ns/a', 0), claim('HTTPRoute/ns/b', 1)],
      view(['HTTPRoute/ns/x']),
      NOW,
      times,
    );
    expect(results).toEqual([
      { admitted: false, inUse: 1, inFlight: 0 },
      { admitted: false, inUse: 1, inFlight: 0 },
    ]);
    expect(changed).toBe(false);
  });

  it('prunes expired reservations, and seen ones only once they have settled', () => {
    const entries = new Map<string, Reservation>([
      ['HTTPRoute/ns/expired', { uid: 'u1', at: NOW - times.ttlMs }],
      ['HTTPRoute/ns/seen-young', { uid: 'u2', at: NOW - times.settleMs + 1 }],
      ['HTTPRoute/ns/seen-settled', { uid: 'u3', at: NOW - times.settleMs }],
      ['HTTPRoute/ns/unseen', { uid: 'u4', at: NOW - times.ttlMs + 1 }],
    ]);
    const pruned = pruneReservations(entries, view([], ['u2', 'u3']), NOW, times);
    expect(pruned).toEqual({ expired: 1, settled: 1 });
    expect([...entries.keys()]).toEqual(['HTTPRoute/ns/seen-young', 'HTTPRoute/ns/unseen']);
  });
});
