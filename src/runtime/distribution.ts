import { combineSignals } from './combineSignals.js';
import { Pid, isPid, type PidLike } from './pid.js';
import { AbortError, NoProcessError, ProcessExitError, TimeoutError, XotpError } from './errors.js';
import { serializeReason } from './serializeReason.js';
import { errorClassOf } from './errorTaxonomy.js';
import { checkSerializable } from './serializable.js';
import type { ExitReason } from './exitReason.js';
import type { DownMessage } from './messages.js';
import type { Transport, TransportEndpoint, Respond } from './transport.js';
import type { Runtime } from './runtime.js';

/** The kernel's wire protocol between nodes: one JSON object per message. */
type Wire =
  | { t: 'send'; to: PidLike; event: { type: string } }
  | { t: 'exit'; to: PidLike; from: PidLike; reason: unknown; link: boolean }
  | { t: 'link'; a: PidLike; b: PidLike }
  | { t: 'unlink'; a: PidLike; b: PidLike }
  | { t: 'mon'; ref: string; target: PidLike; node: string }
  | { t: 'demon'; ref: string }
  | { t: 'down'; ref: string; pid: PidLike; reason: unknown }
  | { t: 'call'; to: PidLike; request: unknown; timeout: number }
  | { t: 'stop'; to: PidLike; reason: unknown; timeout: number };

type Answer = { ok: true; value: unknown } | { ok: false; error: unknown };

type Watcher = Pid | ((down: DownMessage) => void);

interface RemoteMonitor {
  readonly ref: string;
  readonly target: Pid;
  readonly watcher: Watcher;
}

/** The subject a node listens on for everything the kernel sends it. */
export function nodeSubject(node: string): string {
  return `${node}.msg`;
}

/**
 * Each runtime's distribution, for the layers above the kernel that talk over the same
 * transport endpoint (pools served to other nodes): a node joins its network once.
 */
const byRuntime = new WeakMap<Runtime, Distribution>();

/** The distribution of `runtime`; undefined when it was created without a transport. @internal */
export function distributionOf(runtime: Runtime): Distribution | undefined {
  return byRuntime.get(runtime);
}

/**
 * How long a link or a monitor waits for the other node to acknowledge it before it counts as
 * unreachable (`noconnection`). The other node answers as soon as it reads it: only a node
 * that cannot be reached takes this long.
 */
const ACK_TIMEOUT = 10_000;

/** Requests cannot wait forever on a real network: 'infinity' waits this long (about 24 days). */
const LONGEST_WAIT = 2 ** 31 - 1;

/**
 * The kernel's side of distribution: what `send`, `cast`, `call`, `stop`, `link` and `monitor`
 * do for a pid of another node, and what this node does with what other nodes send it.
 *
 * A pid whose node is this runtime's never reaches this class (the runtime resolves it locally
 * first), so a runtime without a transport, and every local message of one with a transport,
 * pays nothing for it.
 *
 * Both ends of a link or a monitor keep their half: the watcher's side knows which remote pids
 * it watches (to deliver `noconnection` when their node goes away), the target's side knows who
 * watches from where (to send them the DOWN or the exit signal, and to drop them when the
 * watcher's node goes away).
 *
 * @internal
 */
export class Distribution {
  readonly #runtime: Runtime;
  readonly endpoint: TransportEndpoint;
  /** Local pid id → the remote pids it is linked to (by their printed form). */
  readonly #links = new Map<number, Map<string, Pid>>();
  /** Monitors held here on remote pids, by ref. */
  readonly #monitors = new Map<string, RemoteMonitor>();
  /** Local watcher pid id → refs of the remote monitors it holds (dropped when it dies). */
  readonly #monitorsByWatcher = new Map<number, Set<string>>();
  /** Monitors other nodes hold on local processes: their ref → our local ref and their node. */
  readonly #served = new Map<string, { localRef: string; node: string }>();
  /** Per node that requests went to: aborted with `noconnection` (ending them) if it goes. */
  readonly #inflight = new Map<string, AbortController>();
  /** Nodes seen leaving: a pid of theirs answers at once rather than after a timeout. */
  readonly #departed = new Set<string>();
  /** How many times each peer was seen going away (a restart under the same name counts). */
  readonly #departures = new Map<string, number>();
  #refSeq = 0;
  readonly #offExit: () => void;
  readonly #offDown: () => void;
  readonly #unsubscribe: () => void;

  constructor(runtime: Runtime, transport: Transport) {
    this.#runtime = runtime;
    this.endpoint = transport.join(runtime.name, { clock: runtime.clock });
    byRuntime.set(runtime, this);
    this.#unsubscribe = this.endpoint.subscribe(nodeSubject(runtime.name), (data, respond) => this.#receive(data, respond));
    this.#offDown = this.endpoint.onNodeDown((node) => this.#nodeDown(node));
    const onExit = ({ pid, reason }: { pid: Pid; reason: ExitReason }) => this.#localExited(pid, reason);
    runtime.events.on('process.exited', onExit);
    this.#offExit = () => runtime.events.off('process.exited', onExit);
  }

  /** Whether `target` is a pid of another node (a name is always local for now). */
  isRemote(target: unknown): target is PidLike {
    return isPid(target) && target.node !== this.#runtime.name;
  }

  /**
   * How many times `node` was seen going away: what lived there before a change of this count
   * (a session bound on it, say) is gone, even if a node of that name is up again.
   */
  departures(node: string): number {
    return this.#departures.get(node) ?? 0;
  }

  #gone(node: string): boolean {
    return this.#departed.has(node) && !this.endpoint.isUp(node);
  }

  #publish(node: string, message: Wire): void {
    this.endpoint.publish(nodeSubject(node), JSON.stringify(message));
  }

  // ---------------------------------------------------------------------------------------------
  // Outgoing

  send(to: PidLike, event: { type: string }, operation: string): void {
    checkSerializable(event, operation);
    if (this.#gone(to.node)) return;
    this.#publish(to.node, { t: 'send', to, event });
  }

  exit(to: PidLike, reason: ExitReason, from: Pid): boolean {
    if (this.#gone(to.node)) return false;
    this.#publish(to.node, { t: 'exit', to, from, reason: serializeReason(reason), link: false });
    return true;
  }

  async call<T>(to: PidLike, request: unknown, timeout: number, signal: AbortSignal | undefined, given: unknown): Promise<T> {
    checkSerializable(request, 'call');
    if (this.#gone(to.node)) throw new NoProcessError(given, 'call', `node '${to.node}' has left`);
    const answer = await this.#request(to, { t: 'call', to, request, timeout: wireTimeout(timeout) }, timeout, signal, 'call', given);
    if (answer.ok) return answer.value as T;
    throw decodeError(answer.error, 'call', given, timeout);
  }

  async stop(to: PidLike, reason: ExitReason, timeout: number): Promise<'ok' | 'noproc'> {
    if (this.#gone(to.node)) return 'noproc';
    let answer: Answer;
    try {
      answer = await this.#request(to, { t: 'stop', to, reason: serializeReason(reason), timeout: wireTimeout(timeout) }, timeout, undefined, 'stop', to);
    } catch (err) {
      // The node left before it answered: whatever ran there is gone with it.
      if (err instanceof NoProcessError || (err instanceof ProcessExitError && err.reason === 'noconnection')) return 'noproc';
      throw err;
    }
    if (answer.ok) return answer.value as 'ok' | 'noproc';
    throw decodeError(answer.error, 'stop', to, timeout);
  }

  /**
   * The signal that ends every request in flight to `node` when it goes away: one per node
   * rather than one per call, so a call without a signal of its own adds no listener of ours.
   */
  nodeSignal(node: string): AbortSignal {
    let controller = this.#inflight.get(node);
    if (controller === undefined) this.#inflight.set(node, (controller = new AbortController()));
    return controller.signal;
  }

  async #request(to: PidLike, message: Wire, timeout: number, signal: AbortSignal | undefined, operation: string, given: unknown): Promise<Answer> {
    const { signal: both, release } = combineSignals(this.nodeSignal(to.node), signal);
    try {
      const data = await this.endpoint.request(nodeSubject(to.node), JSON.stringify(message), { timeout: wireTimeout(timeout), signal: both });
      return JSON.parse(data) as Answer;
    } catch (err) {
      if (both.aborted) {
        const reason: unknown = both.reason;
        // Its node went away: name the process the caller waited on, as a local exit would.
        if (reason instanceof ProcessExitError) throw new ProcessExitError(given, reason.reason, operation);
        if (reason instanceof XotpError) throw reason;
        throw new AbortError(operation, reason);
      }
      if (err instanceof NoProcessError) throw new NoProcessError(given, operation, `node '${to.node}' is not reachable`);
      if (err instanceof TimeoutError) throw new TimeoutError(operation, timeout, given);
      if (err instanceof XotpError) throw err;
      // The transport itself failed (its connection closed, say) before heartbeats say the node
      // left: as OTP's call to a node it cannot reach, the process is gone for this caller.
      throw new ProcessExitError(given, 'noconnection', operation);
    } finally {
      release();
    }
  }

  /** Links the local `local` and the remote `remote`. */
  link(local: Pid, remote: PidLike): void {
    const r = Pid.from(remote);
    if (this.#gone(r.node)) {
      queueMicrotask(() => this.#runtime.exit(local, 'noconnection', r));
      return;
    }
    this.#addLink(local, r);
    this.#acknowledged(r.node, { t: 'link', a: local, b: r }, () => {
      if (this.#dropLink(local.id, r)) this.#runtime.exit(local, 'noconnection', r);
    });
  }

  unlink(local: Pid, remote: PidLike): void {
    const r = Pid.from(remote);
    if (this.#dropLink(local.id, r)) this.#publish(r.node, { t: 'unlink', a: local, b: r });
  }

  monitor(target: PidLike, watcher: Watcher): string {
    const ref = `#Ref<${this.#runtime.name}.r${++this.#refSeq}>`;
    const mon: RemoteMonitor = { ref, target: Pid.from(target), watcher };
    if (this.#gone(target.node)) {
      queueMicrotask(() => this.#deliverDown(mon, 'noconnection'));
      return ref;
    }
    this.#monitors.set(ref, mon);
    if (watcher instanceof Pid) {
      let refs = this.#monitorsByWatcher.get(watcher.id);
      if (refs === undefined) this.#monitorsByWatcher.set(watcher.id, (refs = new Set()));
      refs.add(ref);
    }
    this.#acknowledged(target.node, { t: 'mon', ref, target: mon.target, node: this.#runtime.name }, () => {
      const held = this.#dropMonitor(ref);
      if (held !== undefined) this.#deliverDown(held, 'noconnection');
    });
    return ref;
  }

  /**
   * Sends a link or a monitor as a request, so that it cannot go unheard: a node that nobody
   * serves (it never joined, or left before we knew) or that does not answer within
   * `ACK_TIMEOUT` is `unreachable` (noconnection); a node seen leaving meanwhile is handled by
   * `#nodeDown`. An unknown pid on a node that answers gets its noproc from that node.
   */
  #acknowledged(node: string, message: Wire, unreachable: () => void): void {
    const signal = this.nodeSignal(node);
    this.endpoint.request(nodeSubject(node), JSON.stringify(message), { timeout: ACK_TIMEOUT, signal }).then(
      () => undefined,
      () => {
        if (!signal.aborted) unreachable();
      },
    );
  }

  demonitor(ref: string): boolean {
    const mon = this.#dropMonitor(ref);
    if (mon === undefined) return false;
    this.#publish(mon.target.node, { t: 'demon', ref });
    return true;
  }

  #dropMonitor(ref: string): RemoteMonitor | undefined {
    const mon = this.#monitors.get(ref);
    if (mon === undefined) return undefined;
    this.#monitors.delete(ref);
    if (mon.watcher instanceof Pid) {
      const refs = this.#monitorsByWatcher.get(mon.watcher.id);
      refs?.delete(ref);
      if (refs?.size === 0) this.#monitorsByWatcher.delete(mon.watcher.id);
    }
    return mon;
  }

  #deliverDown(mon: RemoteMonitor, reason: ExitReason): void {
    const down: DownMessage = { type: 'xotp.down', ref: mon.ref, pid: mon.target, target: mon.target, reason };
    const watcher = mon.watcher;
    this.#runtime.events.emit('down', { ref: mon.ref, target: mon.target, watcher: watcher instanceof Pid ? watcher : undefined, reason });
    if (watcher instanceof Pid) {
      this.#runtime.send(watcher, down);
      return;
    }
    try {
      watcher(down);
    } catch (err) {
      this.#runtime.logger.error(`a monitor callback threw: ${String(err)}`, { ref: mon.ref });
    }
  }

  #addLink(local: Pid, remote: Pid): void {
    let links = this.#links.get(local.id);
    if (links === undefined) this.#links.set(local.id, (links = new Map()));
    links.set(String(remote), remote);
  }

  #dropLink(localId: number, remote: Pid): boolean {
    const links = this.#links.get(localId);
    if (links === undefined || !links.delete(String(remote))) return false;
    if (links.size === 0) this.#links.delete(localId);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Incoming

  #receive(data: string, respond: Respond | undefined): void {
    let message: Wire;
    try {
      message = JSON.parse(data) as Wire;
    } catch {
      this.#runtime.logger.warn('a message from another node was not JSON; dropped');
      return;
    }
    const rt = this.#runtime;
    switch (message.t) {
      case 'send':
        rt.send(Pid.from(message.to), message.event);
        return;
      case 'exit': {
        const from = Pid.from(message.from);
        const to = Pid.from(message.to);
        // A link's signal counts only while the link stands (an unlink may have crossed it).
        if (message.link && !this.#dropLink(to.id, from)) return;
        rt.exit(to, message.reason as ExitReason, from);
        return;
      }
      case 'link': {
        const remote = Pid.from(message.a);
        const local = Pid.from(message.b);
        respond?.('{"ok":true}');
        if (!rt.isAlive(local)) {
          // As a link's signal (link: true), so that the linker drops its half with it: the link
          // never stood, and a later nodedown must not signal it a second time.
          this.#publish(remote.node, { t: 'exit', to: remote, from: local, reason: 'noproc', link: true });
          return;
        }
        this.#addLink(local, remote);
        return;
      }
      case 'unlink':
        this.#dropLink(Pid.from(message.b).id, Pid.from(message.a));
        return;
      case 'mon': {
        const { ref, node } = message;
        const target = Pid.from(message.target);
        const localRef = rt.monitor(target, (down) => {
          this.#served.delete(ref);
          this.#publish(node, { t: 'down', ref, pid: target, reason: serializeReason(down.reason) });
        });
        // A DOWN for a dead target comes later (a microtask): the entry exists when it does.
        this.#served.set(ref, { localRef, node });
        respond?.('{"ok":true}');
        return;
      }
      case 'demon': {
        const served = this.#served.get(message.ref);
        if (served === undefined) return;
        this.#served.delete(message.ref);
        rt.demonitor(served.localRef);
        return;
      }
      case 'down': {
        const mon = this.#dropMonitor(message.ref);
        if (mon !== undefined) this.#deliverDown(mon, message.reason as ExitReason);
        return;
      }
      case 'call':
        this.#serveCall(message, respond);
        return;
      case 'stop':
        this.#serveStop(message, respond);
        return;
    }
  }

  #serveCall(message: Extract<Wire, { t: 'call' }>, respond: Respond | undefined): void {
    if (respond === undefined) return;
    const timeout = message.timeout >= LONGEST_WAIT ? 'infinity' : message.timeout;
    this.#runtime.call(Pid.from(message.to), message.request, { timeout }).then(
      (value) => {
        try {
          checkSerializable(value, 'reply');
          respond(JSON.stringify({ ok: true, value }));
        } catch (err) {
          respond(JSON.stringify({ ok: false, error: serializeReason(err) }));
        }
      },
      (err: unknown) => respond(JSON.stringify({ ok: false, error: serializeReason(err) })),
    );
  }

  #serveStop(message: Extract<Wire, { t: 'stop' }>, respond: Respond | undefined): void {
    const timeout = message.timeout >= LONGEST_WAIT ? Infinity : message.timeout;
    this.#runtime.stop(Pid.from(message.to), message.reason as ExitReason, { timeout }).then(
      (value) => respond?.(JSON.stringify({ ok: true, value })),
      (err: unknown) => respond?.(JSON.stringify({ ok: false, error: serializeReason(err) })),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Deaths

  /** A local process exited: its remote links get its exit signal, its remote monitors go. */
  #localExited(pid: Pid, reason: ExitReason): void {
    if (pid.node !== this.#runtime.name) return;
    const links = this.#links.get(pid.id);
    if (links !== undefined) {
      this.#links.delete(pid.id);
      const wireReason = serializeReason(reason);
      for (const remote of links.values()) this.#publish(remote.node, { t: 'exit', to: remote, from: pid, reason: wireReason, link: true });
    }
    const refs = this.#monitorsByWatcher.get(pid.id);
    if (refs !== undefined) for (const ref of [...refs]) this.demonitor(ref);
  }

  /** A peer is gone: everything watching or linked to its processes hears `noconnection`. */
  #nodeDown(node: string): void {
    this.#departed.add(node);
    this.#departures.set(node, (this.#departures.get(node) ?? 0) + 1);
    const rt = this.#runtime;
    const exits: Array<[Pid, Pid]> = [];
    for (const [localId, links] of this.#links) {
      for (const [key, remote] of links) {
        if (remote.node !== node) continue;
        links.delete(key);
        exits.push([new Pid(rt.name, localId, rt.creation), remote]);
      }
      if (links.size === 0) this.#links.delete(localId);
    }
    const downs = [...this.#monitors.values()].filter((m) => m.target.node === node);
    for (const [ref, served] of this.#served) {
      if (served.node !== node) continue;
      this.#served.delete(ref);
      rt.demonitor(served.localRef);
    }
    const inflight = this.#inflight.get(node);
    if (inflight !== undefined) {
      this.#inflight.delete(node);
      inflight.abort(new ProcessExitError(`node '${node}'`, 'noconnection'));
    }
    for (const mon of downs) {
      this.#dropMonitor(mon.ref);
      this.#deliverDown(mon, 'noconnection');
    }
    for (const [local, remote] of exits) rt.exit(local, 'noconnection', remote);
  }

  /** At shutdown: leave the network (peers see this node go). */
  async close(): Promise<void> {
    this.#offExit();
    this.#offDown();
    this.#unsubscribe();
    await this.endpoint.close();
  }
}

/** JSON has no Infinity: an unbounded wait travels as the longest one. */
function wireTimeout(timeout: number): number {
  return timeout === Infinity ? LONGEST_WAIT : timeout;
}

/** An error answered by another node, as the caller's typed error. */
function decodeError(error: unknown, operation: string, given: unknown, timeout: number): Error {
  if (typeof error !== 'object' || error === null) return new Error(String(error));
  const e = error as { name?: string; message?: string; code?: string; reason?: unknown; [k: string]: unknown };
  switch (e.code) {
    case 'noproc':
      return new NoProcessError(given, operation);
    case 'timeout':
      return new TimeoutError(operation, timeout, given);
    case 'exit':
      return new ProcessExitError(given, e.reason, operation);
  }
  const out: Error = typeof e.code === 'string' ? new XotpError(e.code, e.message ?? '') : new Error(e.message ?? '');
  // The same class as on the answering node (each layer declares its classes: see
  // defineErrorClasses): its constructor's own arguments are not on the wire, its fields are.
  const cls = typeof e.code === 'string' ? errorClassOf(e.code) : undefined;
  if (cls !== undefined) Object.setPrototypeOf(out, cls.prototype);
  if (typeof e.name === 'string') Object.defineProperty(out, 'name', { value: e.name, writable: true, configurable: true });
  for (const [k, v] of Object.entries(e)) {
    if (k !== 'name' && k !== 'message' && k !== 'code' && k !== 'stack') (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}
