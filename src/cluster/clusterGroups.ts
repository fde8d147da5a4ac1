import type { KvWatchEntry } from '@nats-io/kv';
import { InvalidOptionError, NoProcessError, RuntimeStoppedError } from '../runtime/errors.js';
import { Pid, type PidLike } from '../runtime/pid.js';
import { checkSerializable } from '../runtime/serializable.js';
import type { NameService } from '../runtime/nameService.js';
import type { Runtime } from '../runtime/runtime.js';
import { RegistryKindError } from '../registry/registryState.js';
import type { NatsTransport } from './natsTransport.js';
import { token, untoken } from './kvKeys.js';
import { leaseSettings, openLeasedBucket, type LeasedBucket, type LeasedBucketOptions } from './leasedBucket.js';

/** Options of `clusterGroups`. */
export interface ClusterGroupsOptions extends LeasedBucketOptions {
  /** The JetStream KV bucket holding the groups. Default `'xotp_groups'`. */
  bucket?: string;
  /** The name under which the runtime knows this name service. Default `'cluster_groups'`. */
  service?: string;
}

/** One member's entry in the bucket. */
interface MemberLease {
  pid: PidLike;
  value: unknown;
  /** Wall-clock ms (its node's clock) after which the entry no longer counts. */
  expiresAt: number;
}

interface Seen {
  readonly key: string;
  readonly pid: Pid;
  readonly value: unknown;
  readonly expiresAt: number;
  readonly revision: number;
}

interface Mine {
  readonly key: string;
  readonly pid: Pid;
  value: unknown;
}

/**
 * Duplicate keys across nodes (groups, as Erlang's `pg` or a duplicate Registry): many processes,
 * of any nodes, under one key, each with a value. Each member is one KV entry
 * (`m.<key>.<node>.<pid>`) that only its node writes, leased as cluster names are: the node
 * renews its members' entries every `renewMs`; an entry whose node stopped renewing (it died, or
 * cannot reach the server) no longer counts once its `expiresAt` has passed, and any node deletes
 * it `marginMs` later (a revision-checked delete, so a renewal in between wins). A member that
 * exits, or `unregister`, is deleted at once.
 *
 * Reads (`lookup`, `dispatch`, `keys`, `count`) are synchronous, from a view of the bucket a KV
 * watcher keeps current; this node's own registrations show at once, others' once the watcher
 * delivers them (`sync` waits for that).
 */
export class ClusterGroups implements NameService {
  readonly name: string;
  readonly kind = 'duplicate' as const;
  readonly #runtime: Runtime;
  readonly #bucket: LeasedBucket;
  /** KV key → what the watcher last saw there. */
  readonly #view = new Map<string, Seen>();
  /** KV key → this node's members. */
  readonly #mine = new Map<string, Mine>();
  /** Expired entries of other nodes whose delete was sent (each is sent once). */
  readonly #sweeping = new Set<string>();
  readonly #unpublish: () => void;

  /** @internal use `clusterGroups` */
  constructor(runtime: Runtime, bucket: LeasedBucket) {
    this.name = bucket.settings.service;
    // First: it throws when the runtime already has a service of that name, and nothing is set up yet.
    this.#unpublish = runtime.registerNameService(this);
    this.#runtime = runtime;
    this.#bucket = bucket;
    bucket.start({ saw: (entry) => this.#saw(entry), tick: () => this.#tick(), exited: (pid) => this.#memberExited(pid) }, () => void this.close());
  }

  /**
   * Adds `pid` (a process of this node) to the group `key` with `value` (JSON); registering the
   * same pid under the same key again replaces its value. Resolves once the bucket holds it.
   *
   * @throws NoProcessError when `pid` is not alive here; NotSerializableError for a value that
   *   is not JSON; InvalidOptionError for a key that is not a non-empty string.
   */
  async register(key: string, target: PidLike, value: unknown = null): Promise<void> {
    if (this.#bucket.closed) throw new RuntimeStoppedError(this.#runtime.name, `join cluster group '${key}' (clusterGroups was closed)`);
    if (typeof key !== 'string' || key.length === 0) throw new InvalidOptionError('clusterGroups.register.key', 'a non-empty string', key);
    const pid = Pid.from(target);
    if (pid.node !== this.#runtime.name || !this.#runtime.isAlive(pid)) throw new NoProcessError(target, 'clusterGroups.register');
    checkSerializable(value, 'clusterGroups.register');
    const kvKey = entryKey(key, pid);
    const mine: Mine = { key, pid, value };
    this.#mine.set(kvKey, mine);
    try {
      await this.#put(kvKey, mine);
    } catch (err) {
      if (this.#mine.get(kvKey) === mine) this.#mine.delete(kvKey);
      throw err;
    }
    // The process may have died while we waited for the server.
    if (!this.#runtime.isAlive(pid)) this.#memberExited(pid);
  }

  /** Removes `pid` from the group `key` (nothing happens if it is not a member). */
  async unregister(key: string, target: PidLike): Promise<void> {
    const kvKey = entryKey(key, Pid.from(target));
    if (!this.#mine.delete(kvKey)) return;
    await this.#bucket.kv.delete(kvKey).catch(() => undefined);
  }

  /** `[{ pid, value }]` of the group `key`: this node's members, and the others' whose lease has not expired. */
  lookup<V = unknown>(key: string): Array<{ pid: Pid; value: V }> {
    return this.#entries()
      .filter((e) => e.key === key)
      .map((e) => ({ pid: e.pid, value: e.value as V }));
  }

  /** Calls `callback` with the non-empty list of `{ pid, value }` under `key`; never when there are none. */
  dispatch<V = unknown>(key: string, callback: (entries: Array<{ pid: Pid; value: V }>) => void): void {
    const entries = this.lookup<V>(key);
    if (entries.length > 0) callback(entries);
  }

  /** The groups `pid` is a member of. */
  keys(target: PidLike): string[] {
    return this.#entries()
      .filter((e) => Pid.equals(e.pid, target))
      .map((e) => e.key);
  }

  /** How many members all groups have. */
  count(): number {
    return this.#entries().length;
  }

  /** Waits until this node's view has caught up with every write the bucket had when called. */
  sync(): Promise<void> {
    return this.#bucket.sync();
  }

  #entries(): Array<{ key: string; pid: Pid; value: unknown }> {
    const now = this.#bucket.settings.now();
    const out: Array<{ key: string; pid: Pid; value: unknown }> = [...this.#mine.values()];
    for (const [kvKey, seen] of this.#view) {
      if (this.#mine.has(kvKey) || now > seen.expiresAt) continue;
      // An entry of this node not in #mine was just removed (its delete is on the way).
      if (seen.pid.node === this.#runtime.name) continue;
      out.push(seen);
    }
    return out;
  }

  // --- NameService: a group has many pids, so it cannot stand for one ------------------------------

  whereis(_key: unknown): Pid | undefined {
    throw new RegistryKindError(`via names are not supported for duplicate registries ('${this.name}'): use lookup`);
  }

  registerName(_key: unknown, _pid: Pid, _value: unknown): void {
    throw new RegistryKindError(`via names are not supported for duplicate registries ('${this.name}'): use register after the spawn`);
  }

  unregisterName(key: unknown, pid: Pid): void {
    if (typeof key === 'string') void this.unregister(key, pid);
  }

  // --- leases ---------------------------------------------------------------------------------------

  #put(kvKey: string, mine: Mine): Promise<number> {
    const { now, leaseMs } = this.#bucket.settings;
    const lease: MemberLease = { pid: mine.pid.toJSON(), value: mine.value, expiresAt: now() + leaseMs };
    return this.#bucket.kv.put(kvKey, JSON.stringify(lease));
  }

  /** Every `renewMs`: renew this node's members; delete other nodes' entries past lease and margin. */
  #tick(): void {
    // Only this node writes its members' keys, so a plain put renews (and re-creates an entry
    // another node swept while this one was stalled: the member is still alive).
    for (const [kvKey, mine] of this.#mine) this.#put(kvKey, mine).catch(() => undefined);
    const { now, marginMs } = this.#bucket.settings;
    const at = now();
    for (const [kvKey, seen] of this.#view) {
      if (this.#mine.has(kvKey) || this.#sweeping.has(kvKey) || at <= seen.expiresAt + marginMs) continue;
      this.#sweeping.add(kvKey);
      // Revision-checked: a renewal that landed since wins.
      this.#bucket.kv.delete(kvKey, { previousSeq: seen.revision }).catch(() => this.#sweeping.delete(kvKey));
    }
  }

  #memberExited(pid: Pid): void {
    for (const mine of [...this.#mine.values()]) {
      if (Pid.equals(mine.pid, pid)) void this.unregister(mine.key, pid);
    }
  }

  // --- the view --------------------------------------------------------------------------------------

  #saw(entry: KvWatchEntry): void {
    const key = groupOf(entry.key);
    if (key === undefined) return;
    const before = this.#view.get(entry.key);
    this.#sweeping.delete(entry.key);
    if (entry.operation === 'PUT') {
      const lease = entry.json<MemberLease>();
      this.#view.set(entry.key, { key, pid: Pid.from(lease.pid), value: lease.value, expiresAt: lease.expiresAt, revision: entry.revision });
      if (before === undefined) this.#bucket.notify({ type: 'xotp.registry.register', registry: this.name, key, pid: Pid.from(lease.pid), value: lease.value });
    } else if (before !== undefined) {
      this.#view.delete(entry.key);
      this.#bucket.notify({ type: 'xotp.registry.unregister', registry: this.name, key, pid: before.pid });
    }
  }

  /** Stops renewing and watching, removes this node's members, and leaves the runtime's name services. */
  async close(): Promise<void> {
    if (this.#bucket.closed) return;
    this.#bucket.close();
    this.#unpublish();
    await Promise.all([...this.#mine.values()].map((m) => this.unregister(m.key, m.pid)));
  }
}

/**
 * Opens (or creates) the groups bucket, loads this node's view of it, makes it the runtime's name
 * service `service` (of kind `'duplicate'`), and starts renewing for `runtime`.
 *
 * @throws InvalidOptionError for options of the wrong shape (`renewMs` must be below half the
 *   lease); AlreadyRegisteredError when the runtime already has a name service named `service`.
 */
export async function clusterGroups(runtime: Runtime, transport: NatsTransport, options: ClusterGroupsOptions = {}): Promise<ClusterGroups> {
  const settings = leaseSettings('clusterGroups', options, { bucket: 'xotp_groups', service: 'cluster_groups' });
  return openLeasedBucket(runtime, transport, settings, 'm', (bucket) => new ClusterGroups(runtime, bucket));
}

/** A member's entry: `m.<group>.<node>.<pid number>_<creation>`, each user-given part one token. */
function entryKey(key: string, pid: Pid): string {
  return `m.${token(key)}.${token(pid.node)}.${pid.id}${pid.creation === undefined ? '' : `_${pid.creation}`}`;
}

function groupOf(kvKey: string): string | undefined {
  const parts = kvKey.split('.');
  return parts.length === 4 && parts[0] === 'm' ? untoken(parts[1]!) : undefined;
}
