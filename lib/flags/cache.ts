import type { FlagDefinition, FlagSnapshot } from './definition.js';

/** One change of one flag, as `tenant.feature-flag.changed` announces it (`flag` null: deleted). */
export interface FlagChange {
  tenantId: string;
  key: string;
  revision: number;
  flag: FlagDefinition | null;
}

export interface FlagCacheOptions {
  /** Reads a tenant's flags where this process may read them (its own table, its copy, the tenant subgraph). */
  load: (tenantId: string) => Promise<FlagSnapshot>;
  /** How long a tenant's flags are kept without an event before they are read again (default 60 s): what a lost event can cost. */
  ttlMs?: number;
  /** Tenants kept (default 10,000); the least recently loaded goes first. */
  maxTenants?: number;
}

/** How long a change is kept to complete a read from a copy that lags behind the events. */
const RECENT_MS = 30_000;
/** Changes kept at most (flag changes are an admin's, rare: this bounds memory, not the window). */
const MAX_RECENT = 10_000;

interface Entry {
  revision: number;
  flags: Map<string, FlagDefinition>;
  expires: number;
}

/**
 * A process's flags, per tenant: read once, then kept current by the change events (each carries
 * the flag and the tenant's revision, so a cached tenant needs no read at all), and read again
 * after `ttlMs` or when an event shows one was missed (a gap in revisions).
 *
 * A read can be older than an event this process already saw (a subgraph's copy is written by
 * its durable consumer, which may run behind this process's ephemeral one): the changes of the
 * last 30 s complete it. A read still behind (a change was missed) answers its caller but is not
 * kept, so the next evaluation reads again.
 */
export class FlagCache {
  private readonly entries = new Map<string, Entry>();
  /** The newest revision an event announced, per tenant. */
  private readonly announced = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<Map<string, FlagDefinition>>>();
  /** The changes of the last `RECENT_MS`, in arrival order: what a read from a lagging copy lacks. */
  private readonly recent: (FlagChange & { at: number })[] = [];
  private readonly ttlMs: number;
  private readonly maxTenants: number;

  constructor(private readonly options: FlagCacheOptions) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxTenants = options.maxTenants ?? 10_000;
  }

  /** The tenant's flags by key. */
  async flags(tenantId: string): Promise<ReadonlyMap<string, FlagDefinition>> {
    const hit = this.entries.get(tenantId);
    if (hit && hit.expires > Date.now()) return hit.flags;
    const running = this.inFlight.get(tenantId);
    if (running) return running;
    const load = this.load(tenantId).finally(() => {
      if (this.inFlight.get(tenantId) === load) this.inFlight.delete(tenantId);
    });
    this.inFlight.set(tenantId, load);
    return load;
  }

  private async load(tenantId: string): Promise<Map<string, FlagDefinition>> {
    const snapshot = await this.options.load(tenantId);
    const flags = new Map(snapshot.flags.map((flag) => [flag.key, flag]));
    // The changes this process saw that the read does not hold yet (its copy is behind), in order.
    let revision = snapshot.revision;
    const recent = this.recent.filter((change) => change.tenantId === tenantId && change.revision > revision).sort((a, b) => a.revision - b.revision);
    for (const change of recent) {
      if (change.revision !== revision + 1) continue;
      if (change.flag) flags.set(change.key, change.flag);
      else flags.delete(change.key);
      revision = change.revision;
    }
    const current = this.entries.get(tenantId);
    if (current && current.revision >= revision) {
      // Changes applied in place while this read ran: the entry is at least as new.
      current.expires = Date.now() + this.ttlMs;
      return current.flags;
    }
    // Still behind a change this process saw (one it missed): answer this call, keep nothing.
    if (revision < (this.announced.get(tenantId) ?? 0)) return flags;
    this.keep(tenantId, { revision, flags, expires: Date.now() + this.ttlMs });
    return flags;
  }

  /** Applies a change event: in place when it is the cached tenant's next revision, else the tenant is read again. */
  changed(change: FlagChange): void {
    const { tenantId, revision } = change;
    const now = Date.now();
    this.recent.push({ ...change, at: now });
    while (this.recent.length > 0 && (this.recent[0]!.at < now - RECENT_MS || this.recent.length > MAX_RECENT)) this.recent.shift();
    if ((this.announced.get(tenantId) ?? 0) < revision) {
      this.announced.delete(tenantId);
      this.announced.set(tenantId, revision);
      if (this.announced.size > this.maxTenants) this.announced.delete(this.announced.keys().next().value!);
    }
    const entry = this.entries.get(tenantId);
    if (!entry || revision <= entry.revision) return;
    if (revision === entry.revision + 1) {
      const flags = new Map(entry.flags);
      if (change.flag) flags.set(change.key, change.flag);
      else flags.delete(change.key);
      entry.flags = flags;
      entry.revision = revision;
      return;
    }
    this.entries.delete(tenantId);
  }

  private keep(tenantId: string, entry: Entry): void {
    this.entries.delete(tenantId);
    this.entries.set(tenantId, entry);
    if (this.entries.size > this.maxTenants) this.entries.delete(this.entries.keys().next().value!);
  }
}
