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
 * its durable consumer, which may run a moment after this process's ephemeral one): such a read
 * answers its caller but is not kept, so the next evaluation reads again until the copy caught up.
 */
export class FlagCache {
  private readonly entries = new Map<string, Entry>();
  /** The newest revision an event announced, per tenant. */
  private readonly announced = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<Map<string, FlagDefinition>>>();
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
    const load = this.load(tenantId, hit).finally(() => {
      if (this.inFlight.get(tenantId) === load) this.inFlight.delete(tenantId);
    });
    this.inFlight.set(tenantId, load);
    return load;
  }

  private async load(tenantId: string, previous: Entry | undefined): Promise<Map<string, FlagDefinition>> {
    const snapshot = await this.options.load(tenantId);
    const flags = new Map(snapshot.flags.map((flag) => [flag.key, flag]));
    const newest = Math.max(this.announced.get(tenantId) ?? 0, this.entries.get(tenantId)?.revision ?? 0);
    if (snapshot.revision < newest) {
      // Behind what this process knows: answer with the newer entry if it has one, keep nothing.
      const current = this.entries.get(tenantId);
      if (current && current.revision >= snapshot.revision) {
        current.expires = Date.now() + this.ttlMs;
        return current.flags;
      }
      return previous && previous.revision > snapshot.revision ? previous.flags : flags;
    }
    this.keep(tenantId, { revision: snapshot.revision, flags, expires: Date.now() + this.ttlMs });
    return flags;
  }

  /** Applies a change event: in place when it is the cached tenant's next revision, else the tenant is read again. */
  changed(change: FlagChange): void {
    const { tenantId, revision } = change;
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
