import type { RuntimeClock } from './clock.js';
import { AlreadyRegisteredError, NoProcessError, RuntimeStoppedError, TimeoutError } from './errors.js';
import type { Transport, TransportEndpoint, TransportHandler, TransportRequestOptions } from './transport.js';

interface Subscription {
  readonly endpoint: MemoryEndpoint;
  readonly handler: TransportHandler;
}

/**
 * An in-process network that several runtimes join: the transport for tests of distribution.
 * Messages are delivered on a microtask (never inside the sender's call, as on a real network)
 * and in the order they were sent, so a test on the simulated clock is deterministic.
 * `disconnect(node)` is a node crashing: its peers learn it is gone, it hears nothing more.
 *
 * @example
 * ```ts
 * const network = new MemoryNetwork();
 * const a = createRuntime({ name: 'a', transport: network });
 * const b = createRuntime({ name: 'b', transport: network });
 * ```
 */
export class MemoryNetwork implements Transport {
  readonly #nodes = new Map<string, MemoryEndpoint>();
  readonly #subjects = new Map<string, Set<Subscription>>();
  readonly #queues = new Map<string, Map<string, { members: Subscription[]; next: number }>>();

  join(node: string, options: { clock: RuntimeClock }): TransportEndpoint {
    if (this.#nodes.has(node)) throw new AlreadyRegisteredError(node, node, `a node named '${node}' already joined this network`);
    const endpoint = new MemoryEndpoint(this, node, options.clock);
    this.#nodes.set(node, endpoint);
    return endpoint;
  }

  /** The nodes joined right now. */
  nodes(): string[] {
    return [...this.#nodes.keys()];
  }

  /** Cuts `node` off as a crash would: it stops hearing anything, and its peers learn it is gone. */
  disconnect(node: string): void {
    this.#nodes.get(node)?.drop();
  }

  /** @internal */
  isUp(node: string): boolean {
    return this.#nodes.has(node);
  }

  /** @internal */
  add(subject: string, sub: Subscription, queue: string | undefined): () => void {
    if (queue === undefined) {
      let subs = this.#subjects.get(subject);
      if (subs === undefined) this.#subjects.set(subject, (subs = new Set()));
      subs.add(sub);
      return () => {
        subs.delete(sub);
        if (subs.size === 0 && this.#subjects.get(subject) === subs) this.#subjects.delete(subject);
      };
    }
    let groups = this.#queues.get(subject);
    if (groups === undefined) this.#queues.set(subject, (groups = new Map()));
    let group = groups.get(queue);
    if (group === undefined) groups.set(queue, (group = { members: [], next: 0 }));
    group.members.push(sub);
    const g = group;
    return () => {
      const i = g.members.indexOf(sub);
      if (i >= 0) g.members.splice(i, 1);
    };
  }

  /** Who receives a message on `subject` now: every plain subscriber, one member per queue group. */
  /** @internal */
  receivers(subject: string): Subscription[] {
    const out: Subscription[] = [...(this.#subjects.get(subject) ?? [])];
    const groups = this.#queues.get(subject);
    if (groups !== undefined) {
      for (const group of groups.values()) {
        if (group.members.length === 0) continue;
        out.push(group.members[group.next++ % group.members.length]!);
      }
    }
    return out;
  }

  /** @internal */
  left(endpoint: MemoryEndpoint): void {
    if (this.#nodes.get(endpoint.node) !== endpoint) return;
    this.#nodes.delete(endpoint.node);
    for (const peer of [...this.#nodes.values()]) peer.peerDown(endpoint.node);
  }
}

/** One node's endpoint on a `MemoryNetwork`. @internal */
class MemoryEndpoint implements TransportEndpoint {
  readonly node: string;
  readonly #network: MemoryNetwork;
  readonly #clock: RuntimeClock;
  readonly #unsubscribes = new Set<() => void>();
  readonly #downListeners = new Set<(node: string) => void>();
  readonly #pending = new Set<{ fail(error: unknown): void }>();
  #open = true;

  constructor(network: MemoryNetwork, node: string, clock: RuntimeClock) {
    this.#network = network;
    this.node = node;
    this.#clock = clock;
  }

  publish(subject: string, data: string): void {
    if (!this.#open) return;
    for (const sub of this.#network.receivers(subject)) {
      queueMicrotask(() => sub.endpoint.deliver(sub.handler, data, undefined));
    }
  }

  request(subject: string, data: string, options: TransportRequestOptions): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (!this.#open) return reject(new RuntimeStoppedError(this.node, `request on '${subject}'`));
      const receiver = this.#network.receivers(subject)[0];
      if (receiver === undefined) {
        queueMicrotask(() => reject(new NoProcessError(subject, 'request', 'nothing listens on that subject')));
        return;
      }
      let timer: unknown;
      const onAbort = () => settle(() => reject(options.signal!.reason));
      const entry = { fail: (error: unknown) => settle(() => reject(error)) };
      let done = false;
      const settle = (then: () => void) => {
        if (done) return;
        done = true;
        this.#pending.delete(entry);
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        then();
      };
      if (options.signal?.aborted) return reject(options.signal.reason);
      this.#pending.add(entry);
      if (options.timeout !== Infinity) {
        timer = this.#clock.setTimeout(() => {
          timer = undefined;
          settle(() => reject(new TimeoutError('request', options.timeout, subject)));
        }, options.timeout);
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const respond = (answer: string) => {
        // The answer travels the network too: lost if the requester has left meanwhile.
        queueMicrotask(() => {
          if (this.#open) settle(() => resolve(answer));
        });
      };
      queueMicrotask(() => receiver.endpoint.deliver(receiver.handler, data, respond));
    });
  }

  subscribe(subject: string, handler: TransportHandler): () => void {
    return this.#add(subject, handler, undefined);
  }

  queueSubscribe(subject: string, queue: string, handler: TransportHandler): () => void {
    return this.#add(subject, handler, queue);
  }

  #add(subject: string, handler: TransportHandler, queue: string | undefined): () => void {
    if (!this.#open) return () => {};
    const remove = this.#network.add(subject, { endpoint: this, handler }, queue);
    this.#unsubscribes.add(remove);
    return () => {
      this.#unsubscribes.delete(remove);
      remove();
    };
  }

  /** An in-memory subscription takes effect at once. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  onNodeDown(listener: (node: string) => void): () => void {
    this.#downListeners.add(listener);
    return () => this.#downListeners.delete(listener);
  }

  isUp(node: string): boolean {
    return this.#network.isUp(node);
  }

  async close(): Promise<void> {
    this.drop();
  }

  /** @internal */
  deliver(handler: TransportHandler, data: string, respond: ((data: string) => void) | undefined): void {
    if (this.#open) handler(data, respond);
  }

  /** @internal */
  peerDown(node: string): void {
    // Asynchronous, as a real network learns it: never inside the call that cut the node off.
    queueMicrotask(() => {
      if (!this.#open) return;
      for (const listener of [...this.#downListeners]) listener(node);
    });
  }

  /** @internal */
  drop(): void {
    if (!this.#open) return;
    this.#open = false;
    for (const remove of this.#unsubscribes) remove();
    this.#unsubscribes.clear();
    for (const entry of [...this.#pending]) entry.fail(new RuntimeStoppedError(this.node, 'wait for a reply: the node left the network'));
    this.#network.left(this);
  }
}
