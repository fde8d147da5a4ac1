import type { RuntimeClock } from './clock.js';

/**
 * How runtimes of several nodes reach one another: subjects carrying strings (JSON), in the
 * shape of NATS, so that a NATS connection implements it directly and an in-memory network can
 * stand in for it in tests. The kernel knows only this interface; the NATS implementation lives
 * in `cluster/`.
 *
 * A `Transport` is the network; `join` makes one node's endpoint on it. Subjects are relative:
 * an implementation may prefix them (the NATS one puts `xotp.<cluster>.` in front).
 */
export interface Transport {
  /**
   * Joins the network as `node`. `clock` is the joining runtime's: an implementation that keeps
   * its own timers (request timeouts, presence) runs them on it, so that simulated time moves
   * them in tests.
   *
   * @throws AlreadyRegisteredError when a node of that name is already joined (implementations
   *   that can tell).
   */
  join(node: string, options: { clock: RuntimeClock }): TransportEndpoint;
}

/** Answers a request; given to handlers only when the message was a request. */
export type Respond = (data: string) => void;

/** Receives a message; `respond` is defined when the sender waits for an answer. */
export type TransportHandler = (data: string, respond: Respond | undefined) => void;

export interface TransportRequestOptions {
  /** Milliseconds to wait for the answer (`Infinity`: no limit). */
  timeout: number;
  /** Gives up waiting (rejects with `signal.reason`). */
  signal?: AbortSignal | undefined;
}

/** One node's connection to the network. */
export interface TransportEndpoint {
  /** The node it joined as. */
  readonly node: string;
  /** Fire and forget; dropped when nobody listens (as a message to a dead pid). */
  publish(subject: string, data: string): void;
  /**
   * Sends and waits for one answer.
   *
   * @throws NoProcessError when nothing listens on `subject` (NATS's "no responders");
   *   TimeoutError after `timeout` ms; the signal's reason when it aborts.
   */
  request(subject: string, data: string, options: TransportRequestOptions): Promise<string>;
  /** Receives every message on `subject`. Returns the function that unsubscribes. */
  subscribe(subject: string, handler: TransportHandler): () => void;
  /**
   * Receives messages on `subject`, each one given to only one member of `queue` across the
   * network (a pool serving calls from other nodes). Returns the function that unsubscribes.
   */
  queueSubscribe(subject: string, queue: string, handler: TransportHandler): () => void;
  /**
   * Resolves once every subscription this endpoint made so far receives what any node sends
   * (NATS: the server has processed them, a round trip). A subscription is set up asynchronously:
   * until then a request from another node may find no responder.
   */
  flush(): Promise<void>;
  /**
   * Tells when a peer node is gone (it left, crashed, or missed its heartbeats): everything on
   * it is unreachable from then on. Returns the function that stops listening.
   */
  onNodeDown(listener: (node: string) => void): () => void;
  /** Whether `node` is known to be up right now. */
  isUp(node: string): boolean;
  /** Leaves the network: peers learn that this node is gone. Idempotent. */
  close(): Promise<void>;
}
