import { createActor, type AnyActorLogic, type AnyActorRef, type InputFrom, type InspectionEvent, type Observer } from 'xstate';
import { EventEmitter } from 'eventemitter3';
import { Pid, isPid, type PidLike } from './pid.js';
import { isCleanExit, formatReason, type ExitReason } from './exitReason.js';
import {
  XotpError,
  UnknownRegistryError,
  AbortError,
  AlreadyRegisteredError,
  InvalidOptionError,
  NoProcessError,
  ProcessExitError,
  RuntimeStoppedError,
  StartError,
  TimeoutError,
} from './errors.js';
import { systemClock, isRuntimeClock, type RuntimeClock } from './clock.js';
import { consoleLogger, isLogger, type Logger } from './logger.js';
import type { RuntimeEventMap } from './events.js';
import {
  processProtocol,
  type CallFrom,
  type CallMessage,
  type CastMessage,
  type DownMessage,
  type ExitMessage,
  type ProcessProtocol,
  type StartAck,
  type StopRequestMessage,
} from './messages.js';
import { ProcessRecord, Status, type Monitor, type RecordOwner } from './processRecord.js';
import { validateOptions, optional, matching, isBoolean, isTimeout, anything, instanceOf, isPlainObject } from './validate.js';
import type { ProcessTreeNode, ProcessInfo } from './processInfo.js';
import { Deadlines, type Deadline } from './deadlines.js';
import { isExitWith } from './exitWith.js';
import { trimOldest } from './trimOldest.js';
import { isViaName, type FallbackResolver, type NameService, type ViaName } from './nameService.js';

/**
 * Where a message can be sent: a pid (or its JSON form), a name (resolved through local names,
 * then the runtime's `nameRegistries`, then its fallback resolvers), or a via name
 * `{ via: registryName, key }`.
 */
export type Target = Pid | PidLike | string | ViaName;

/** What `runtime.resolve` gives: the pid, or the typed error a call would have raised. */
export type ResolveResult = { ok: true; pid: Pid } | { ok: false; error: NoProcessError | UnknownRegistryError | XotpError };

/** Options of `createRuntime`. */
export interface RuntimeOptions {
  /** The runtime's name: the root of the tree and the `node` of its pids. Default `'xotp'`. */
  name?: string;
  /** Source of time for every timer. Default: real time. Tests pass a `SimulatedClock`. */
  clock?: RuntimeClock;
  /** An xstate inspector (observer or function) receiving every actor's inspection events. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Where crash reports and warnings go. Default: the console, warnings and errors only. */
  logger?: Logger;
  /**
   * Registries (unique) in which plain names are also looked up, in order, after local names.
   * A listed registry that is not running makes resolution fail with `UnknownRegistryError`
   * rather than silently fall through to the next source.
   */
  nameRegistries?: string[];
  /** Last-resort resolvers for plain names, tried in order after local names and registries. */
  resolvers?: FallbackResolver[];
}

/** Options of `runtime.spawn` and `runtime.start`. */
export interface SpawnOptions<TInput = unknown> {
  /** Register the process under this local name, or via name, atomically with the spawn. */
  name?: string | ViaName;
  /** The last segment of its readable id; default: `name`, else `<label>-<pid number>`. */
  id?: string;
  /** The input handed to the logic (xstate `input`). */
  input?: TInput;
  /** Link the new process to this one before it starts (OTP's `spawn_link`). */
  link?: Target;
  /** Its parent in the tree (default: the runtime root). Only placement: lifetimes follow links. */
  parent?: Target;
  /** Trap exits from the start: exit signals arrive as `xotp.exit` events. */
  trapExit?: boolean;
}

/** Options of `runtime.call`. */
export interface CallOptions {
  /** Milliseconds to wait for the reply, or `'infinity'`. Default 5000, as in OTP. */
  timeout?: number | 'infinity';
  /** Cancels the wait; the call then rejects with `AbortError`. */
  signal?: AbortSignal;
}

/** Options of `runtime.stop`. */
export interface StopOptions {
  /** Milliseconds to wait for the process to end, or `'infinity'` (default). */
  timeout?: number | 'infinity';
}

/** Options of `runtime.shutdown`. */
export interface ShutdownOptions {
  /** Per process: how long to wait for it to stop before killing it. Default 5000 ms. */
  timeout?: number | 'infinity';
}

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

const DEFAULT_CALL_TIMEOUT = 5000;
/** How many vacated local names are remembered (oldest forgotten first). */
const MAX_VACATED = 10_000;
const DEFAULT_SHUTDOWN_TIMEOUT = 5000;
const kProcess: unique symbol = Symbol.for('xotp.process');
const namePattern = /^[A-Za-z][\w-]*$/;

const rootLogic = {
  config: undefined,
  transition: (snapshot: RootSnapshot) => snapshot,
  getInitialSnapshot: (): RootSnapshot => ({ status: 'active', output: undefined, error: undefined }),
  getPersistedSnapshot: (snapshot: RootSnapshot) => snapshot,
};
interface RootSnapshot {
  status: 'active';
  output: undefined;
  error: undefined;
}

interface PendingCall {
  readonly ref: number;
  readonly target: ProcessRecord;
  readonly given: Target;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  deadline: Deadline | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const spawnSchema = {
  name: optional((value: unknown, key: string): string | ViaName => {
    if (isViaName(value)) return value;
    return matching(/^\S+$/, 'a non-empty name without spaces, or a via name { via, key }')(value, key);
  }),
  id: optional(matching(/^[^/\s]+$/, "a non-empty id segment without '/' or spaces")),
  input: anything,
  link: anything,
  parent: anything,
  trapExit: optional(isBoolean, false),
};
const callSchema = { timeout: optional(isTimeout, DEFAULT_CALL_TIMEOUT), signal: optional(instanceOf(AbortSignal, 'an AbortSignal')) };
const stopSchema = { timeout: optional(isTimeout, Infinity) };
const shutdownSchema = { timeout: optional(isTimeout, DEFAULT_SHUTDOWN_TIMEOUT) };

/**
 * One xotp runtime: an xstate actor system whose root is the runtime, a process table mapping
 * pids to actors, links, monitors, local names and the typed event bus. Create it with
 * `createRuntime`.
 *
 * Every process is an xstate actor in one system, so an inspector given to `createRuntime`
 * sees the whole tree. Actor ids are readable paths (`app/pool/worker-3`); pids stay the
 * stable identity.
 */
export class Runtime implements RecordOwner {
  /** The runtime's name: the root of the tree and the `node` of its pids. */
  readonly name: string;
  /** The clock every timer of this runtime uses. */
  readonly clock: RuntimeClock;
  readonly logger: Logger;
  /** The typed event bus. Other layers add events to `RuntimeEventMap`. */
  readonly events = new EventEmitter<RuntimeEventMap>();
  /** The root's pid (`<name.0>`): the sender of signals that come from outside any process. */
  readonly self: Pid;
  /** Tells this runtime's pids from those of another runtime of the same name. */
  readonly creation: number;

  #state: RuntimeState = 'running';
  #shutdownPromise: Promise<void> | undefined;
  readonly #root: AnyActorRef;
  readonly #table = new Map<number, ProcessRecord>();
  readonly #names = new Map<string, ProcessRecord>();
  readonly #monitors = new Map<string, Monitor>();
  readonly #calls = new Map<number, PendingCall>();
  #callSeq = 0;
  readonly #resources = new Set<TrackedResource>();
  readonly #deadlines: Deadlines;
  readonly #services = new Map<string, NameService>();
  /** Names of services that ran at some point: to tell "restarting" from "never started". */
  readonly #serviceHistory = new Set<string>();
  readonly #nameRegistries: string[];
  /** Local names whose process exited without unregistering them (see #resolveName). */
  readonly #vacated = new Set<string>();
  readonly #resolvers: FallbackResolver[];
  #seq = 0;
  #refSeq = 0;
  #spawned = 0;
  #exited = 0;
  #lateReplies = 0;
  #inflight = 0;
  // Exit propagation runs from a queue, not recursively: a chain of 10k linked processes must
  // not overflow the stack, and signals are delivered in a deterministic breadth-first order.
  readonly #jobs: Array<() => void> = [];
  #jobHead = 0;
  #draining = false;

  /** @internal use `createRuntime` */
  constructor(options: RuntimeOptions = {}) {
    const opts = validateOptions('createRuntime', options, {
      name: optional(matching(namePattern, 'a name of letters, digits, _ or - starting with a letter'), 'xotp'),
      clock: optional((v, key) => {
        if (!isRuntimeClock(v)) throw new InvalidOptionError(key, 'a clock with setTimeout, clearTimeout and now', v);
        return v;
      }),
      inspect: optional((v, key) => {
        if (typeof v === 'function' || (typeof v === 'object' && v !== null)) {
          return v as RuntimeOptions['inspect'];
        }
        throw new InvalidOptionError(key, 'an inspection observer or function', v);
      }),
      logger: optional((v, key) => {
        if (!isLogger(v)) throw new InvalidOptionError(key, 'a logger with debug, info, warn and error', v);
        return v;
      }),
      nameRegistries: optional((v, key) => {
        if (!Array.isArray(v) || !v.every((n) => typeof n === 'string' && n.length > 0)) {
          throw new InvalidOptionError(key, 'an array of registry names', v);
        }
        return v as string[];
      }, []),
      resolvers: optional((v, key) => {
        if (!Array.isArray(v) || !v.every((f) => typeof f === 'function')) {
          throw new InvalidOptionError(key, 'an array of functions (name) => Pid | undefined', v);
        }
        return v as FallbackResolver[];
      }, []),
    });
    this.#nameRegistries = opts.nameRegistries;
    this.#resolvers = [...opts.resolvers];
    this.name = opts.name;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? consoleLogger();
    this.creation = nextCreation++;
    this.self = new Pid(this.name, 0, this.creation);
    this.#deadlines = new Deadlines(this.clock);
    const logger = this.logger;
    this.#root = createActor(rootLogic as unknown as AnyActorLogic, {
      id: this.name,
      clock: this.clock,
      logger: (...args: unknown[]) => logger.info(args.map((a) => (typeof a === 'string' ? a : formatReason(a))).join(' ')),
      ...(opts.inspect ? { inspect: opts.inspect } : {}),
    });
    (this.#root as unknown as Record<symbol, unknown>)[kProcess] = undefined;
    runtimes.set(this.#root.system, this);
    this.#root.start();
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
    return this.#spawn(logic, options, undefined).pid;
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
        this.#spawn(logic, options, ack);
      } catch (err) {
        reject(err);
      }
    });
  }

  #spawn(
    logic: AnyActorLogic,
    options: SpawnOptions | undefined,
    ack: ((a: StartAck, rec: ProcessRecord) => void) | undefined,
  ): ProcessRecord {
    if (this.#state === 'stopped') throw new RuntimeStoppedError(this.name, 'spawn');
    if (
      typeof logic !== 'object' ||
      logic === null ||
      typeof (logic as AnyActorLogic).transition !== 'function' ||
      typeof (logic as AnyActorLogic).getInitialSnapshot !== 'function'
    ) {
      throw new InvalidOptionError('spawn.logic', 'an xstate ActorLogic (a machine, fromCallback, fromPromise, ...)', logic);
    }
    const opts = options === undefined ? undefined : validateOptions('spawn', options, spawnSchema);
    const parent = opts?.parent === undefined ? undefined : this.#mustResolve(opts.parent as Target, 'spawn.parent');
    const linkTo = opts?.link === undefined ? undefined : this.#mustResolve(opts.link as Target, 'spawn.link');
    const name = typeof opts?.name === 'string' ? opts.name : undefined;
    const via = opts?.name !== undefined && typeof opts.name !== 'string' ? opts.name : undefined;
    if (name !== undefined) {
      const owner = this.#names.get(name);
      if (owner) throw new AlreadyRegisteredError(name, owner.pid);
    }
    const viaService = via ? this.#service(via.via) : undefined;
    const protocol = (logic as { [processProtocol]?: ProcessProtocol })[processProtocol];
    const id = ++this.#seq;
    const pid = new Pid(this.name, id, this.creation);
    const segment = opts?.id ?? name ?? (via && typeof via.key === 'string' && /^[^/\s]+$/.test(via.key) ? via.key : undefined) ?? `${labelOf(logic, protocol)}-${id}`;
    const path = `${parent ? parent.path : this.name}/${segment}`;
    const rec = new ProcessRecord(this, pid, parent, path, protocol);
    this.#table.set(id, rec);
    this.#spawned++;
    if (name !== undefined) {
      rec.name = name;
      this.#names.set(name, rec);
      this.#vacated.delete(name);
    }
    if (opts?.trapExit) rec.trapExit = true;
    if (viaService) {
      try {
        viaService.registerName(via!.key, pid, via!.value);
      } catch (err) {
        this.#table.delete(id);
        if (name !== undefined) this.#names.delete(name);
        for (const other of rec.links ?? []) other.links?.delete(rec);
        throw err;
      }
    }
    if (linkTo) this.#addLink(rec, linkTo);
    if (ack && protocol?.acksStart) {
      rec.ack = (result) => {
        // As in OTP ≥ 26, a start that fails or is ignored leaves no exit signal for the process
        // it was linked to: the starter learns the outcome from the result alone.
        if (!('ok' in result) && linkTo) this.#dropLink(rec, linkTo);
        ack(result, rec);
      };
    }
    let actor: AnyActorRef;
    try {
      actor = createActor(logic, { id: path, parent: parent ? parent.actor : this.#root, input: opts?.input });
    } catch (err) {
      // Nothing ran yet: undo the bookkeeping so the failed spawn leaves no trace.
      this.#table.delete(id);
      if (name !== undefined) this.#names.delete(name);
      if (linkTo) linkTo.links?.delete(rec);
      throw err;
    }
    (actor as unknown as Record<symbol, unknown>)[kProcess] = rec;
    rec.actor = actor;
    actor.subscribe(rec);
    this.events.emit('process.spawned', { pid, parent: parent ? parent.pid : this.self, id: path, name });
    if (name !== undefined) this.events.emit('name.registered', { name, pid });
    this.#drainAfter(() => actor.start());
    if (ack && !protocol?.acksStart) {
      if (rec.status === Status.Dead) ack({ error: rec.reason }, rec);
      else ack({ ok: true }, rec);
    }
    return rec;
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
    const rec = this.#resolve(target);
    if (rec === undefined) {
      if (isName(target)) throw new NoProcessError(target, 'send');
      return;
    }
    rec.actor.send(event);
  }

  /** Sends a one-way message (`xotp.cast`; a server's `handleCast`). Same delivery rules as `send`. */
  cast<TMessage>(target: Target, message: TMessage): void {
    const rec = this.#resolve(target);
    if (rec === undefined) {
      if (isName(target)) throw new NoProcessError(target, 'cast');
      return;
    }
    const event: CastMessage<TMessage> = { type: 'xotp.cast', message };
    rec.actor.send(event);
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
      rec = this.#resolve(target);
    } catch (err) {
      return Promise.reject(err);
    }
    if (rec === undefined || rec.status === Status.Dead) return Promise.reject(new NoProcessError(target, 'call'));
    if (signal?.aborted) return Promise.reject(new AbortError('call', signal.reason));
    return new Promise<TReply>((resolve, reject) => {
      const ref = ++this.#callSeq;
      const pending: PendingCall = {
        ref,
        target: rec,
        given: target,
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline: undefined,
        signal,
        onAbort: undefined,
      };
      this.#calls.set(ref, pending);
      // The caller waits on the target's death too (what a monitor does in gen:call), but
      // through a per-target set: a full monitor per call would cost a ref, an object and
      // two map entries on the hottest path.
      (rec.calls ??= new Set()).add(pending);
      const event: CallMessage<TRequest> = { type: 'xotp.call', request, from: { ref } };
      rec.actor.send(event);
      // A server that answers synchronously has already settled the call: no deadline needed.
      if (!this.#calls.has(ref)) return;
      if (timeout !== Infinity) {
        pending.deadline = this.#deadlines.add(timeout, () => {
          pending.deadline = undefined;
          this.#settleCall(ref)?.reject(new TimeoutError('call', timeout, target));
        });
      }
      if (signal) {
        pending.onAbort = () => this.#settleCall(ref)?.reject(new AbortError('call', signal.reason));
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
    });
  }

  /**
   * Answers a call. Returns false when the caller is no longer waiting (it timed out, aborted,
   * or was answered already): the reply is dropped and counted in `stats().lateReplies`.
   */
  reply(from: CallFrom, value: unknown): boolean {
    const pending = this.#answered(from);
    pending?.resolve(value);
    return pending !== undefined;
  }

  /**
   * Answers a call with an error: the caller's promise rejects with `error`. (OTP has no such
   * thing — a gen_server replies a value — but a JS caller expects failures as rejections.)
   * Returns false when the caller is no longer waiting.
   */
  replyError(from: CallFrom, error: unknown): boolean {
    const pending = this.#answered(from);
    pending?.reject(error);
    return pending !== undefined;
  }

  /** The call being answered, or undefined (counted as a late reply) if nobody waits for it. */
  #answered(from: CallFrom): PendingCall | undefined {
    const pending = this.#settleCall(from.ref);
    if (!pending) {
      this.#lateReplies++;
      this.events.emit('call.lateReply', { ref: from.ref });
    }
    return pending;
  }

  #settleCall(ref: number): PendingCall | undefined {
    const pending = this.#calls.get(ref);
    if (!pending) return undefined;
    this.#calls.delete(ref);
    pending.target.calls?.delete(pending);
    if (pending.deadline !== undefined) this.#deadlines.cancel(pending.deadline);
    if (pending.onAbort) pending.signal!.removeEventListener('abort', pending.onAbort);
    return pending;
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
    if (looksLikeStopOptions(reason)) {
      throw new InvalidOptionError(
        'stop.reason',
        "an exit reason ('normal', 'shutdown', { shutdown: detail }, an Error, ...)",
        reason,
        `that looks like stop's options given as the reason: the signature is stop(target, reason, { timeout }), e.g. stop(pid, 'normal', ${formatReason(reason)})`,
      );
    }
    const { timeout } = options === undefined ? { timeout: Infinity } : validateOptions('stop', options, stopSchema);
    const rec = this.#resolveQuiet(target);
    if (rec === undefined || rec.status === Status.Dead) return 'noproc';
    const gone = this.#whenDead(rec);
    if (rec.status === Status.Alive) {
      if (rec.protocol?.gracefulStop) {
        rec.status = Status.Exiting;
        rec.reason = reason;
        const event: StopRequestMessage = { type: 'xotp.stop', reason };
        rec.actor.send(event);
      } else {
        this.#drainAfter(() => this.#terminate(rec, reason));
      }
    }
    if ((rec.status as Status) !== Status.Dead && timeout !== Infinity) {
      await this.#withTimeout(gone, timeout, 'stop', rec.pid);
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
    const rec = this.#resolveQuiet(target);
    if (rec === undefined || rec.status === Status.Dead) return Promise.resolve('noproc');
    return this.#whenDead(rec);
  }

  #whenDead(rec: ProcessRecord): Promise<ExitReason> {
    if (rec.status === Status.Dead) return Promise.resolve(rec.reason);
    return new Promise((resolve) => (rec.waiters ??= []).push(resolve));
  }

  #withTimeout<T>(promise: Promise<T>, timeout: number, operation: string, target: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new TimeoutError(operation, timeout, target)), timeout);
      promise.then((value) => {
        this.clock.clearTimeout(timer);
        resolve(value);
      });
    });
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
    const rec = this.#resolve(target);
    if (rec === undefined || rec.status === Status.Dead) return false;
    let fromPid = this.self;
    if (from !== undefined) {
      if (typeof from === 'string') fromPid = this.#mustResolve(from, 'exit (from)').pid;
      else if (isPid(from)) fromPid = Pid.from(from);
      else throw new InvalidOptionError('exit.from', 'a pid or a registered name', from);
    }
    this.#drainAfter(() => this.#signal(rec, fromPid, reason, false));
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
    const ra = this.#mustResolve(a, 'link');
    const rb = this.#resolve(b);
    if (rb === undefined || rb.status === Status.Dead) {
      if (ra.trapExit && isPid(b)) {
        const event: ExitMessage = { type: 'xotp.exit', from: Pid.from(b), reason: 'noproc' };
        ra.actor.send(event);
        return;
      }
      throw new NoProcessError(b, 'link');
    }
    this.#addLink(ra, rb);
  }

  /** Removes the link between two processes, if any. Never fails. */
  unlink(a: Target, b: Target): void {
    const ra = this.#resolveQuiet(a);
    const rb = this.#resolveQuiet(b);
    if (ra && rb) this.#dropLink(ra, rb);
  }

  #dropLink(a: ProcessRecord, b: ProcessRecord): void {
    if (!a.links?.has(b)) return;
    a.links.delete(b);
    b.links?.delete(a);
    this.events.emit('unlink', { a: a.pid, b: b.pid });
  }

  #addLink(a: ProcessRecord, b: ProcessRecord): void {
    if (a === b || a.links?.has(b)) return;
    (a.links ??= new Set()).add(b);
    (b.links ??= new Set()).add(a);
    this.events.emit('link', { a: a.pid, b: b.pid });
  }

  /**
   * Monitors `target`. When it exits, `watcher` is told once: a process gets an `xotp.down`
   * event, a function is called with the same object. Monitoring something that is not alive
   * delivers DOWN with `'noproc'` at once. Returns the monitor's ref (for `demonitor`).
   */
  monitor(target: Target, watcher: Target | ((down: DownMessage) => void)): string {
    const given: Pid | string = typeof target === 'string' ? target : isViaName(target) ? `${target.via}:${formatReason(target.key)}` : Pid.from(target);
    const watcherRec = typeof watcher === 'function' ? undefined : this.#mustResolve(watcher, 'monitor (watcher)');
    const rec = this.#resolve(target);
    const w = watcherRec ?? (watcher as (down: DownMessage) => void);
    if (rec === undefined || rec.status === Status.Dead) {
      const ref = this.#nextRef();
      const down: DownMessage = {
        type: 'xotp.down',
        ref,
        pid: typeof given === 'string' ? undefined : given,
        target: given,
        reason: 'noproc',
      };
      if (typeof w === 'function') {
        // A callback learns of it after `monitor` has returned its ref, like a message would.
        queueMicrotask(() => this.#deliverDown(w, down));
      } else {
        this.#drainAfter(() => this.#deliverDown(w, down));
      }
      return ref;
    }
    return this.#addMonitor(rec, given, w);
  }

  #addMonitor(rec: ProcessRecord, given: Pid | string, watcher: Monitor['watcher']): string {
    const ref = this.#nextRef();
    const mon: Monitor = { ref, given, target: rec, watcher };
    (rec.monitors ??= new Map()).set(ref, mon);
    if (typeof watcher !== 'function') (watcher.watching ??= new Set()).add(mon);
    this.#monitors.set(ref, mon);
    return ref;
  }

  /**
   * Removes a monitor; returns false if it had already fired or was unknown. (A server's
   * `ctx.demonitor(ref, { flush: true })` also drops a DOWN already waiting in its queue.)
   */
  demonitor(ref: string): boolean {
    const mon = this.#monitors.get(ref);
    if (!mon) return false;
    this.#monitors.delete(ref);
    mon.target.monitors?.delete(ref);
    if (typeof mon.watcher !== 'function') mon.watcher.watching?.delete(mon);
    return true;
  }

  /**
   * Sets whether `target` traps exits; returns the previous value.
   *
   * @throws NoProcessError if the process is not alive.
   */
  trapExit(target: Target, flag: boolean): boolean {
    const rec = this.#mustResolve(target, 'trapExit');
    const previous = rec.trapExit;
    rec.trapExit = flag;
    return previous;
  }

  // ---------------------------------------------------------------------------------------------
  // Local names

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
    const rec = this.#mustResolve(target, 'register');
    const owner = this.#names.get(name);
    if (owner) throw new AlreadyRegisteredError(name, owner.pid);
    if (rec.name !== undefined) {
      throw new AlreadyRegisteredError(name, rec.pid, `${rec.pid} is already registered as '${rec.name}'`);
    }
    rec.name = name;
    this.#names.set(name, rec);
    this.#vacated.delete(name);
    this.events.emit('name.registered', { name, pid: rec.pid });
  }

  /** Frees a local name; returns false if it was not registered. */
  unregister(name: string): boolean {
    const rec = this.#names.get(name);
    if (!rec) return false;
    this.#names.delete(name);
    rec.name = undefined;
    this.events.emit('name.unregistered', { name, pid: rec.pid });
    return true;
  }

  /**
   * The pid a name resolves to (local names, then `nameRegistries`, then fallback resolvers; or a
   * via name), or `undefined`.
   *
   * @throws UnknownRegistryError if a registry involved is not running.
   */
  whereis(name: string | ViaName): Pid | undefined {
    const rec = this.#resolve(name);
    return rec && rec.status !== Status.Dead ? rec.pid : undefined;
  }

  /**
   * Resolves a target the way every call does, and returns the outcome as a value instead of
   * throwing: `{ ok: true, pid }`, or `{ ok: false, error }` with the `NoProcessError` or
   * `UnknownRegistryError` a call would have raised.
   */
  resolve(target: Target): ResolveResult {
    try {
      const rec = this.#resolve(target);
      if (rec !== undefined && rec.status !== Status.Dead) return { ok: true, pid: rec.pid };
      return { ok: false, error: new NoProcessError(target, 'resolve') };
    } catch (err) {
      if (err instanceof XotpError) return { ok: false, error: err };
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Name services (registries) and fallback resolvers

  /**
   * Makes a name service (a Registry) reachable by its name, for via names and lookups.
   * Returns the function that removes it.
   *
   * @throws AlreadyRegisteredError if a service of that name is already running.
   */
  registerNameService(service: NameService): () => void {
    if (this.#services.has(service.name)) {
      throw new AlreadyRegisteredError(service.name, this.#services.get(service.name), `a registry named '${service.name}' is already running`);
    }
    this.#services.set(service.name, service);
    this.#serviceHistory.add(service.name);
    return () => {
      if (this.#services.get(service.name) === service) this.#services.delete(service.name);
    };
  }

  /**
   * The running name service of that name.
   *
   * @throws UnknownRegistryError naming it and listing the running ones.
   */
  nameService(name: string): NameService {
    return this.#service(name);
  }

  /** Names of the running name services. */
  nameServices(): string[] {
    return [...this.#services.keys()];
  }

  /** Adds a last-resort resolver for plain names (after local names and `nameRegistries`). */
  addResolver(resolver: FallbackResolver): () => void {
    this.#resolvers.push(resolver);
    return () => {
      const i = this.#resolvers.indexOf(resolver);
      if (i >= 0) this.#resolvers.splice(i, 1);
    };
  }

  #service(name: string): NameService {
    const service = this.#services.get(name);
    if (service) return service;
    throw new UnknownRegistryError(name, this.nameServices(), this.#serviceHistory.has(name));
  }

  /** The locally registered names. */
  registered(): string[] {
    return [...this.#names.keys()];
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection

  /** True while the process exists (including while it is exiting). */
  isAlive(target: Target): boolean {
    if (target instanceof Pid) {
      // The hot path (registries check every pid they return).
      const rec = this.#byPid(target);
      return rec !== undefined && rec.status !== Status.Dead;
    }
    const rec = this.#resolveQuiet(target);
    return rec !== undefined && rec.status !== Status.Dead;
  }

  /** The pids of all live processes, in start order. */
  processes(): Pid[] {
    return [...this.#table.values()].map((r) => r.pid);
  }

  /** What the runtime knows about one process, or `undefined` if it is not alive. */
  info(target: Target): ProcessInfo | undefined {
    const rec = this.#resolveQuiet(target);
    if (rec === undefined || rec.status === Status.Dead) return undefined;
    return this.#infoOf(rec);
  }

  #infoOf(rec: ProcessRecord): ProcessInfo {
    return {
      pid: rec.pid,
      id: rec.path,
      name: rec.name,
      parent: rec.parent ? rec.parent.pid : this.self,
      status: rec.status === Status.Alive ? 'alive' : 'exiting',
      trapExit: rec.trapExit,
      links: rec.links ? [...rec.links].map((l) => l.pid) : [],
      monitoredBy: rec.monitors ? rec.monitors.size : 0,
      snapshotStatus: (rec.actor.getSnapshot() as { status: string }).status,
    };
  }

  /** The process tree: the root, and every live process under its parent, in start order. */
  tree(): ProcessTreeNode {
    const root: ProcessTreeNode = { pid: this.self, id: this.name, name: undefined, status: 'alive', children: [] };
    const nodes = new Map<ProcessRecord, ProcessTreeNode>();
    for (const rec of this.#table.values()) {
      const info = this.#infoOf(rec);
      nodes.set(rec, { pid: info.pid, id: info.id, name: info.name, status: info.status, children: [] });
    }
    for (const [rec, node] of nodes) {
      const parentNode = rec.parent ? (nodes.get(rec.parent) ?? root) : root;
      parentNode.children.push(node);
    }
    return root;
  }

  /** The parent (tree placement) of a live process; the root's pid for top-level ones. */
  parentOf(target: Target): Pid | undefined {
    const rec = this.#resolveQuiet(target);
    if (rec === undefined || rec.status === Status.Dead) return undefined;
    return rec.parent ? rec.parent.pid : this.self;
  }

  /** The actor behind a live pid, for xstate interop (`getSnapshot`, `subscribe`). */
  actorOf(target: Target): AnyActorRef | undefined {
    const rec = this.#resolveQuiet(target);
    return rec && rec.status !== Status.Dead ? rec.actor : undefined;
  }

  stats(): RuntimeStats {
    return {
      alive: this.#table.size,
      spawned: this.#spawned,
      exited: this.#exited,
      lateReplies: this.#lateReplies,
      pendingCalls: this.#calls.size,
      monitors: this.#monitors.size,
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
      const stopOne = async (rec: ProcessRecord) => {
        if (rec.status === Status.Dead) return;
        try {
          await this.stop(rec.pid, 'shutdown', { timeout });
        } catch {
          this.exit(rec.pid, 'kill');
          await this.#whenDead(rec);
        }
      };
      const topLevel = [...this.#table.values()].filter((r) => r.parent === undefined).reverse();
      for (const rec of topLevel) await stopOne(rec);
      // Stragglers: processes placed under others but not linked to them, or spawned while we
      // were stopping. After a few rounds, anything that keeps coming back is killed outright.
      for (let round = 0; this.#table.size > 0; round++) {
        const rest = [...this.#table.values()].reverse();
        for (const rec of rest) {
          if (round < 3) await stopOne(rec);
          else {
            this.exit(rec.pid, 'kill');
            await this.#whenDead(rec);
          }
        }
      }
      for (const pending of [...this.#calls.values()]) {
        this.#settleCall(pending.ref)?.reject(new NoProcessError(pending.given, 'call', 'the runtime shut down'));
      }
      this.#state = 'stopped';
      (this.#root as unknown as { _stop(): void })._stop();
      this.events.emit('runtime.shutdown', { name: this.name });
    })();
    return this.#shutdownPromise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  // ---------------------------------------------------------------------------------------------
  // Internals: resolution, termination, exit propagation

  /**
   * Name resolution, in one place: a pid maps straight to its record; a plain name goes through
   * local names → `nameRegistries` (in order) → fallback resolvers; a via name asks its registry.
   * A registry that is not running throws `UnknownRegistryError` (never a silent fall-through).
   */
  #resolve(target: Target): ProcessRecord | undefined {
    if (target instanceof Pid) return this.#byPid(target);
    if (typeof target === 'string') return this.#resolveName(target);
    if (isPid(target)) return this.#byPid(target);
    if (isViaName(target)) {
      const pid = this.#service(target.via).whereis(target.key);
      return pid === undefined ? undefined : this.#byPid(pid);
    }
    return undefined;
  }

  #byPid(pid: PidLike): ProcessRecord | undefined {
    if (pid.node !== this.name) return undefined;
    if (pid.creation !== undefined && pid.creation !== this.creation) return undefined;
    return this.#table.get(pid.id);
  }

  #resolveName(name: string): ProcessRecord | undefined {
    const local = this.#names.get(name);
    if (local !== undefined) return local;
    // A name that was held and whose holder exited (it is being restarted, say) resolves to
    // nothing rather than to whatever a later source offers: never a silent switch of service.
    if (this.#vacated.has(name)) return undefined;
    for (const registry of this.#nameRegistries) {
      const service = this.#service(registry);
      const pid = service.whereis(name);
      if (pid !== undefined) return this.#byPid(pid);
      if (service.wasHeld?.(name)) return undefined;
    }
    for (const resolver of this.#resolvers) {
      const pid = resolver(name);
      if (pid !== undefined) return this.#byPid(pid);
    }
    return undefined;
  }

  /** Resolution for operations that must never throw on a target that is gone (stop, isAlive). */
  #resolveQuiet(target: Target): ProcessRecord | undefined {
    try {
      return this.#resolve(target);
    } catch {
      return undefined;
    }
  }

  #mustResolve(target: Target, operation: string): ProcessRecord {
    if (typeof target !== 'string' && !isPid(target) && !isViaName(target)) {
      throw new InvalidOptionError(operation, 'a pid, a registered name or a via name', target);
    }
    const rec = this.#resolve(target);
    if (rec === undefined || rec.status === Status.Dead) throw new NoProcessError(target, operation);
    return rec;
  }

  #nextRef(): string {
    return `#Ref<${this.name}.${++this.#refSeq}>`;
  }

  /** Ends the actor now, recording `reason` as its exit reason. */
  #terminate(rec: ProcessRecord, reason: ExitReason): void {
    if (rec.status === Status.Dead || rec.forced) return;
    rec.forced = true;
    rec.status = Status.Exiting;
    rec.reason = reason;
    (rec.actor as unknown as { _stop(): void })._stop();
  }

  /** Delivers an exit signal (otp-semantics §1.1). `viaLink`: it comes from a linked process's death. */
  #signal(to: ProcessRecord, from: Pid, reason: ExitReason, viaLink: boolean): void {
    if (to.status === Status.Dead) return;
    if (reason === 'kill' && !viaLink) {
      this.events.emit('signal', { from, to: to.pid, reason, outcome: 'exit' });
      if (to.forced && to.reason !== 'killed') {
        // Already being stopped with another reason: the kill cannot be outrun; keep going.
        return;
      }
      this.#terminate(to, 'killed');
      return;
    }
    if (to.trapExit) {
      this.events.emit('signal', { from, to: to.pid, reason, outcome: 'trapped' });
      const event: ExitMessage = { type: 'xotp.exit', from, reason };
      to.actor.send(event);
      return;
    }
    if (reason === 'normal' && !(from.id === to.pid.id && from.node === to.pid.node)) {
      this.events.emit('signal', { from, to: to.pid, reason, outcome: 'ignored' });
      return;
    }
    this.events.emit('signal', { from, to: to.pid, reason, outcome: 'exit' });
    this.#terminate(to, reason);
  }

  /** xstate told us the actor ended. @internal */
  onActorEnded(rec: ProcessRecord, kind: 'complete' | 'error', error?: unknown): void {
    if (rec.status === Status.Dead) return;
    let reason: ExitReason;
    if (rec.forced) reason = rec.reason;
    else if (kind === 'error') reason = error;
    else if ((rec.actor.getSnapshot() as { status: string }).status === 'done') {
      const output = (rec.actor.getSnapshot() as { output?: unknown }).output;
      reason = isExitWith(output) ? output.reason : 'normal';
    }
    else reason = rec.reason ?? 'shutdown';
    this.#drainAfter(() => this.#exited_(rec, reason));
  }

  #exited_(rec: ProcessRecord, reason: ExitReason): void {
    rec.status = Status.Dead;
    rec.reason = reason;
    stopOrphans(rec.actor);
    this.#table.delete(rec.pid.id);
    this.#exited++;
    const name = rec.name !== undefined && this.#names.get(rec.name) === rec ? rec.name : undefined;
    if (name !== undefined) {
      this.#names.delete(name);
      this.#vacated.add(name);
      if (this.#vacated.size > MAX_VACATED) trimOldest(this.#vacated);
    }
    this.events.emit('process.exited', { pid: rec.pid, id: rec.path, reason });
    if (name !== undefined) this.events.emit('name.unregistered', { name, pid: rec.pid });
    if (!rec.forced && !isCleanExit(reason) && reason !== 'killed') {
      this.logger.error(`process ${rec.pid} (${rec.path}) crashed: ${formatReason(reason)}`, {
        pid: String(rec.pid),
        id: rec.path,
        reason,
      });
    }
    if (rec.ack) {
      const ack = rec.ack;
      rec.ack = undefined;
      ack({ error: reason });
    }
    const jobs = this.#jobs;
    if (rec.links) {
      for (const other of rec.links) {
        other.links?.delete(rec);
        jobs.push(() => this.#signal(other, rec.pid, reason, true));
      }
      rec.links = undefined;
    }
    if (rec.calls) {
      for (const pending of rec.calls) {
        jobs.push(() =>
          this.#settleCall(pending.ref)?.reject(
            new ProcessExitError(rec.pid, reason, 'call'),
          ),
        );
      }
      rec.calls = undefined;
    }
    if (rec.watching) {
      for (const mon of rec.watching) {
        this.#monitors.delete(mon.ref);
        mon.target.monitors?.delete(mon.ref);
      }
      rec.watching = undefined;
    }
    if (rec.monitors) {
      for (const mon of rec.monitors.values()) {
        this.#monitors.delete(mon.ref);
        if (typeof mon.watcher !== 'function') mon.watcher.watching?.delete(mon);
        const down: DownMessage = { type: 'xotp.down', ref: mon.ref, pid: rec.pid, target: mon.given, reason };
        jobs.push(() => this.#deliverDown(mon.watcher, down));
      }
      rec.monitors = undefined;
    }
    if (rec.waiters) {
      const waiters = rec.waiters;
      rec.waiters = undefined;
      for (const w of waiters) w(reason);
    }
  }

  #deliverDown(watcher: Monitor['watcher'], down: DownMessage): void {
    const watcherPid = typeof watcher === 'function' ? undefined : watcher.pid;
    this.events.emit('down', { ref: down.ref, target: down.target, watcher: watcherPid, reason: down.reason });
    if (typeof watcher === 'function') {
      try {
        watcher(down);
      } catch (err) {
        this.logger.error(`a monitor callback threw: ${formatReason(err)}`, { ref: down.ref });
      }
      return;
    }
    if (watcher.status !== Status.Dead) watcher.actor.send(down);
  }

  /** Runs `fn`, then every job it queued (and the jobs those queue), unless already draining. */
  #drainAfter(fn: () => void): void {
    if (this.#draining) {
      // Already inside a drain: run now; whatever it queues is picked up by the outer loop.
      fn();
      return;
    }
    this.#draining = true;
    try {
      fn();
      const jobs = this.#jobs;
      while (this.#jobHead < jobs.length) {
        const job = jobs[this.#jobHead++]!;
        job();
      }
    } finally {
      this.#jobs.length = 0;
      this.#jobHead = 0;
      this.#draining = false;
    }
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

const runtimes = new WeakMap<object, Runtime>();
// Starts at a random point so that pids of two Node processes are unlikely to collide either.
let nextCreation = Math.floor(Math.random() * 0x3fffffff);

/**
 * The runtime's record of the process an actor runs as. For behaviours in this package (the
 * server keeps its per-process state in `behaviour`).
 *
 * @internal
 */
export function recordOf(actor: AnyActorRef): ProcessRecord | undefined {
  return (actor as unknown as Record<symbol, ProcessRecord | undefined>)[kProcess];
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

/**
 * `call` options on the hot path: the same checks as `validateOptions` without building
 * intermediate objects; anything unusual takes the general path for its error message.
 */
function parseCallOptions(options: CallOptions): { timeout: number; signal: AbortSignal | undefined } {
  // A Map or an array has no option keys to loop over: without the prototype check it would pass
  // as "no options" (the general path refuses it, naming what it is).
  if (typeof options === 'object' && options !== null && Object.getPrototypeOf(options) === Object.prototype) {
    let known = true;
    for (const key in options) if (key !== 'timeout' && key !== 'signal') known = false;
    const t = options.timeout;
    const signal = options.signal;
    if (known && (signal === undefined || signal instanceof AbortSignal)) {
      if (t === undefined) return { timeout: DEFAULT_CALL_TIMEOUT, signal };
      if (t === 'infinity' || t === Infinity) return { timeout: Infinity, signal };
      if (typeof t === 'number' && Number.isInteger(t) && t >= 0) return { timeout: t, signal };
    }
  }
  return validateOptions('call', options, callSchema);
}

/**
 * xstate stops a machine's own children when the machine stops or finishes, but not when it
 * errors (xstate issue #5153): invoked and spawned children keep running with no parent. A
 * process that ends, however it ends, takes its xstate children with it.
 */
function stopOrphans(actor: AnyActorRef): void {
  const children = (actor.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children;
  if (!children || typeof children !== 'object') return;
  for (const child of Object.values(children)) {
    if (child && (child.getSnapshot() as { status?: string }).status === 'active') {
      (child as unknown as { _stop(): void })._stop();
    }
  }
}

/**
 * A reason that is a plain object whose keys are all stop options (`{ timeout: 1000 }`) is
 * almost certainly options passed one slot early; taken as a reason, the process would exit
 * with it and a supervisor would restart it and report a crash. Reasons with any other key
 * (`{ shutdown: detail }`, a custom error term) are reasons.
 */
function looksLikeStopOptions(reason: unknown): boolean {
  if (!isPlainObject(reason)) return false;
  let keys = 0;
  for (const key in reason) {
    if (!Object.prototype.hasOwnProperty.call(stopSchema, key)) return false;
    keys++;
  }
  return keys > 0;
}

function isName(target: Target): boolean {
  return typeof target === 'string' || isViaName(target);
}

function labelOf(logic: AnyActorLogic, protocol: ProcessProtocol | undefined): string {
  if (protocol?.label) return protocol.label;
  const id = (logic as { id?: unknown }).id;
  if (typeof id === 'string' && id !== '(machine)' && /^[^/\s]+$/.test(id)) return id;
  return 'proc';
}

