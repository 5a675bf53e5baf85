// A tenant's reservation ledger, as pure data and arithmetic (no I/O): which objects were admitted against
// a count-type limit but may not be visible to every replica's informers yet, how many slots are in use,
// and which of a batch of claims fit. The ledger is stored in one ConfigMap per tenant (quota-store.ts) and
// written with resourceVersion preconditions (quota.ts); the design is in docs/policies.md ("Exact Tenant limits").
//
// In use = the objects this replica's informers show  ∪  the reservations that are unexpired and whose
// object this replica has not seen yet (neither in its cache nor deleted since). Counted by key
// (kind/namespace/name), so an object and its reservation count once.

/** One admitted CREATE: the uid the API server gave the object and when it was admitted (ms epoch). */
export interface Reservation {
  uid?: string;
  at: number;
}

/** limit field (maxRoutes) -> object key (HTTPRoute/acme-web/shop) -> reservation */
export type Ledger = Map<string, Map<string, Reservation>>;

/** What one replica knows about the counted objects of one tenant and one limit. */
export interface CountView {
  /** keys of the objects its informers show that are not being deleted */
  readonly visible: ReadonlySet<string>;
  /** the replica has seen the reserved object (in its cache, or deleted since): the informer speaks for it */
  seen(key: string, reservation: Reservation): boolean;
}

export interface LedgerTimes {
  /** a reservation not seen by then is for a CREATE that failed later in the chain: it no longer counts */
  ttlMs: number;
  /** a seen reservation is dropped only once this old, so that slower replicas' informers see it too */
  settleMs: number;
}

export interface Claim {
  key: string;
  uid?: string;
  max: number;
  /** answered from the ledger, never written */
  dryRun: boolean;
}

export type ClaimResult =
  /** reserved: the ledger got (or refreshed) a reservation for it */
  | { admitted: true; inUse: number; reserved: boolean }
  /** inFlight: how many of inUse are reservations not yet visible */
  | { admitted: false; inUse: number; inFlight: number };

export interface ParsedLedger {
  ledger: Ledger;
  /** fields whose value could not be read (someone edited the ConfigMap); they start empty */
  malformed: string[];
}

/** ConfigMap data -> ledger. Each field's value is a JSON object {key: {uid, at: RFC 3339}}. */
export function parseLedger(data: Record<string, string> | undefined): ParsedLedger {
  const ledger: Ledger = new Map();
  const malformed: string[] = [];
  for (const [field, text] of Object.entries(data ?? {})) {
    const entries = parseLedgerField(text);
    if (!entries) malformed.push(field);
    ledger.set(field, entries ?? new Map());
  }
  return { ledger, malformed };
}

/** One field's reservations, or undefined when the field is not a JSON object of {uid?, at} values. */
function parseLedgerField(text: string): Map<string, Reservation> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const entries = new Map<string, Reservation>();
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const v = value as { uid?: unknown; at?: unknown } | null;
    const at = typeof v?.at === 'string' ? Date.parse(v.at) : NaN;
    if (Number.isNaN(at)) return undefined;
    entries.set(key, { ...(typeof v?.uid === 'string' ? { uid: v.uid } : {}), at });
  }
  return entries;
}

/** Ledger -> ConfigMap data: one reservation a line, so that `kubectl get -o yaml` stays readable. */
export function serializeLedger(ledger: Ledger): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [field, entries] of [...ledger].sort(([a], [b]) => a.localeCompare(b))) {
    const lines = [...entries]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([key, r]) =>
          `${JSON.stringify(key)}: ${JSON.stringify({ ...(r.uid ? { uid: r.uid } : {}), at: new Date(r.at).toISOString() })}`,
      );
    data[field] = lines.length ? `{\n${lines.join(',\n')}\n}\n` : '{}\n';
  }
  return data;
}

export function isExpired(r: Reservation, now: number, times: LedgerTimes): boolean {
  return now - r.at >= times.ttlMs;
}

/**
 * Drops the reservations that no longer matter: expired ones, and seen ones older than settleMs.
 * Returns how many of each went.
 */
export function pruneReservations(
  entries: Map<string, Reservation>,
  view: CountView,
  now: number,
  times: LedgerTimes,
): { expired: number; settled: number } {
  const out = { expired: 0, settled: 0 };
  for (const [key, r] of entries) {
    if (isExpired(r, now, times)) {
      entries.delete(key);
      out.expired++;
    } else if (now - r.at >= times.settleMs && view.seen(key, r)) {
      entries.delete(key);
      out.settled++;
    }
  }
  return out;
}

/**
 * Decides a batch of claims against one limit, in order, adding a reservation for each admitted one that
 * is not a dry run. `changed` says whether `entries` must be written back.
 */
export function decideClaims(
  entries: Map<string, Reservation>,
  claims: readonly Claim[],
  view: CountView,
  now: number,
  times: LedgerTimes,
): { results: ClaimResult[]; changed: boolean } {
  const held = new Set(view.visible);
  let inFlight = 0;
  for (const [key, r] of entries) {
    if (held.has(key) || isExpired(r, now, times) || view.seen(key, r)) continue;
    held.add(key);
    inFlight++;
  }
  let changed = false;
  const results = claims.map((claim): ClaimResult => {
    if (held.has(claim.key)) {
      // the object exists (its CREATE will fail: AlreadyExists) or is being created by another request
      // of the same name: it holds one slot either way. A retry refreshes its reservation.
      const refresh = !claim.dryRun && entries.has(claim.key) && !view.visible.has(claim.key);
      if (refresh) {
        entries.set(claim.key, { ...(claim.uid ? { uid: claim.uid } : {}), at: now });
        changed = true;
      }
      return { admitted: true, inUse: held.size, reserved: refresh };
    }
    if (held.size >= claim.max) return { admitted: false, inUse: held.size, inFlight };
    if (claim.dryRun) return { admitted: true, inUse: held.size + 1, reserved: false };
    entries.set(claim.key, { ...(claim.uid ? { uid: claim.uid } : {}), at: now });
    held.add(claim.key);
    inFlight++;
    changed = true;
    return { admitted: true, inUse: held.size, reserved: true };
  });
  return { results, changed };
}
