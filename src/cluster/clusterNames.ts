import type { KV, KvWatchEntry } from '@nats-io/kv';
import { AbortError, AlreadyRegisteredError, InvalidOptionError, NoProcessError, RuntimeStoppedError } from '../runtime/errors.js';
import { Pid, type PidLike } from '../runtime/pid.js';
import type { NameService } from '../runtime/nameService.js';
import type { Runtime } from '../runtime/runtime.js';
import type { NatsTransport } from './natsTransport.js';
import { isWrongRevision, token, untoken } from './kvKeys.js';
import { leaseSettings, openLeasedBucket, type LeasedBucket, type LeasedBucketOptions } from './leasedBucket.js';

/** Options of `clusterNames`. */
export interface ClusterNamesOptions extends LeasedBucketOptions {
  /** The JetStream KV bucket holding the names. Default `'xotp_names'`. */
  bucket?: string;
  /**
   * The name under which the runtime knows this name service: `{ via: service, key }` resolves a
   * cluster name, and `createRuntime({ nameRegistries: [service] })` makes plain names do so.
   * Default `'cluster'`.
   */
  service?: string;
}

/** One name's record in the bucket. */
interface Lease {
  pid: PidLike;
  /** Wall-clock ms (the owner's clock) after which the owner no longer holds the name. */
  expiresAt: number;
}

/** What this node's watcher last saw of a name. */
interface Seen {
  readonly pid: Pid;
  readonly expiresAt: number;
  readonly revision: number;
}

interface Owned {
  readonly pid: Pid;
  revision: number;
  /** Monotonic time (runtime clock) at which the last successful renewal was *sent*. */
  sentAt: number;
  /** The renewal in flight, if any: a delete must name the revision it writes. */
  renewing: Promise<void> | undefined;
}

/** What `register` and `claim` took over, if the name was held under a lease that ran out. */
export interface ClusterNameTaken {
  /** The previous holder and when its lease ran out (its owner's wall clock). */
  readonly replaced?: { readonly pid: Pid; readonly expiresAt: number };
}

/** Told to `onLost` listeners when this node stands down from a name. */
export interface ClusterNameLost {
  readonly name: string;
  readonly pid: Pid;
  /** `'lease_expired'`: it could not renew in time; `'taken'`: another node wrote the name. */
  readonly reason: 'lease_expired' | 'taken';
  /**
   * Wall-clock ms (`now`) up to which this node held the name: when its own lease ran out, or
   * the moment it learnt the name was taken if that came first. Past it, this node's `whereis`
   * no longer answers the process, even before the stand-down has run.
   */
  readonly heldUntil: number;
}

interface Waiter {
  readonly name: string;
  readonly wake: () => void;
}

/**
 * Unique names across nodes on JetStream KV, each held under a lease its owner renews; also a
 * runtime name service (`{ via: 'cluster', key }`) answered from a local view of the bucket.
 *
 * The Debian server (2.9) has no per-key expiry, so a lease is data: `{ pid, expiresAt }`,
 * created atomically (`create` fails if the key exists) and renewed by a revision-checked
 * `update` (it fails if anyone else wrote the key since). Another node takes a name only when
 * `expiresAt + marginMs` has passed on its own clock, again by a revision-checked `update`, so
 * two takers cannot both win.
 *
 * Fencing: the owner counts its lease from the moment it *sent* its last successful renewal,
 * on its own monotonic clock. If it has not renewed in time (the server is unreachable, the
 * process was stopped by SIGSTOP, a renewal was refused), it kills the process that held the
 * name; its `whereis` stops answering that process from the lease's end even if the stand-down
 * has not run yet. The earliest another node may take the name is `expiresAt + marginMs` on its
 * clock, which is later as long as the clocks differ by less than `marginMs`: there is no
 * moment with two owners.
 *
 * The view: a KV watcher keeps every name's latest lease in memory, so `whereis` (and name
 * resolution) is synchronous. It lags the bucket by the watcher's delivery; `sync()` waits until
 * it has caught up with everything written before the call.
 */
export class ClusterNames implements NameService {
  readonly name: string;
  readonly kind = 'unique' as const;
  readonly #runtime: Runtime;
  readonly #bucket: LeasedBucket;
  readonly #kv: KV;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #marginMs: number;
  readonly #now: () => number;
  readonly #owned = new Map<string, Owned>();
  readonly #view = new Map<string, Seen>();
  readonly #waiters = new Set<Waiter>();
  readonly #lostListeners = new Set<(lost: ClusterNameLost) => void>();
  readonly #unpublish: () => void;

  /** @internal use `clusterNames` */
  constructor(runtime: Runtime, bucket: LeasedBucket) {
    this.name = bucket.settings.service;
    // First: it throws when the runtime already has a service of that name, and nothing is set up yet.
    this.#unpublish = runtime.registerNameService(this);
    this.#runtime = runtime;
    this.#bucket = bucket;
    this.#kv = bucket.kv;
    ({ leaseMs: this.#leaseMs, renewMs: this.#renewMs, marginMs: this.#marginMs, now: this.#now } = bucket.settings);
    bucket.start({ saw: (entry) => this.#saw(entry), tick: () => this.#tick(), exited: (pid) => this.#ownerExited(pid) }, () => void this.close());
  }

  get #closed(): boolean {
    return this.#bucket.closed;
  }

  /**
   * Registers `pid` (a process of this node) under `name` across the cluster. Resolves once the
   * bucket holds it (this node's view may show it a moment later).
   *
   * @throws AlreadyRegisteredError naming the owner when another live lease holds the name;
   *   NoProcessError when `pid` is not alive here; RuntimeStoppedError after `close()`.
   */
  async register(name: string, target: PidLike): Promise<ClusterNameTaken> {
    if (this.#closed) throw new RuntimeStoppedError(this.#runtime.name, `register cluster name '${name}' (clusterNames was closed)`);
    if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('clusterNames.register.name', 'a non-empty string', name);
    const pid = Pid.from(target);
    if (pid.node !== this.#runtime.name || !this.#runtime.isAlive(pid)) throw new NoProcessError(target, 'clusterNames.register');
    const key = keyOf(name);
    const sentAt = this.#runtime.clock.now();
    const lease = this.#lease(pid);
    let revision: number;
    let replaced: ClusterNameTaken['replaced'];
    for (let tries = 1; ; tries++) {
      try {
        revision = await this.#kv.create(key, JSON.stringify(lease));
        break;
      } catch (createErr) {
        const entry = await this.#kv.get(key);
        // Deleted between our create and our read: create again (a few times, then give up).
        if (entry === null || entry.operation !== 'PUT') {
          if (tries < 3) continue;
          throw createErr;
        }
        const held = entry.json<Lease>();
        if (this.#now() <= held.expiresAt + this.#marginMs) throw new AlreadyRegisteredError(name, Pid.from(held.pid));
        try {
          revision = await this.#kv.update(key, JSON.stringify(lease), entry.revision);
          replaced = { pid: Pid.from(held.pid), expiresAt: held.expiresAt };
          break;
        } catch {
          // Someone else took it between our read and our write.
          const now = await this.#kv.get(key);
          throw new AlreadyRegisteredError(name, now?.operation === 'PUT' ? Pid.from(now.json<Lease>().pid) : undefined);
        }
      }
    }
    this.#owned.set(name, { pid, revision, sentAt, renewing: undefined });
    // The process may have died while we waited for the server.
    if (!this.#runtime.isAlive(pid)) this.#ownerExited(pid);
    return replaced === undefined ? {} : { replaced };
  }

  /**
   * Registers `pid` under `name` as soon as the name is free: at once if nobody holds it, else
   * when the holder frees it (this node's watcher sees the delete) or its lease has run out
   * (`expiresAt + marginMs`, scheduled from the lease the watcher saw; no polling). A standby
   * waiting to take over from a leader. `attempts` counts the tries, the first included.
   *
   * @throws NoProcessError when `pid` dies first; AbortError when `signal` aborts;
   *   RuntimeStoppedError when this `ClusterNames` is closed meanwhile.
   */
  async claim(name: string, target: PidLike, options: { signal?: AbortSignal } = {}): Promise<ClusterNameTaken & { attempts: number }> {
    const { signal } = options;
    for (let attempts = 1; ; attempts++) {
      if (signal?.aborted) throw new AbortError('clusterNames.claim', signal.reason);
      // Listen before trying: a delete seen between a failed try and the wait must still wake us.
      const changed = this.#nextChange(name, signal);
      try {
        const taken = await this.register(name, target);
        changed.cancel();
        return { ...taken, attempts };
      } catch (err) {
        if (!(err instanceof AlreadyRegisteredError)) {
          changed.cancel();
          throw err;
        }
      }
      await changed.promise;
    }
  }

  /**
   * Resolves on the next change the watcher sees to `name`, or when the lease in this node's
   * view (as it is when the timer is armed, and re-armed on every change) runs out.
   */
  #nextChange(name: string, signal: AbortSignal | undefined): { promise: Promise<void>; cancel: () => void } {
    const clock = this.#runtime.clock;
    let timer: unknown;
    let waiter: Waiter | undefined;
    let onAbort: (() => void) | undefined;
    const cancel = () => {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      if (waiter !== undefined) this.#waiters.delete(waiter);
      if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
    };
    const promise = new Promise<void>((resolve, reject) => {
      const done = () => {
        cancel();
        if (this.#closed) reject(new RuntimeStoppedError(this.#runtime.name, `claim cluster name '${name}' (clusterNames was closed)`));
        else resolve();
      };
      const arm = () => {
        if (timer !== undefined) clock.clearTimeout(timer);
        timer = undefined;
        const seen = this.#view.get(name);
        if (seen !== undefined) timer = clock.setTimeout(done, Math.max(0, seen.expiresAt + this.#marginMs + 1 - this.#now()));
      };
      waiter = {
        name,
        wake: () => {
          // A renewal of the same holder is no news: wait for its new expiry instead.
          const seen = this.#view.get(name);
          if (seen !== undefined && timer !== undefined && !this.#closed) arm();
          else done();
        },
      };
      this.#waiters.add(waiter);
      if (signal !== undefined) {
        onAbort = () => {
          cancel();
          reject(new AbortError('clusterNames.claim', signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      arm();
    });
    // A claim that won at once never awaits this promise.
    promise.catch(() => undefined);
    return { promise, cancel };
  }

  /**
   * The pid holding `name`, from this node's view of the bucket (synchronous; it may lag the
   * bucket by the watcher's delivery, see `sync`). A lease past its `expiresAt` answers
   * `undefined`; so does a name this node held whose lease ran out on its own clock, and this
   * node then stands down at once.
   */
  whereis(name: unknown): Pid | undefined {
    if (typeof name !== 'string') return undefined;
    const owned = this.#owned.get(name);
    if (owned !== undefined) {
      if (this.#runtime.clock.now() - owned.sentAt < this.#leaseMs) return owned.pid;
      this.#fence(name, owned, 'lease_expired');
      return undefined;
    }
    const seen = this.#view.get(name);
    return seen !== undefined && this.#now() <= seen.expiresAt ? seen.pid : undefined;
  }

  /** The names this node's view holds under live leases. */
  names(): string[] {
    return [...this.#view.keys()].filter((name) => this.whereis(name) !== undefined);
  }

  /** Waits until this node's view has caught up with every write the bucket had when called. */
  sync(): Promise<void> {
    return this.#bucket.sync();
  }

  /** Frees a name this node holds; false if it does not hold it. */
  async unregister(name: string): Promise<boolean> {
    const owned = this.#owned.get(name);
    if (owned === undefined) return false;
    this.#owned.delete(name);
    await this.#release(name, owned);
    return true;
  }

  /** Deletes a name this node no longer holds, unless someone else wrote it since. */
  async #release(name: string, owned: Owned): Promise<void> {
    // A renewal still in flight would move the revision past the one this delete names.
    await owned.renewing;
    await this.#kv.delete(keyOf(name), { previousSeq: owned.revision }).catch(() => undefined);
  }

  /** The names this node holds. */
  held(): string[] {
    return [...this.#owned.keys()];
  }

  /** Calls `listener` whenever this node stands down from a name. Returns the function that removes it. */
  onLost(listener: (lost: ClusterNameLost) => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  // --- NameService ------------------------------------------------------------------------------

  /**
   * A spawn cannot wait for the bucket: cluster names are registered with `register` or
   * `claim`, after the spawn.
   */
  registerName(key: unknown, _pid: Pid, _value: unknown): void {
    throw new InvalidOptionError(
      'name',
      'a local name, or a via name of a registry',
      { via: this.name, key },
      `cluster names are registered with ClusterNames.register(name, pid) or claim(name, pid), after the spawn`,
    );
  }

  unregisterName(key: unknown, pid: Pid): void {
    if (typeof key !== 'string') return;
    const owned = this.#owned.get(key);
    if (owned !== undefined && Pid.equals(owned.pid, pid)) void this.unregister(key);
  }

  // --- the lease ---------------------------------------------------------------------------------

  #lease(pid: Pid): Lease {
    return { pid: pid.toJSON(), expiresAt: this.#now() + this.#leaseMs };
  }

  /** Every `renewMs`: stand down from leases about to run out, renew the others. */
  #tick(): void {
    const now = this.#runtime.clock.now();
    for (const [name, owned] of [...this.#owned]) {
      // Past the last renewal's lease, less one round: a stall, SIGSTOP, a server out of reach.
      // Stand down first; renewing now could overlap a taker who already waited the lease out.
      if (now - owned.sentAt >= this.#leaseMs - this.#renewMs) this.#fence(name, owned, 'lease_expired');
      else if (owned.renewing === undefined) owned.renewing = this.#renew(name, owned);
    }
  }

  async #renew(name: string, owned: Owned): Promise<void> {
    const sentAt = this.#runtime.clock.now();
    try {
      owned.revision = await this.#kv.update(keyOf(name), JSON.stringify(this.#lease(owned.pid)), owned.revision);
      owned.sentAt = sentAt;
    } catch (err) {
      if (this.#owned.get(name) !== owned) return;
      // A refused update means someone else wrote the key: the name is no longer ours.
      if (isWrongRevision(err)) this.#fence(name, owned, 'taken');
      // Anything else (the server is out of reach): try again next round, while the lease lasts.
    } finally {
      owned.renewing = undefined;
    }
  }

  #fence(name: string, owned: Owned, reason: ClusterNameLost['reason']): void {
    if (this.#owned.get(name) !== owned) return;
    this.#owned.delete(name);
    const overdue = Math.max(0, this.#runtime.clock.now() - (owned.sentAt + this.#leaseMs));
    const lost: ClusterNameLost = { name, pid: owned.pid, reason, heldUntil: this.#now() - overdue };
    const why = reason === 'taken' ? 'another node holds it now' : 'its lease ran out before it could renew';
    this.#runtime.logger.warn(`cluster name '${name}' lost by ${owned.pid} (${why}): stopping it`, { name, pid: String(owned.pid) });
    this.#runtime.exit(owned.pid, 'kill');
    // Free it for the others now rather than at the lease's end (refused if it was taken).
    void this.#release(name, owned);
    for (const listener of [...this.#lostListeners]) listener(lost);
  }

  #ownerExited(pid: Pid): void {
    for (const [name, owned] of this.#owned) {
      if (owned.pid.id === pid.id && owned.pid.node === pid.node) void this.unregister(name);
    }
  }

  // --- the view ----------------------------------------------------------------------------------

  #saw(entry: KvWatchEntry): void {
    const name = nameOf(entry.key);
    if (name !== undefined) {
      const before = this.#view.get(name);
      if (entry.operation === 'PUT') {
        const lease = entry.json<Lease>();
        const seen: Seen = { pid: Pid.from(lease.pid), expiresAt: lease.expiresAt, revision: entry.revision };
        this.#view.set(name, seen);
        if (before === undefined || !Pid.equals(before.pid, seen.pid)) {
          if (before !== undefined) this.#bucket.notify({ type: 'xotp.registry.unregister', registry: this.name, key: name, pid: before.pid });
          this.#bucket.notify({ type: 'xotp.registry.register', registry: this.name, key: name, pid: seen.pid, value: undefined });
        }
        // Someone else wrote a name this node holds: it is theirs now.
        const owned = this.#owned.get(name);
        if (owned !== undefined && entry.revision > owned.revision && !Pid.equals(owned.pid, seen.pid)) {
          // Overdue (a SIGSTOP past the lease) is why it was taken: say so, as the timer would have.
          const overdue = this.#runtime.clock.now() - owned.sentAt >= this.#leaseMs - this.#renewMs;
          this.#fence(name, owned, overdue ? 'lease_expired' : 'taken');
        }
      } else {
        this.#view.delete(name);
        if (before !== undefined) this.#bucket.notify({ type: 'xotp.registry.unregister', registry: this.name, key: name, pid: before.pid });
      }
      for (const waiter of [...this.#waiters]) if (waiter.name === name) waiter.wake();
    }
  }

  /** Stops renewing and watching, frees every name this node holds, and leaves the runtime's name services. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#bucket.close();
    this.#unpublish();
    for (const waiter of [...this.#waiters]) waiter.wake();
    await Promise.all(this.held().map((name) => this.unregister(name)));
  }
}

/**
 * Opens (or creates) the names bucket, loads this node's view of it, makes it the runtime's name
 * service `service`, and starts renewing for `runtime`.
 *
 * @throws InvalidOptionError for options of the wrong shape (`renewMs` must be below half the
 *   lease); AlreadyRegisteredError when the runtime already has a name service named `service`.
 */
export async function clusterNames(runtime: Runtime, transport: NatsTransport, options: ClusterNamesOptions = {}): Promise<ClusterNames> {
  const settings = leaseSettings('clusterNames', options, { bucket: 'xotp_names', service: 'cluster' });
  return openLeasedBucket(runtime, transport, settings, 'n', (bucket) => new ClusterNames(runtime, bucket));
}

/** A name is one base64url token under `n.`. */
function keyOf(name: string): string {
  return `n.${token(name)}`;
}

function nameOf(key: string): string | undefined {
  return key.startsWith('n.') ? untoken(key.slice(2)) : undefined;
}
