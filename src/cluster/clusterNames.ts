import { Kvm, type KV } from '@nats-io/kv';
import { AlreadyRegisteredError, InvalidOptionError, NoProcessError } from '../runtime/errors.js';
import { Pid, type PidLike } from '../runtime/pid.js';
import { validateOptions, optional, integer, matching } from '../runtime/validate.js';
import type { Runtime } from '../runtime/runtime.js';
import type { NatsTransport } from './natsTransport.js';

/** Options of `clusterNames`. */
export interface ClusterNamesOptions {
  /** The JetStream KV bucket holding the names. Default `'xotp_names'`. */
  bucket?: string;
  /** How long a name is held without renewal, in ms. Default 5000. */
  leaseMs?: number;
  /** How often the owner renews. Default `leaseMs / 3`. */
  renewMs?: number;
  /**
   * How long past a lease's expiry another node waits before it takes the name: covers clock
   * differences between machines and a slow stand-down. Default 1000.
   */
  marginMs?: number;
  /** Wall-clock time used in lease records (tests move it). Default `Date.now`. */
  now?: () => number;
}

/** One name's record in the bucket. */
interface Lease {
  pid: PidLike;
  /** Wall-clock ms (the owner's clock) after which the owner no longer holds the name. */
  expiresAt: number;
}

interface Owned {
  readonly pid: Pid;
  revision: number;
  /** Monotonic time (runtime clock) at which the last successful renewal was *sent*. */
  sentAt: number;
}

/**
 * Unique names across nodes on JetStream KV, each held under a lease its owner renews.
 *
 * The Debian server (2.9) has no per-key expiry, so a lease is data: `{ pid, expiresAt }`,
 * created atomically (`create` fails if the key exists) and renewed by a revision-checked
 * `update` (it fails if anyone else wrote the key since). Another node takes a name only when
 * `expiresAt + marginMs` has passed on its own clock, again by a revision-checked `update`, so
 * two takers cannot both win.
 *
 * Fencing: the owner counts its lease from the moment it *sent* its last successful renewal,
 * on its own monotonic clock. If it has not renewed by `sentAt + leaseMs` (the server is
 * unreachable, the process was stopped by SIGSTOP, a renewal was refused), it kills the process
 * that held the name before doing anything else. The earliest another node may take the name
 * is `expiresAt + marginMs` on its clock, which is later as long as the clocks differ by less
 * than `marginMs`: there is no moment with two owners.
 */
export class ClusterNames {
  readonly #runtime: Runtime;
  readonly #kv: KV;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #marginMs: number;
  readonly #now: () => number;
  readonly #owned = new Map<string, Owned>();
  readonly #offExit: () => void;
  #timer: unknown;
  #closed = false;

  /** @internal use `clusterNames` */
  constructor(runtime: Runtime, kv: KV, leaseMs: number, renewMs: number, marginMs: number, now: () => number) {
    this.#runtime = runtime;
    this.#kv = kv;
    this.#leaseMs = leaseMs;
    this.#renewMs = renewMs;
    this.#marginMs = marginMs;
    this.#now = now;
    const onExit = ({ pid }: { pid: Pid }) => this.#ownerExited(pid);
    runtime.events.on('process.exited', onExit);
    this.#offExit = () => runtime.events.off('process.exited', onExit);
    this.#schedule();
  }

  /**
   * Registers `pid` (a process of this node) under `name` across the cluster.
   *
   * @throws AlreadyRegisteredError naming the owner when another live lease holds the name;
   *   NoProcessError when `pid` is not alive here.
   */
  async register(name: string, target: PidLike): Promise<void> {
    const pid = Pid.from(target);
    if (pid.node !== this.#runtime.name || !this.#runtime.isAlive(pid)) throw new NoProcessError(target, 'clusterNames.register');
    const key = keyOf(name);
    const sentAt = this.#runtime.clock.now();
    const lease = this.#lease(pid);
    let revision: number;
    try {
      revision = await this.#kv.create(key, JSON.stringify(lease));
    } catch (createErr) {
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== 'PUT') throw createErr;
      const held = entry.json<Lease>();
      if (this.#now() <= held.expiresAt + this.#marginMs) throw new AlreadyRegisteredError(name, Pid.from(held.pid));
      try {
        revision = await this.#kv.update(key, JSON.stringify(lease), entry.revision);
      } catch {
        // Someone else took it between our read and our write.
        const now = await this.#kv.get(key);
        throw new AlreadyRegisteredError(name, now?.operation === 'PUT' ? Pid.from(now.json<Lease>().pid) : undefined);
      }
    }
    this.#owned.set(name, { pid, revision, sentAt });
    // The process may have died while we waited for the server.
    if (!this.#runtime.isAlive(pid)) this.#ownerExited(pid);
  }

  /** The pid holding `name` under a lease that has not expired, or undefined. */
  async whereis(name: string): Promise<Pid | undefined> {
    const entry = await this.#kv.get(keyOf(name));
    if (entry === null || entry.operation !== 'PUT') return undefined;
    const held = entry.json<Lease>();
    return this.#now() <= held.expiresAt ? Pid.from(held.pid) : undefined;
  }

  /** Frees a name this node holds; false if it does not hold it. */
  async unregister(name: string): Promise<boolean> {
    const owned = this.#owned.get(name);
    if (owned === undefined) return false;
    this.#owned.delete(name);
    await this.#kv.delete(keyOf(name), { previousSeq: owned.revision }).catch(() => undefined);
    return true;
  }

  /** The names this node holds. */
  held(): string[] {
    return [...this.#owned.keys()];
  }

  #lease(pid: Pid): Lease {
    return { pid: pid.toJSON(), expiresAt: this.#now() + this.#leaseMs };
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#runtime.clock.setTimeout(() => void this.#renewAll(), this.#renewMs);
  }

  async #renewAll(): Promise<void> {
    await Promise.all([...this.#owned].map(([name, owned]) => this.#renew(name, owned)));
    this.#schedule();
  }

  async #renew(name: string, owned: Owned): Promise<void> {
    const clock = this.#runtime.clock;
    // Past the lease on our own clock (a stall, SIGSTOP, a server out of reach): stand down
    // first; renewing now could overlap a taker who already waited out the lease.
    if (clock.now() - owned.sentAt >= this.#leaseMs - this.#renewMs) {
      this.#fence(name, owned, 'its lease ran out before it could renew');
      return;
    }
    const sentAt = clock.now();
    try {
      owned.revision = await this.#kv.update(keyOf(name), JSON.stringify(this.#lease(owned.pid)), owned.revision);
      owned.sentAt = sentAt;
    } catch (err) {
      if (this.#owned.get(name) !== owned) return;
      // A refused update means someone else wrote the key: the name is no longer ours.
      if (isWrongRevision(err)) this.#fence(name, owned, 'another node holds it now');
      // Anything else (the server is out of reach): try again next round, while the lease lasts.
    }
  }

  #fence(name: string, owned: Owned, why: string): void {
    this.#owned.delete(name);
    this.#runtime.logger.warn(`cluster name '${name}' lost by ${owned.pid} (${why}): stopping it`, { name, pid: String(owned.pid) });
    this.#runtime.exit(owned.pid, 'kill');
  }

  #ownerExited(pid: Pid): void {
    for (const [name, owned] of this.#owned) {
      if (owned.pid.id === pid.id && owned.pid.node === pid.node) void this.unregister(name);
    }
  }

  /** Stops renewing and frees every name this node holds. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) this.#runtime.clock.clearTimeout(this.#timer);
    this.#offExit();
    await Promise.all(this.held().map((name) => this.unregister(name)));
  }
}

/**
 * Opens (or creates) the names bucket and starts renewing for `runtime`.
 *
 * @throws InvalidOptionError for options of the wrong shape (`renewMs` must be below half the lease).
 */
export async function clusterNames(runtime: Runtime, transport: NatsTransport, options: ClusterNamesOptions = {}): Promise<ClusterNames> {
  const o = validateOptions('clusterNames', options, {
    bucket: optional(matching(/^[\w-]+$/, 'a bucket name of letters, digits, _ or -'), 'xotp_names'),
    leaseMs: optional(integer(10), 5000),
    renewMs: optional(integer(1)),
    marginMs: optional(integer(0), 1000),
    now: optional((v: unknown, key: string) => {
      if (typeof v !== 'function') throw new InvalidOptionError(key, 'a function returning wall-clock ms', v);
      return v as () => number;
    }),
  });
  const renewMs = o.renewMs ?? Math.floor(o.leaseMs / 3);
  if (renewMs * 2 >= o.leaseMs) throw new InvalidOptionError('clusterNames.renewMs', `less than half of leaseMs (${o.leaseMs})`, renewMs);
  const kv = await new Kvm(transport.connection).create(o.bucket, { history: 1 });
  return new ClusterNames(runtime, kv, o.leaseMs, renewMs, o.marginMs, o.now ?? Date.now);
}

/** KV keys allow only some characters: a name is stored in base64url. */
function keyOf(name: string): string {
  return `n.${Buffer.from(name).toString('base64url')}`;
}

function isWrongRevision(err: unknown): boolean {
  const text = `${(err as Error)?.message ?? ''} ${String((err as { code?: unknown })?.code ?? '')}`;
  return /wrong last sequence|10071/i.test(text);
}
