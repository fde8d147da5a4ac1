import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { AlreadyRegisteredError, InvalidOptionError, NoProcessError, TimeoutError } from '../runtime/errors.js';
import { validateOptions, optional, integer, matching } from '../runtime/validate.js';
import type { RuntimeClock } from '../runtime/clock.js';
import type { Transport, TransportEndpoint, TransportHandler, TransportRequestOptions } from '../runtime/transport.js';

/** Options of `connectNats`. */
export interface NatsTransportOptions {
  /** The NATS server(s), e.g. `'nats://127.0.0.1:4222'`. */
  servers: string | string[];
  /** Nodes see each other only within one cluster: subjects are `xotp.<cluster>.…`. Default `'xotp'`. */
  cluster?: string;
  /** How often a node announces itself, in ms. Default 1000. */
  heartbeatMs?: number;
  /** A peer silent for this many heartbeats is gone (`noconnection`). Default 3. */
  missedHeartbeats?: number;
}

const tokenPattern = /^[A-Za-z][\w-]*$/;

interface Presence {
  node: string;
  incarnation: string;
  leaving?: boolean;
}

/**
 * A `Transport` over one NATS connection: `createRuntime({ name, transport: await connectNats(...) })`.
 *
 * Each node listens on `xotp.<cluster>.<node>.msg` (what the kernel sends it, requests included)
 * and announces itself on `xotp.<cluster>.presence` every `heartbeatMs`. A peer that misses
 * `missedHeartbeats` announcements, or comes back as a new incarnation (it restarted), is gone:
 * its processes' watchers get `noconnection`. A node that closes says so at once.
 *
 * One connection serves one node: `join` once. Closing the endpoint (the runtime's shutdown
 * does) drains and closes the connection.
 */
export class NatsTransport implements Transport {
  readonly #nc: NatsConnection;
  readonly #cluster: string;
  readonly #heartbeatMs: number;
  readonly #missed: number;
  #joined = false;

  /** @internal use `connectNats` */
  constructor(nc: NatsConnection, cluster: string, heartbeatMs: number, missed: number) {
    this.#nc = nc;
    this.#cluster = cluster;
    this.#heartbeatMs = heartbeatMs;
    this.#missed = missed;
  }

  /** The NATS connection (for JetStream: `clusterNames` keeps its bucket on it). */
  get connection(): NatsConnection {
    return this.#nc;
  }

  join(node: string, options: { clock: RuntimeClock }): TransportEndpoint {
    if (this.#joined) throw new AlreadyRegisteredError(node, node, 'this NATS connection already serves a node: connect once per runtime');
    this.#joined = true;
    return new NatsEndpoint(this.#nc, `xotp.${this.#cluster}.`, node, options.clock, this.#heartbeatMs, this.#missed);
  }
}

/**
 * Connects to NATS for one node.
 *
 * @throws InvalidOptionError for options of the wrong shape; the NATS client's error when no
 *   server can be reached.
 */
export async function connectNats(options: NatsTransportOptions): Promise<NatsTransport> {
  const o = validateOptions('connectNats', options, {
    servers: (v: unknown, key: string): string[] => {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
        throw new InvalidOptionError(key, 'a server URL or a non-empty array of them', v);
      }
      return list as string[];
    },
    cluster: optional(matching(tokenPattern, 'a name of letters, digits, _ or - starting with a letter'), 'xotp'),
    heartbeatMs: optional(integer(10), 1000),
    missedHeartbeats: optional(integer(1), 3),
  });
  const nc = await connect({ servers: o.servers, name: `xotp-${o.cluster}` });
  return new NatsTransport(nc, o.cluster, o.heartbeatMs, o.missedHeartbeats);
}

/** One node on NATS. @internal */
class NatsEndpoint implements TransportEndpoint {
  readonly node: string;
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #clock: RuntimeClock;
  readonly #heartbeatMs: number;
  readonly #missed: number;
  readonly #incarnation = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  readonly #peers = new Map<string, { incarnation: string; lastSeen: number }>();
  readonly #downListeners = new Set<(node: string) => void>();
  readonly #subs = new Set<Subscription>();
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  #timer: unknown;
  #closed: Promise<void> | undefined;

  constructor(nc: NatsConnection, prefix: string, node: string, clock: RuntimeClock, heartbeatMs: number, missed: number) {
    this.#nc = nc;
    this.#prefix = prefix;
    this.node = node;
    this.#clock = clock;
    this.#heartbeatMs = heartbeatMs;
    this.#missed = missed;
    this.#subs.add(
      nc.subscribe(`${prefix}presence`, {
        callback: (err, msg) => {
          if (err === null) this.#heard(JSON.parse(this.#decoder.decode(msg.data)) as Presence);
        },
      }),
    );
    // Announce only once the server has our presence subscription (flush is a round trip):
    // two nodes joining at once would otherwise both miss the other's first announcement.
    nc.flush().then(
      () => this.#beat(),
      () => undefined,
    );
  }

  #announce(leaving: boolean): void {
    // A connection closed under us (the server went away for good) publishes nothing more.
    if (this.#nc.isClosed()) return;
    const presence: Presence = leaving ? { node: this.node, incarnation: this.#incarnation, leaving } : { node: this.node, incarnation: this.#incarnation };
    this.#nc.publish(`${this.#prefix}presence`, this.#encoder.encode(JSON.stringify(presence)));
  }

  /** Announces this node, and declares gone the peers that stayed silent too long. */
  #beat(): void {
    if (this.#closed !== undefined) return;
    this.#announce(false);
    const now = this.#clock.now();
    const limit = this.#heartbeatMs * this.#missed;
    for (const [node, peer] of [...this.#peers]) {
      if (now - peer.lastSeen > limit) this.#down(node);
    }
    this.#timer = this.#clock.setTimeout(() => this.#beat(), this.#heartbeatMs);
    // A heartbeat must not keep a process alive that has nothing else to do.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #heard(presence: Presence): void {
    if (presence.node === this.node) return;
    const known = this.#peers.get(presence.node);
    if (presence.leaving) {
      if (known?.incarnation === presence.incarnation) this.#down(presence.node);
      return;
    }
    // The same name with another incarnation: the old node died and a new one took its place.
    if (known !== undefined && known.incarnation !== presence.incarnation) this.#down(presence.node);
    this.#peers.set(presence.node, { incarnation: presence.incarnation, lastSeen: this.#clock.now() });
    // A newcomer learns of us at once rather than at our next heartbeat: a node that dies
    // before then must still be known, or its watchers would never hear noconnection.
    if (known?.incarnation !== presence.incarnation && this.#closed === undefined) this.#announce(false);
  }

  #down(node: string): void {
    this.#peers.delete(node);
    for (const listener of [...this.#downListeners]) listener(node);
  }

  publish(subject: string, data: string): void {
    if (this.#closed !== undefined || this.#nc.isClosed()) return;
    this.#nc.publish(this.#prefix + subject, this.#encoder.encode(data));
  }

  request(subject: string, data: string, options: TransportRequestOptions): Promise<string> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const sent = this.#nc.request(this.#prefix + subject, this.#encoder.encode(data), { timeout: options.timeout });
    // One promise between the caller and the reply (no race of two): this is every remote call's path.
    return new Promise<string>((resolve, reject) => {
      // The abort waits one macrotask: a reply read in the same turn as the abort (the answering
      // node's last reply, then its goodbye) settles first, through `sent`'s microtask. Without
      // it a call whose process a shutting-down node killed got 'noconnection', not 'killed'.
      const onAbort = () => void setImmediate(() => reject(signal!.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      sent.then(
        (msg) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#decoder.decode(msg.data));
        },
        (err: unknown) => {
          // An abandoned request settles later (its own timeout, or the connection closing).
          if (signal?.aborted) return;
          signal?.removeEventListener('abort', onAbort);
          const e = err as { name?: string; isNoResponders?: () => boolean; cause?: { name?: string } };
          if (e.isNoResponders?.() === true) reject(new NoProcessError(subject, 'request', 'nothing listens on that subject'));
          else if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') reject(new TimeoutError('request', options.timeout, subject));
          else reject(err);
        },
      );
    });
  }

  subscribe(subject: string, handler: TransportHandler): () => void {
    return this.#sub(subject, handler, undefined);
  }

  queueSubscribe(subject: string, queue: string, handler: TransportHandler): () => void {
    return this.#sub(subject, handler, queue);
  }

  #sub(subject: string, handler: TransportHandler, queue: string | undefined): () => void {
    const sub = this.#nc.subscribe(this.#prefix + subject, {
      ...(queue === undefined ? {} : { queue }),
      callback: (err, msg) => {
        if (err !== null) return;
        const respond = msg.reply === undefined || msg.reply === '' ? undefined : (answer: string) => void msg.respond(this.#encoder.encode(answer));
        handler(this.#decoder.decode(msg.data), respond);
      },
    });
    this.#subs.add(sub);
    return () => {
      this.#subs.delete(sub);
      sub.unsubscribe();
    };
  }

  flush(): Promise<void> {
    return this.#nc.flush();
  }

  onNodeDown(listener: (node: string) => void): () => void {
    this.#downListeners.add(listener);
    return () => this.#downListeners.delete(listener);
  }

  isUp(node: string): boolean {
    return this.#peers.has(node);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
      if (!this.#nc.isClosed()) {
        this.#announce(true);
        // drain: what was published (the goodbye included) reaches the server before closing.
        await this.#nc.drain().catch(() => this.#nc.close());
      }
    })();
    return this.#closed;
  }
}
