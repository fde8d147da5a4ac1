// Types only at the top: @nats-io/kv is loaded when a bucket opens, so `xotp/cluster` (its
// transport, remote pools) imports without it; only clusterNames/clusterGroups need it.
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { InvalidOptionError } from '../runtime/errors.js';
import type { Pid } from '../runtime/pid.js';
import { validateOptions, optional, integer, matching } from '../runtime/validate.js';
import type { Runtime, Target } from '../runtime/runtime.js';
import type { RegistryRegisterEvent, RegistryUnregisterEvent } from '../registry/registryState.js';
import type { NatsTransport } from './natsTransport.js';

/** The watcher's iterator (its type comes from @nats-io/kv; nats-core is not a dependency of ours). */
type KvWatch = Awaited<ReturnType<KV['watch']>>;

/** Options shared by `clusterNames` and `clusterGroups` (their own interfaces give the defaults). */
export interface LeasedBucketOptions {
  /** The JetStream KV bucket. */
  bucket?: string;
  /** How long an entry counts without renewal, in ms. Default 5000. */
  leaseMs?: number;
  /** How often this node renews its entries. Default `leaseMs / 3`. */
  renewMs?: number;
  /**
   * How long past an entry's expiry another node waits before it takes or deletes it: covers
   * clock differences between machines and a slow stand-down. Default 1000.
   */
  marginMs?: number;
  /** Wall-clock time written in entries (tests move it). Default `Date.now`. */
  now?: () => number;
  /** The name under which the runtime knows this name service. */
  service?: string;
  /**
   * Names of local processes told of every change the bucket's watcher sees, with a registry's
   * listener events (`xotp.registry.register` / `xotp.registry.unregister`, `registry` being
   * `service`). Default none.
   */
  listeners?: string[];
}

/** The options once checked, with their defaults. */
export interface LeaseSettings {
  readonly bucket: string;
  readonly leaseMs: number;
  readonly renewMs: number;
  readonly marginMs: number;
  readonly now: () => number;
  readonly service: string;
  readonly listeners: readonly string[];
}

/** What a user of the bucket does with what the bucket's life brings. */
export interface LeasedBucketHandlers {
  /** An entry the watcher delivered (under the prefix the bucket was opened with). */
  saw(entry: KvWatchEntry): void;
  /** Every `renewMs` while open: renew this node's entries, act on others' expired ones. */
  tick(): void;
  /** A local process exited: drop what it held. */
  exited(pid: Pid): void;
}

/**
 * The part cluster names and cluster groups share: a JetStream KV bucket of leased entries,
 * a watcher feeding a local view (with `sync` to wait until it has caught up), a renewal timer on
 * the runtime's clock, registry-style listener events, and a life tied to the runtime's (its
 * shutdown closes it: a forgotten `close()` would otherwise keep a timer, and so the Node
 * process, alive).
 * @internal
 */
export class LeasedBucket {
  readonly kv: KV;
  readonly settings: LeaseSettings;
  readonly #runtime: Runtime;
  readonly #watch: KvWatch;
  readonly #synced: Array<{ revision: number; resolve: () => void }> = [];
  #offEvents: (() => void) | undefined;
  /** The highest revision the watcher has delivered. */
  #seen = 0;
  #timer: unknown;
  #closed = false;

  constructor(runtime: Runtime, kv: KV, watch: KvWatch, settings: LeaseSettings) {
    this.#runtime = runtime;
    this.kv = kv;
    this.#watch = watch;
    this.settings = settings;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts following the watcher, the renewal timer and the runtime's events. */
  start(handlers: LeasedBucketHandlers, onShutdown: () => void): void {
    const runtime = this.#runtime;
    const onExit = ({ pid }: { pid: Pid }) => handlers.exited(pid);
    runtime.events.on('process.exited', onExit);
    runtime.events.once('runtime.shutdown', onShutdown);
    this.#offEvents = () => {
      runtime.events.off('process.exited', onExit);
      runtime.events.off('runtime.shutdown', onShutdown);
    };
    void this.#follow(handlers);
    this.#schedule(handlers);
  }

  /** Waits until this node's view has caught up with every write the bucket had when called. */
  async sync(): Promise<void> {
    const status = await this.kv.status();
    const last = status.streamInfo.state.last_seq;
    if (this.#seen >= last) return;
    await new Promise<void>((resolve) => this.#synced.push({ revision: last, resolve }));
  }

  /** Sends a registry listener event to every listener that is running. */
  notify(event: RegistryRegisterEvent | RegistryUnregisterEvent): void {
    for (const listener of this.settings.listeners) {
      try {
        this.#runtime.send(listener as Target, event);
      } catch {
        // A listener that is not running misses the event, as a registry's would.
      }
    }
  }

  /** Stops the timer, the watcher and the event listeners; wakes `sync` waiters. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#runtime.clock.clearTimeout(this.#timer);
    this.#offEvents?.();
    this.#watch.stop();
    for (const s of this.#synced.splice(0)) s.resolve();
  }

  #schedule(handlers: LeasedBucketHandlers): void {
    if (this.#closed) return;
    this.#timer = this.#runtime.clock.setTimeout(() => {
      handlers.tick();
      this.#schedule(handlers);
    }, this.settings.renewMs);
  }

  async #follow(handlers: LeasedBucketHandlers): Promise<void> {
    try {
      for await (const entry of this.#watch) {
        this.#seen = Math.max(this.#seen, entry.revision);
        handlers.saw(entry);
        for (let i = this.#synced.length - 1; i >= 0; i--) {
          const s = this.#synced[i]!;
          if (this.#seen >= s.revision) {
            this.#synced.splice(i, 1);
            s.resolve();
          }
        }
      }
    } catch {
      // The connection closed under the watcher: the view stays as it was last seen.
    }
  }
}

/**
 * Checks the options of `fn` (`'clusterNames'`, `'clusterGroups'`), with its own defaults for the
 * bucket and the service name.
 *
 * @throws InvalidOptionError naming the key; `renewMs` must be below half the lease.
 */
export function leaseSettings(fn: string, options: LeasedBucketOptions, defaults: { bucket: string; service: string }): LeaseSettings {
  const o = validateOptions(fn, options, {
    bucket: optional(matching(/^[\w-]+$/, 'a bucket name of letters, digits, _ or -'), defaults.bucket),
    leaseMs: optional(integer(10), 5000),
    renewMs: optional(integer(1)),
    marginMs: optional(integer(0), 1000),
    now: optional((v: unknown, key: string) => {
      if (typeof v !== 'function') throw new InvalidOptionError(key, 'a function returning wall-clock ms', v);
      return v as () => number;
    }),
    service: optional(matching(/^\S+$/, 'a name without spaces'), defaults.service),
    listeners: optional((v: unknown, key: string) => {
      if (!Array.isArray(v) || !v.every((l) => typeof l === 'string' && l.length > 0)) throw new InvalidOptionError(key, 'a list of names of processes', v);
      return v as string[];
    }, []),
  });
  const renewMs = o.renewMs ?? Math.floor(o.leaseMs / 3);
  if (renewMs * 2 >= o.leaseMs) throw new InvalidOptionError(`${fn}.renewMs`, `less than half of leaseMs (${o.leaseMs})`, renewMs);
  return { bucket: o.bucket, leaseMs: o.leaseMs, renewMs, marginMs: o.marginMs, now: o.now ?? Date.now, service: o.service, listeners: o.listeners };
}

/**
 * Opens (or creates) the bucket, watches the keys under `prefix`, builds the user of it with
 * `make`, and resolves once its view is loaded; on any failure nothing is left open.
 */
export async function openLeasedBucket<T extends { sync(): Promise<void>; close(): Promise<void> }>(
  runtime: Runtime,
  transport: NatsTransport,
  settings: LeaseSettings,
  prefix: string,
  make: (bucket: LeasedBucket) => T,
): Promise<T> {
  let Kvm: typeof import('@nats-io/kv').Kvm;
  try {
    ({ Kvm } = await import('@nats-io/kv'));
  } catch (err) {
    throw new InvalidOptionError('@nats-io/kv', 'the optional peer dependency @nats-io/kv installed (clusterNames and clusterGroups use it)', undefined, `npm i @nats-io/kv (${(err as Error).message})`);
  }
  const kv = await new Kvm(transport.connection).create(settings.bucket, { history: 1 });
  const watch = await kv.watch({ key: `${prefix}.>` });
  let made: T;
  try {
    made = make(new LeasedBucket(runtime, kv, watch, settings));
  } catch (err) {
    watch.stop();
    throw err;
  }
  try {
    await made.sync();
  } catch (err) {
    await made.close();
    throw err;
  }
  return made;
}
