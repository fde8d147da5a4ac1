import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import { InvalidOptionError, NoProcessError, RuntimeStoppedError } from '../runtime/errors.js';
import { Pid, type PidLike } from '../runtime/pid.js';
import { checkSerializable } from '../runtime/serializable.js';
import { validateOptions, optional, integer, matching } from '../runtime/validate.js';
import type { NameService } from '../runtime/nameService.js';
import type { Runtime, Target } from '../runtime/runtime.js';
import { RegistryKindError, type RegistryRegisterEvent, type RegistryUnregisterEvent } from '../registry/registryState.js';
import type { NatsTransport } from './natsTransport.js';
import { token, untoken } from './kvKeys.js';

/** The watcher's iterator (its type comes from @nats-io/kv; nats-core is not a dependency of ours). */
type KvWatch = Awaited<ReturnType<KV['watch']>>;

/** Options of `clusterGroups`. */
export interface ClusterGroupsOptions {
  /** The JetStream KV bucket holding the groups. Default `'xotp_groups'`. */
  bucket?: string;
  /** How long a member's entry lasts without renewal, in ms. Default 5000. */
  leaseMs?: number;
  /** How often a node renews its members' entries. Default `leaseMs / 3`. */
  renewMs?: number;
  /** How long past an entry's expiry another node waits before it deletes the entry. Default 1000. */
  marginMs?: number;
  /** Wall-clock time used in entries (tests move it). Default `Date.now`. */
  now?: () => number;
  /** The name under which the runtime knows this name service. Default `'cluster_groups'`. */
  service?: string;
  /** Names of local processes told of every member added or removed, with a registry's listener events. */
  listeners?: string[];
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
  readonly #kv: KV;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #marginMs: number;
  readonly #now: () => number;
  readonly #listeners: string[];
  /** KV key → what the watcher last saw there. */
  readonly #view = new Map<string, Seen>();
  /** KV key → this node's members. */
  readonly #mine = new Map<string, Mine>();
  /** Expired entries of other nodes whose delete was sent (each is sent once). */
  readonly #sweeping = new Set<string>();
  readonly #synced: Array<{ revision: number; resolve: () => void }> = [];
  readonly #watch: KvWatch;
  readonly #offExit: () => void;
  readonly #unpublish: () => void;
  #seen = 0;
  #timer: unknown;
  #closed = false;

  /** @internal use `clusterGroups` */
  constructor(
    runtime: Runtime,
    kv: KV,
    watch: KvWatch,
    o: { service: string; listeners: string[]; leaseMs: number; renewMs: number; marginMs: number; now: () => number },
  ) {
    this.name = o.service;
    this.#unpublish = runtime.registerNameService(this);
    this.#runtime = runtime;
    this.#kv = kv;
    this.#watch = watch;
    this.#leaseMs = o.leaseMs;
    this.#renewMs = o.renewMs;
    this.#marginMs = o.marginMs;
    this.#now = o.now;
    this.#listeners = o.listeners;
    const onExit = ({ pid }: { pid: Pid }) => this.#memberExited(pid);
    // The runtime's shutdown ends renewals and the watcher too: a forgotten close() would
    // otherwise keep a timer, and so the Node process, alive.
    const onShutdown = () => void this.close();
    runtime.events.on('process.exited', onExit);
    runtime.events.once('runtime.shutdown', onShutdown);
    this.#offExit = () => {
      runtime.events.off('process.exited', onExit);
      runtime.events.off('runtime.shutdown', onShutdown);
    };
    void this.#follow();
    this.#schedule();
  }

  /**
   * Adds `pid` (a process of this node) to the group `key` with `value` (JSON); registering the
   * same pid under the same key again replaces its value. Resolves once the bucket holds it.
   *
   * @throws NoProcessError when `pid` is not alive here; NotSerializableError for a value that
   *   is not JSON; InvalidOptionError for a key that is not a non-empty string.
   */
  async register(key: string, target: PidLike, value: unknown = null): Promise<void> {
    if (this.#closed) throw new RuntimeStoppedError(this.#runtime.name, `join cluster group '${key}' (clusterGroups was closed)`);
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
    await this.#kv.delete(kvKey).catch(() => undefined);
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
  async sync(): Promise<void> {
    const status = await this.#kv.status();
    const last = status.streamInfo.state.last_seq;
    if (this.#seen >= last) return;
    await new Promise<void>((resolve) => this.#synced.push({ revision: last, resolve }));
  }

  #entries(): Array<{ key: string; pid: Pid; value: unknown }> {
    const now = this.#now();
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
    const lease: MemberLease = { pid: mine.pid.toJSON(), value: mine.value, expiresAt: this.#now() + this.#leaseMs };
    return this.#kv.put(kvKey, JSON.stringify(lease));
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#runtime.clock.setTimeout(() => this.#tick(), this.#renewMs);
  }

  /** Every `renewMs`: renew this node's members; delete other nodes' entries past lease and margin. */
  #tick(): void {
    // Only this node writes its members' keys, so a plain put renews (and re-creates an entry
    // another node swept while this one was stalled: the member is still alive).
    for (const [kvKey, mine] of this.#mine) this.#put(kvKey, mine).catch(() => undefined);
    const now = this.#now();
    for (const [kvKey, seen] of this.#view) {
      if (this.#mine.has(kvKey) || this.#sweeping.has(kvKey) || now <= seen.expiresAt + this.#marginMs) continue;
      this.#sweeping.add(kvKey);
      // Revision-checked: a renewal that landed since wins.
      this.#kv.delete(kvKey, { previousSeq: seen.revision }).catch(() => this.#sweeping.delete(kvKey));
    }
    this.#schedule();
  }

  #memberExited(pid: Pid): void {
    for (const mine of [...this.#mine.values()]) {
      if (Pid.equals(mine.pid, pid)) void this.unregister(mine.key, pid);
    }
  }

  // --- the view --------------------------------------------------------------------------------------

  async #follow(): Promise<void> {
    try {
      for await (const entry of this.#watch) this.#saw(entry);
    } catch {
      // The connection closed under the watcher: the view stays as it was last seen.
    }
  }

  #saw(entry: KvWatchEntry): void {
    this.#seen = Math.max(this.#seen, entry.revision);
    const key = groupOf(entry.key);
    if (key !== undefined) {
      const before = this.#view.get(entry.key);
      this.#sweeping.delete(entry.key);
      if (entry.operation === 'PUT') {
        const lease = entry.json<MemberLease>();
        this.#view.set(entry.key, { key, pid: Pid.from(lease.pid), value: lease.value, expiresAt: lease.expiresAt, revision: entry.revision });
        if (before === undefined) this.#notify({ type: 'xotp.registry.register', registry: this.name, key, pid: Pid.from(lease.pid), value: lease.value });
      } else if (before !== undefined) {
        this.#view.delete(entry.key);
        this.#notify({ type: 'xotp.registry.unregister', registry: this.name, key, pid: before.pid });
      }
    }
    for (let i = this.#synced.length - 1; i >= 0; i--) {
      const s = this.#synced[i]!;
      if (this.#seen >= s.revision) {
        this.#synced.splice(i, 1);
        s.resolve();
      }
    }
  }

  #notify(event: RegistryRegisterEvent | RegistryUnregisterEvent): void {
    for (const listener of this.#listeners) {
      try {
        this.#runtime.send(listener as Target, event);
      } catch {
        // A listener that is not running misses the event, as a registry's would.
      }
    }
  }

  /** Stops renewing and watching, removes this node's members, and leaves the runtime's name services. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#runtime.clock.clearTimeout(this.#timer);
    this.#offExit();
    this.#unpublish();
    this.#watch.stop();
    for (const s of this.#synced.splice(0)) s.resolve();
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
  const o = validateOptions('clusterGroups', options, {
    bucket: optional(matching(/^[\w-]+$/, 'a bucket name of letters, digits, _ or -'), 'xotp_groups'),
    leaseMs: optional(integer(10), 5000),
    renewMs: optional(integer(1)),
    marginMs: optional(integer(0), 1000),
    now: optional((v: unknown, key: string) => {
      if (typeof v !== 'function') throw new InvalidOptionError(key, 'a function returning wall-clock ms', v);
      return v as () => number;
    }),
    service: optional(matching(/^\S+$/, 'a name without spaces'), 'cluster_groups'),
    listeners: optional((v: unknown, key: string) => {
      if (!Array.isArray(v) || !v.every((l) => typeof l === 'string' && l.length > 0)) throw new InvalidOptionError(key, 'a list of names of processes', v);
      return v as string[];
    }, []),
  });
  const renewMs = o.renewMs ?? Math.floor(o.leaseMs / 3);
  if (renewMs * 2 >= o.leaseMs) throw new InvalidOptionError('clusterGroups.renewMs', `less than half of leaseMs (${o.leaseMs})`, renewMs);
  const kv = await new Kvm(transport.connection).create(o.bucket, { history: 1 });
  const watch = await kv.watch({ key: 'm.>' });
  let groups: ClusterGroups;
  try {
    groups = new ClusterGroups(runtime, kv, watch, { service: o.service, listeners: o.listeners, leaseMs: o.leaseMs, renewMs, marginMs: o.marginMs, now: o.now ?? Date.now });
  } catch (err) {
    watch.stop();
    throw err;
  }
  try {
    await groups.sync();
  } catch (err) {
    await groups.close();
    throw err;
  }
  return groups;
}

/** A member's entry: `m.<group>.<node>.<pid number>_<creation>`, each user-given part one token. */
function entryKey(key: string, pid: Pid): string {
  return `m.${token(key)}.${token(pid.node)}.${pid.id}${pid.creation === undefined ? '' : `_${pid.creation}`}`;
}

function groupOf(kvKey: string): string | undefined {
  const parts = kvKey.split('.');
  return parts.length === 4 && parts[0] === 'm' ? untoken(parts[1]!) : undefined;
}
