import { createActor, type ActorLogic, type AnyActorLogic, type AnyActorRef, type InputFrom, type Snapshot } from 'xstate';
import { EventEmitter } from 'eventemitter3';
import { Pid, isPid, type PidLike } from './pid.js';
import { formatReason, type ExitReason } from './exitReason.js';
import { XotpError, UnknownRegistryError, AbortError, InvalidOptionError, NoProcessError, RuntimeStoppedError, StartError } from './errors.js';
import { systemClock, type RuntimeClock } from './clock.js';
import { consoleLogger, type Logger } from './logger.js';
import type { RuntimeEventMap } from './events.js';
import type { CallFrom, CastMessage, DownMessage, StartAck } from './messages.js';
import { Status, attachRecord, recordOf, type ProcessRecord } from './processRecord.js';
import { validateOptions } from './validate.js';
import type { ProcessTreeNode, ProcessInfo } from './processInfo.js';
import { isViaName, type FallbackResolver, type NameService, type ViaName } from './nameService.js';
import { NameTable, isName, type Target } from './nameTable.js';
import { CallTable, DEFAULT_CALL_TIMEOUT, parseCallOptions, type CallOptions } from './callTable.js';
import { ProcessTable, type SpawnOptions } from './processTable.js';
import { stopAllProcesses, checkStopArguments, withTimeout, shutdownSchema, type ShutdownOptions, type StopOptions } from './shutdown.js';
import { Delivery } from './delivery.js';
import { isolateInspector } from './isolateInspector.js';
import { RuntimeEvents } from './runtimeEvents.js';
import { parseRuntimeOptions, type RuntimeOptions } from './runtimeOptions.js';
import { Distribution } from './distribution.js';

/**
 * The public face of the kernel. The work is done by four parts, one concept each:
 * `ProcessTable` (processes, links, monitors, exit propagation), `NameTable` (name resolution),
 * `CallTable` (pending calls and replies) and `stopAllProcesses` (shutdown), with `Delivery` as
 * the one send path they all use. This file validates arguments, resolves targets and delegates.
 *
 * It is longer than 600 lines and still one concept: the kernel's public API, some fifty
 * documented entry points of a few lines each. Splitting it further would split the one class a
 * user reads (and `TestRuntime` extends) without moving any logic out of it.
 */

export type { Target } from './nameTable.js';
export type { CallOptions } from './callTable.js';
export type { SpawnOptions } from './processTable.js';
export type { ShutdownOptions, StopOptions } from './shutdown.js';
export type { RuntimeOptions } from './runtimeOptions.js';
export { recordOf } from './processRecord.js';

/** What `runtime.resolve` gives: the pid, or the typed error a call would have raised. */
export type ResolveResult = { ok: true; pid: Pid } | { ok: false; error: NoProcessError | UnknownRegistryError | XotpError };

/**
 * Something outside the actor system that a process owns and that must not outlive the runtime,
 * such as an OS child process. Tracked so that leaks can be reported.
 */
export interface TrackedResource {
  /** A human description, used in leak reports (`python pid 4242 (owned by <app.3>)`). */
  describe(): string;
  /** Whether it is still alive. */
  isAlive(): boolean;
}

/** Counters for tests, benches and dashboards. */
export interface RuntimeStats {
  alive: number;
  spawned: number;
  exited: number;
  lateReplies: number;
  pendingCalls: number;
  monitors: number;
  names: number;
  resources: number;
}

type RuntimeState = 'running' | 'stopping' | 'stopped';

interface RootSnapshot {
  status: 'active';
  output: undefined;
  error: undefined;
}
/** The root actor: it does nothing but stand for the runtime at the top of the tree. */
const rootLogic: ActorLogic<RootSnapshot & Snapshot<undefined>, { type: string }> = {
  config: undefined,
  transition: (snapshot) => snapshot,
  getInitialSnapshot: () => ({ status: 'active', output: undefined, error: undefined }),
  getPersistedSnapshot: (snapshot) => snapshot,
};

/**
 * The runtime of an actor, by its system: how `runtimeOf(self)` finds it. Process-wide on
 * purpose, and safe: it is keyed by each runtime's own actor system and holds nothing alive.
 */
const runtimes = new WeakMap<object, Runtime>();
/**
 * The next runtime's `creation`. Process-wide on purpose: two runtimes of the same name in one
 * Node process must get different creations, so that a pid of one never addresses the other.
 * Starts at a random point so that pids of two Node processes are unlikely to collide either.
 */
let nextCreation = Math.floor(Math.random() * 0x3fffffff);

/**
 * One xotp runtime: an xstate actor system whose root is the runtime, a process table mapping
 * pids to actors, links, monitors, local names and the typed event bus. Create it with
 * `createRuntime`.
 *
 * Every process is an xstate actor in one system, so an inspector given to `createRuntime`
 * sees the whole tree. Actor ids are readable paths (`app/pool/worker-3`); pids stay the
 * stable identity.
 */
export class Runtime {
  /** The runtime's name: the root of the tree and the `node` of its pids. */
  readonly name: string;
  /** The clock every timer of this runtime uses. */
  readonly clock: RuntimeClock;
  readonly logger: Logger;
  /** The typed event bus. Other layers add events to `RuntimeEventMap`. */
  readonly events: EventEmitter<RuntimeEventMap> = new RuntimeEvents(() => this.logger);
  /** The root's pid (`<name.0>`): the sender of signals that come from outside any process. */
  readonly self: Pid;
  /** Tells this runtime's pids from those of another runtime of the same name. */
  readonly creation: number;

  #state: RuntimeState = 'running';
  #shutdownPromise: Promise<void> | undefined;
  readonly #root: AnyActorRef;
  readonly #delivery: Delivery;
  readonly #names: NameTable;
  readonly #calls: CallTable;
  readonly #procs: ProcessTable;
  readonly #resources = new Set<TrackedResource>();
  /** Set only with a transport: every remote pid goes through it, no local path does. */
  readonly #remote: Distribution | undefined;
  #inflight = 0;

  /** @internal use `createRuntime` */
  constructor(options: RuntimeOptions = {}) {
    const opts = parseRuntimeOptions(options);
    this.name = opts.name;
    this.clock = opts.clock ?? systemClock;
    const logger = (this.logger = opts.logger ?? consoleLogger());
    this.creation = nextCreation++;
    this.self = new Pid(this.name, 0, this.creation);
    this.#root = createActor(rootLogic, {
      id: this.name,
      clock: this.clock,
      logger: (...args: unknown[]) => logger.info(args.map((a) => (typeof a === 'string' ? a : formatReason(a))).join(' ')),
      ...(opts.inspect ? { inspect: isolateInspector(opts.inspect, logger) } : {}),
    });
    attachRecord(this.#root, undefined);
    this.#delivery = new Delivery(this.#root, opts.inspect !== undefined);
    const records = new Map<number, ProcessRecord>();
    this.#names = new NameTable(this.name, this.creation, records, this.events, opts.nameRegistries, opts.resolvers);
    this.#calls = new CallTable(this.clock, this.events, this.#delivery);
    const host = { name: this.name, creation: this.creation, self: this.self, root: this.#root, events: this.events, logger, delivery: this.#delivery };
    this.#procs = new ProcessTable(host, records, this.#names, this.#calls);
    runtimes.set(this.#root.system, this);
    this.#root.start();
    this.#remote = opts.transport === undefined ? undefined : new Distribution(this, opts.transport);
  }

  /** The kernel's send path, for behaviours of this package (a server sends itself events). @internal */
  get delivery(): Delivery {
    return this.#delivery;
  }

  /**
   * The record `target` names, or undefined (never throws): for this package's direct paths (a
   * call on a ready bridge), which fall back to `call` for anything unusual. @internal
   */
  recordFor(target: Target): ProcessRecord | undefined {
    return this.#names.resolveQuiet(target);
  }

  // ---------------------------------------------------------------------------------------------
  // Spawning

  /**
   * Spawns `logic` (any xstate `ActorLogic`) as a process and returns its pid at once.
   *
   * @example
   * ```ts
   * const pid = runtime.spawn(counterMachine, { name: 'counter', input: { start: 0 } });
   * runtime.send('counter', { type: 'inc' });
   * ```
   * @throws AlreadyRegisteredError if `name` is taken; NoProcessError if `link` or `parent` is
   *   not alive; InvalidOptionError for a bad option; RuntimeStoppedError after shutdown.
   */
  spawn<TLogic extends AnyActorLogic>(logic: TLogic, options?: SpawnOptions<InputFrom<TLogic>>): Pid {
    if (this.#state === 'stopped') throw new RuntimeStoppedError(this.name, 'spawn');
    return this.#procs.spawn(logic, options, undefined).pid;
  }

  /**
   * Spawns `logic` and waits until it has initialised. For a server that is the end of its
   * `init`; for other logic, the moment it started. Resolves with the pid, or `'ignore'` when
   * the init asked to be ignored (the process then exits `normal`).
   *
   * @throws StartError with the reason when the init stopped or threw, or the actor failed at once.
   */
  start<TLogic extends AnyActorLogic>(logic: TLogic, options?: SpawnOptions<InputFrom<TLogic>>): Promise<Pid | 'ignore'> {
    return new Promise((resolve, reject) => {
      const ack = (result: StartAck, rec: ProcessRecord) => {
        if ('ok' in result) resolve(rec.pid);
        else if ('ignore' in result) resolve('ignore');
        else reject(new StartError(`${rec.pid} (${rec.path})`, result.error));
      };
      try {
        if (this.#state === 'stopped') throw new RuntimeStoppedError(this.name, 'spawn');
        this.#procs.spawn(logic, options, ack);
      } catch (err) {
        reject(err);
      }
    });
  }

  /**
   * `start` with a callback instead of a promise, for this package's supervisors: `done` runs
   * synchronously when the process initialised within the spawn (a server whose `init`
   * returned at once), so a supervisor can go on with its next child in the same step instead
   * of paying a promise hop and an event per child; later otherwise.
   *
   * @throws what `spawn` throws (`done` is then not called).
   * @internal
   */
  startNow<TLogic extends AnyActorLogic>(logic: TLogic, options: SpawnOptions<InputFrom<TLogic>> | undefined, done: (result: StartAck, pid: Pid) => void): void {
    if (this.#state === 'stopped') throw new RuntimeStoppedError(this.name, 'spawn');
    this.#procs.spawn(logic, options, (result, rec) => done(result, rec.pid));
  }

  /**
   * Called by a behaviour that has started ending by itself (a server running `terminate`), so
   * that `info` says `'exiting'` and `stop` waits instead of asking again.
   *
   * @internal
   */
  noteExiting(actor: AnyActorRef): void {
    const rec = recordOf(actor);
    if (rec?.status === Status.Alive) rec.status = Status.Exiting;
  }

  /**
   * Called by logics that declare `acksStart` when their initialisation is over.
   *
   * @internal
   */
  ackStart(actor: AnyActorRef, result: StartAck): void {
    const rec = recordOf(actor);
    if (!rec?.ack) return;
    const ack = rec.ack;
    rec.ack = undefined;
    ack(result);
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  /**
   * Sends an event to a process, as xstate's `actor.send` would. A dead pid drops the event
   * silently (as OTP's `!` does); an unknown *name* throws `NoProcessError`.
   */
  send(target: Target, event: { type: string }): void {
    const rec = this.#names.resolve(target);
    if (rec === undefined) {
      const remote = this.#remoteOf(target);
      if (remote !== undefined) this.#remote!.send(remote, event, 'send');
      else if (isName(target)) throw new NoProcessError(target, 'send');
      return;
    }
    const delivery = this.#delivery;
    delivery.send(delivery.current, rec, event);
  }

  /** Sends a one-way message (`xotp.cast`; a server's `handleCast`). Same delivery rules as `send`. */
  cast<TMessage>(target: Target, message: TMessage): void {
    const rec = this.#names.resolve(target);
    if (rec === undefined) {
      const remote = this.#remoteOf(target);
      if (remote !== undefined) this.#remote!.send(remote, { type: 'xotp.cast', message } as CastMessage<TMessage>, 'cast');
      else if (isName(target)) throw new NoProcessError(target, 'cast');
      return;
    }
    const event: CastMessage<TMessage> = { type: 'xotp.cast', message };
    const delivery = this.#delivery;
    delivery.send(delivery.current, rec, event);
  }

  /**
   * Sends a request and waits for the reply (`xotp.call`; a server's `handleCall`, or any actor
   * that answers with `runtime.reply(event.from, value)`).
   *
   * @example
   * ```ts
   * const n = await runtime.call<number>('counter', 'get', { timeout: 1000 });
   * ```
   * @throws NoProcessError if the target is not alive; ProcessExitError if it exits before
   *   replying; TimeoutError after `timeout` ms (a reply arriving later is dropped and counted);
   *   AbortError when `signal` aborts.
   */
  call<TReply = unknown, TRequest = unknown>(target: Target, request: TRequest, options?: CallOptions): Promise<TReply> {
    let timeout = DEFAULT_CALL_TIMEOUT;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      try {
        ({ timeout, signal } = parseCallOptions(options));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    let rec: ProcessRecord | undefined;
    try {
      rec = this.#names.resolve(target);
    } catch (err) {
      return Promise.reject(err);
    }
    const remote = rec === undefined ? this.#remoteOf(target) : undefined;
    if (remote !== undefined) {
      if (signal?.aborted) return Promise.reject(new AbortError('call', signal.reason));
      return this.#remote!.call<TReply>(remote, request, timeout, signal, target);
    }
    if (rec === undefined || rec.status === Status.Dead) return Promise.reject(new NoProcessError(target, 'call'));
    if (signal?.aborted) return Promise.reject(new AbortError('call', signal.reason));
    return this.#calls.call<TReply, TRequest>(rec, target, request, timeout, signal);
  }

  /**
   * Answers a call. Returns false when the caller is no longer waiting (it timed out, aborted,
   * or was answered already): the reply is dropped and counted in `stats().lateReplies`.
   */
  reply(from: CallFrom, value: unknown): boolean {
    return this.#calls.reply(this.#delivery.current, from, value);
  }

  /**
   * Answers a call with an error: the caller's promise rejects with `error`. (OTP has no such
   * thing — a gen_server replies a value — but a JS caller expects failures as rejections.)
   * Returns false when the caller is no longer waiting.
   */
  replyError(from: CallFrom, error: unknown): boolean {
    return this.#calls.replyError(this.#delivery.current, from, error);
  }

  /** `reply` on behalf of `replier` (a server answering after an `await`). @internal */
  replyAs(replier: AnyActorRef, from: CallFrom, value: unknown): boolean {
    return this.#calls.reply(recordOf(replier), from, value);
  }

  /**
   * Where a target that is not a local process goes over the transport: a pid of another node,
   * or a name whose name service (cluster names) answers one. Undefined without a transport.
   */
  /** `#remoteOf` for a call that never fails (unlink): a registry that is down resolves nothing. */
  #quietRemoteOf(target: Target): PidLike | undefined {
    try {
      return this.#remoteOf(target);
    } catch {
      return undefined;
    }
  }

  #remoteOf(target: Target): PidLike | undefined {
    const remote = this.#remote;
    if (remote === undefined) return undefined;
    if (remote.isRemote(target)) return target;
    return isName(target) ? this.#names.remotePid(target) : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Stopping

  /**
   * Stops a process with `reason` (default `'normal'`) and resolves when it has exited.
   *
   * Idempotent, never throws for a target that is gone: an unknown name or dead pid resolves
   * `'noproc'`; a process that is already exiting resolves `'ok'` once it is gone; concurrent
   * stops of one process all resolve (`'ok'`, or `'noproc'` for those that arrive after a
   * non-server process already ended). A server runs its `terminate` first.
   *
   * `'ok'` means the process is gone, whatever reason it finally ended with (a `terminate`
   * that throws, or a kill that overtook the stop): unlike OTP the caller is not made to fail.
   * Use `exited(target)` or a monitor to learn the reason.
   *
   * @throws TimeoutError when the process has not exited after `timeout` ms. As in OTP the
   *   process is not killed; it carries on exiting.
   */
  async stop(target: Target, reason: ExitReason = 'normal', options?: StopOptions): Promise<'ok' | 'noproc'> {
    const timeout = checkStopArguments(reason, options);
    const rec = this.#names.resolveQuiet(target);
    const remote = rec === undefined ? this.#remoteOf(target) : undefined;
    if (remote !== undefined) return this.#remote!.stop(remote, reason, timeout);
    if (rec === undefined || rec.status === Status.Dead) return 'noproc';
    const gone = this.#procs.whenDead(rec);
    if (rec.status === Status.Alive) this.#procs.requestStop(rec, reason);
    if ((rec.status as Status) !== Status.Dead && timeout !== Infinity) {
      await withTimeout(this.clock, gone, timeout, 'stop', rec.pid);
    } else {
      await gone;
    }
    return 'ok';
  }

  /**
   * Resolves with the exit reason of `target` once it has exited; `'noproc'` at once if it is
   * not alive.
   */
  exited(target: Target): Promise<ExitReason> {
    const rec = this.#names.resolveQuiet(target);
    if (rec === undefined || rec.status === Status.Dead) return Promise.resolve('noproc');
    return this.#procs.whenDead(rec);
  }

  // ---------------------------------------------------------------------------------------------
  // Exit signals, links, monitors

  /**
   * Sends an exit signal to `target` as `from` (default: the runtime root), per OTP's `exit/2`:
   * `'kill'` is untrappable and ends it with `'killed'`; `'normal'` is ignored unless it traps
   * exits (or `from` is the target itself); any other reason ends a non-trapping process with
   * that reason and reaches a trapping one as an `xotp.exit` event.
   *
   * The root is the parent of every top-level process, so a trapping server spawned at the top
   * level treats a signal sent with the default `from` as its parent's: it terminates (as a
   * gen_server does) rather than seeing it in `handleInfo`. Pass `from` to send as another process.
   *
   * @returns false when the target was not alive (nothing happens, as in OTP).
   */
  exit(target: Target, reason: ExitReason, from?: Target): boolean {
    const rec = this.#names.resolve(target);
    const remote = rec === undefined ? this.#remoteOf(target) : undefined;
    if (remote !== undefined) {
      const sender = from === undefined ? this.#delivery.current?.pid ?? this.self : this.#names.mustResolve(from, 'exit (from)').pid;
      return this.#remote!.exit(remote, reason, sender);
    }
    if (rec === undefined || rec.status === Status.Dead) return false;
    let fromPid = this.self;
    // Who sends, for inspectors: the process named by `from`, else the one whose code runs.
    let source = this.#delivery.current;
    if (from !== undefined) {
      if (typeof from === 'string' || isViaName(from)) {
        source = this.#names.mustResolve(from, 'exit (from)');
        fromPid = source.pid;
      } else if (isPid(from)) {
        fromPid = Pid.from(from);
        source = this.#names.byPid(fromPid);
      } else throw new InvalidOptionError('exit.from', 'a pid, a registered name or a via name', from);
    }
    this.#procs.exit(rec, fromPid, source, reason);
    return true;
  }

  /**
   * Links two processes: when either exits, the other gets an exit signal with its reason.
   * Links are bidirectional and idempotent; linking a process to itself does nothing.
   *
   * Linking to a process that is not alive follows OTP: if `a` traps exits it gets an
   * `xotp.exit` event with reason `'noproc'`; otherwise this throws `NoProcessError`.
   */
  link(a: Target, b: Target): void {
    const remote = this.#remote;
    if (remote !== undefined) {
      // A pid of another node, or a name (a cluster name, a registry's) that stands for one.
      const ra0 = this.#names.resolve(a);
      const rb0 = this.#names.resolve(b);
      const farA = ra0 === undefined ? this.#remoteOf(a) : undefined;
      const farB = rb0 === undefined ? this.#remoteOf(b) : undefined;
      if (farA !== undefined || farB !== undefined) {
        if (farA !== undefined && farB !== undefined) throw new InvalidOptionError('link', 'at least one process of this node', a);
        const [local, other] = farB !== undefined ? [a, farB] : [b, farA!];
        remote.link(this.#names.mustResolve(local, 'link').pid, Pid.from(other));
        return;
      }
    }
    const ra = this.#names.mustResolve(a, 'link');
    const rb = this.#names.resolve(b);
    if (rb === undefined || rb.status === Status.Dead) {
      if (ra.trapExit && isPid(b)) {
        this.#procs.noprocLink(ra, Pid.from(b));
        return;
      }
      throw new NoProcessError(b, 'link');
    }
    this.#procs.addLink(ra, rb);
  }

  /** Removes the link between two processes, if any. Never fails. */
  unlink(a: Target, b: Target): void {
    const remote = this.#remote;
    if (remote !== undefined) {
      const farA = this.#names.resolveQuiet(a) === undefined ? this.#quietRemoteOf(a) : undefined;
      const farB = this.#names.resolveQuiet(b) === undefined ? this.#quietRemoteOf(b) : undefined;
      if (farA !== undefined || farB !== undefined) {
        const [local, other] = farB !== undefined ? [a, farB] : [b, farA!];
        const rl = this.#names.resolveQuiet(local);
        if (rl !== undefined) remote.unlink(rl.pid, Pid.from(other));
        return;
      }
    }
    const ra = this.#names.resolveQuiet(a);
    const rb = this.#names.resolveQuiet(b);
    if (ra && rb) this.#procs.dropLink(ra, rb);
  }

  /**
   * Monitors `target`. When it exits, `watcher` is told once: a process gets an `xotp.down`
   * event, a function is called with the same object. Monitoring something that is not alive
   * delivers DOWN with `'noproc'` at once. Returns the monitor's ref (for `demonitor`).
   */
  monitor(target: Target, watcher: Target | ((down: DownMessage) => void)): string {
    const given: Pid | string = typeof target === 'string' ? target : isViaName(target) ? `${target.via}:${formatReason(target.key)}` : Pid.from(target);
    const w = typeof watcher === 'function' ? watcher : this.#names.mustResolve(watcher, 'monitor (watcher)');
    const rec = this.#names.resolve(target);
    const remote = rec === undefined ? this.#remoteOf(target) : undefined;
    if (remote !== undefined) return this.#remote!.monitor(remote, typeof w === 'function' ? w : w.pid);
    if (rec === undefined || rec.status === Status.Dead) return this.#procs.monitorNothing(given, w);
    return this.#procs.addMonitor(rec, given, w);
  }

  /**
   * Removes a monitor; returns false if it had already fired or was unknown. (A server's
   * `ctx.demonitor(ref, { flush: true })` also drops a DOWN already waiting in its queue.)
   */
  demonitor(ref: string): boolean {
    return this.#procs.demonitor(ref) || (this.#remote !== undefined && this.#remote.demonitor(ref));
  }

  /**
   * Sets whether `target` traps exits; returns the previous value.
   *
   * @throws NoProcessError if the process is not alive.
   */
  trapExit(target: Target, flag: boolean): boolean {
    // OTP's process_flag(trap_exit, yes) is badarg: a truthy string is not a flag.
    if (typeof flag !== 'boolean') throw new InvalidOptionError('trapExit.flag', 'true or false', flag);
    const rec = this.#names.mustResolve(target, 'trapExit');
    const previous = rec.trapExit;
    rec.trapExit = flag;
    return previous;
  }

  // ---------------------------------------------------------------------------------------------
  // Names

  /**
   * Registers `target` under a local name.
   *
   * @throws AlreadyRegisteredError (with the owner) if the name is taken or the process already
   *   has a name; NoProcessError if the process is not alive.
   */
  register(name: string, target: Target): void {
    if (typeof name !== 'string' || !/^\S+$/.test(name)) {
      throw new InvalidOptionError('register.name', 'a non-empty name without spaces', name);
    }
    this.#names.register(name, this.#names.mustResolve(target, 'register'));
  }

  /**
   * Frees a local name. A name whose holder exited resolves to nothing until it is registered
   * again; unregistering it lets it resolve through `nameRegistries` and `resolvers` again.
   * Returns false if the name was neither held nor vacated.
   */
  unregister(name: string): boolean {
    return this.#names.unregister(name);
  }

  /**
   * The pid a name resolves to (local names, then `nameRegistries`, then fallback resolvers; or a
   * via name), or `undefined`.
   *
   * @throws UnknownRegistryError if a registry involved is not running.
   */
  whereis(name: string | ViaName): Pid | undefined {
    const rec = this.#names.resolve(name);
    if (rec === undefined) return this.#remoteOf(name) as Pid | undefined;
    return rec.status !== Status.Dead ? rec.pid : undefined;
  }

  /**
   * Resolves a target the way every call does, and returns the outcome as a value instead of
   * throwing: `{ ok: true, pid }`, or `{ ok: false, error }` with the `NoProcessError` or
   * `UnknownRegistryError` a call would have raised.
   */
  resolve(target: Target): ResolveResult {
    try {
      const rec = this.#names.resolve(target);
      if (rec !== undefined && rec.status !== Status.Dead) return { ok: true, pid: rec.pid };
      const remote = rec === undefined && isName(target) ? this.#remoteOf(target) : undefined;
      if (remote !== undefined) return { ok: true, pid: remote as Pid };
      return { ok: false, error: new NoProcessError(target, 'resolve') };
    } catch (err) {
      if (err instanceof XotpError) return { ok: false, error: err };
      throw err;
    }
  }

  /**
   * Makes a name service (a Registry) reachable by its name, for via names and lookups.
   * Returns the function that removes it.
   *
   * @throws AlreadyRegisteredError if a service of that name is already running.
   */
  registerNameService(service: NameService): () => void {
    return this.#names.registerNameService(service);
  }

  /**
   * The running name service of that name.
   *
   * @throws UnknownRegistryError naming it and listing the running ones.
   */
  nameService(name: string): NameService {
    return this.#names.service(name);
  }

  /** Names of the running name services. */
  nameServices(): string[] {
    return this.#names.serviceNames();
  }

  /** Adds a last-resort resolver for plain names (after local names and `nameRegistries`). */
  addResolver(resolver: FallbackResolver): () => void {
    return this.#names.addResolver(resolver);
  }

  /** The locally registered names. */
  registered(): string[] {
    return this.#names.registered();
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection

  /** True while the process exists (including while it is exiting). */
  isAlive(target: Target): boolean {
    // A pid is the hot path (registries check every pid they return).
    const rec = target instanceof Pid ? this.#names.byPid(target) : this.#names.resolveQuiet(target);
    return rec !== undefined && rec.status !== Status.Dead;
  }

  /** The pids of all live processes, in start order. */
  processes(): Pid[] {
    return [...this.#procs.records.values()].map((r) => r.pid);
  }

  /** What the runtime knows about one process, or `undefined` if it is not alive. */
  info(target: Target): ProcessInfo | undefined {
    const rec = this.#names.resolveQuiet(target);
    if (rec === undefined || rec.status === Status.Dead) return undefined;
    return this.#procs.infoOf(rec);
  }

  /** The process tree: the root, and every live process under its parent, in start order. */
  tree(): ProcessTreeNode {
    return this.#procs.tree();
  }

  /** The parent (tree placement) of a live process; the root's pid for top-level ones. */
  parentOf(target: Target): Pid | undefined {
    const rec = this.#names.resolveQuiet(target);
    if (rec === undefined || rec.status === Status.Dead) return undefined;
    return rec.parent ? rec.parent.pid : this.self;
  }

  /** The actor behind a live pid, for xstate interop (`getSnapshot`, `subscribe`). */
  actorOf(target: Target): AnyActorRef | undefined {
    const rec = this.#names.resolveQuiet(target);
    return rec && rec.status !== Status.Dead ? rec.actor : undefined;
  }

  stats(): RuntimeStats {
    return {
      alive: this.#procs.records.size,
      spawned: this.#procs.spawned,
      exited: this.#procs.exited,
      lateReplies: this.#calls.lateReplies,
      pendingCalls: this.#calls.size,
      monitors: this.#procs.monitorCount,
      names: this.#names.size,
      resources: this.#resources.size,
    };
  }

  /**
   * How many asynchronous steps (an awaited server handler, say) are running right now. A test
   * harness waits for this to reach 0 to know the runtime has settled.
   */
  get inflight(): number {
    return this.#inflight;
  }

  /** Marks the start of an asynchronous step; call the returned function when it ends. @internal */
  beginAsync(): () => void {
    this.#inflight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#inflight--;
    };
  }

  /** `'running'`, `'stopping'` (inside `shutdown`) or `'stopped'`. */
  get state(): RuntimeState {
    return this.#state;
  }

  // ---------------------------------------------------------------------------------------------
  // Resources

  /**
   * Tracks something outside the actor system (an OS process) so that leak checks can see it.
   * Returns a function that stops tracking it.
   */
  trackResource(resource: TrackedResource): () => void {
    this.#resources.add(resource);
    return () => {
      this.#resources.delete(resource);
    };
  }

  /** Tracked resources that are still alive. */
  liveResources(): TrackedResource[] {
    return [...this.#resources].filter((r) => r.isAlive());
  }

  // ---------------------------------------------------------------------------------------------
  // Shutdown

  /**
   * Stops every process and resolves when all are gone. Top-level processes are stopped one
   * at a time in reverse start order with reason `'shutdown'` (each takes its own subtree
   * down); anything left after that is stopped the same way. A process that has not exited
   * within `timeout` ms is killed. Idempotent: later calls return the same promise.
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    if (this.#shutdownPromise) return this.#shutdownPromise;
    const { timeout } = validateOptions('shutdown', options, shutdownSchema);
    this.#state = 'stopping';
    this.#shutdownPromise = (async () => {
      await stopAllProcesses(this, this.#procs, timeout);
      // After the processes: their links and monitors across nodes have told the peers.
      await this.#remote?.close();
      this.#calls.failAll();
      this.#state = 'stopped';
      // The root has no parent, so xstate's public stop applies (unlike a process's actor).
      this.#root.stop();
      this.events.emit('runtime.shutdown', { name: this.name });
    })();
    return this.#shutdownPromise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/**
 * Creates a runtime: one xstate actor system whose root is the runtime.
 *
 * @example
 * ```ts
 * import { createRuntime } from 'xotp';
 * const runtime = createRuntime({ name: 'app' });
 * const pid = runtime.spawn(someMachine, { name: 'worker' });
 * await runtime.shutdown();
 * ```
 * @throws InvalidOptionError naming the key when an option has the wrong shape.
 */
export function createRuntime(options?: RuntimeOptions): Runtime {
  return new Runtime(options);
}

/**
 * The pid of the process an actor runs as (for use inside machines: `pidOf(self)`).
 *
 * @throws NoProcessError if the actor is not an xotp process.
 */
export function pidOf(actor: AnyActorRef): Pid {
  const rec = recordOf(actor);
  if (!rec) throw new NoProcessError(actor.id, 'pidOf', 'the actor was not spawned by an xotp runtime');
  return rec.pid;
}

/**
 * The runtime an actor belongs to (for use inside machines: `runtimeOf(self).reply(...)`).
 *
 * @throws NoProcessError if the actor is not part of an xotp runtime.
 */
export function runtimeOf(actor: AnyActorRef): Runtime {
  const runtime = runtimes.get(actor.system);
  if (!runtime) throw new NoProcessError(actor.id, 'runtimeOf', 'the actor is not part of an xotp runtime');
  return runtime;
}
