import type { ActorLogic, ActorScope, AnyActorLogic, AnyActorRef, EventObject, InputFrom } from 'xstate';
import { Pid } from '../runtime/pid.js';
import { XotpError, InvalidOptionError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';
import { isCleanExit, type ExitReason } from '../runtime/exitReason.js';
import { exitWith, type ExitWithOutput } from '../runtime/exitWith.js';
import { recordOf, runtimeOf, type Runtime, type SpawnOptions, type Target } from '../runtime/runtime.js';
import type { ProcessRecord } from '../runtime/processRecord.js';
import {
  processProtocol,
  type CallFrom,
  type CallMessage,
  type CastMessage,
  type DownMessage,
  type ExitMessage,
  type ProcessProtocol,
  type StopRequestMessage,
} from '../runtime/messages.js';
import { validateOptions, optional, isFunction, isBoolean, matching } from '../runtime/validate.js';

/** What a server's `init` returns: its first state, or a reason not to run. */
export type InitResult<S> = { state: S } | { stop: ExitReason } | { ignore: true };

/** What `handleCast` / `handleInfo` return. Nothing, or `{}`, keeps the state. */
export type ServerResult<S> = void | undefined | { state?: S } | { stop: ExitReason; state?: S };

/**
 * What `handleCall` returns: a reply now, no reply yet (answer later with `ctx.reply(from, v)`),
 * or a stop (with an optional last reply). A missing `state` keeps the current one.
 */
export type CallResult<S, R> =
  | { reply: R; state?: S }
  | { noreply: true; state?: S }
  | { stop: ExitReason; reply?: R; state?: S };

type MaybePromise<T> = T | Promise<T>;

/** The messages a server's `handleInfo` can see: plain events, trapped exits and DOWNs. */
export type InfoMessage<TInfo> = TInfo | ExitMessage | DownMessage;

/**
 * The handle a server's callbacks get. All operations act on behalf of this process.
 */
export interface ServerContext {
  /** This process. */
  readonly self: Pid;
  /** The process it was spawned under (the runtime root for top-level processes). */
  readonly parent: Pid;
  readonly runtime: Runtime;
  /** Answers a call later (after `handleCall` returned `{ noreply: true }`). */
  reply(from: CallFrom, value: unknown): boolean;
  /** Turns exit trapping on or off for this process. */
  trapExit(flag: boolean): boolean;
  link(target: Target): void;
  unlink(target: Target): void;
  /** Monitors `target`; the DOWN arrives in `handleInfo`. */
  monitor(target: Target): string;
  /**
   * Removes a monitor. With `flush`, a DOWN for it that already arrived and waits behind the
   * message being handled is dropped too (OTP's `demonitor(Ref, [flush])`).
   */
  demonitor(ref: string, options?: { flush?: boolean }): boolean;
  /** Sends an exit signal from this process. */
  exit(target: Target, reason: ExitReason): boolean;
  /** Spawns a process placed under this one in the tree. */
  spawn<TLogic extends AnyActorLogic>(logic: TLogic, options?: SpawnOptions<InputFrom<TLogic>>): Pid;
  /** Spawns a process under this one and links it to this one. */
  spawnLink<TLogic extends AnyActorLogic>(logic: TLogic, options?: SpawnOptions<InputFrom<TLogic>>): Pid;
}

/**
 * The callbacks of a gen_server-like process. Every callback may be async; messages are still
 * handled one at a time, in arrival order (a message that arrives while a handler is awaiting
 * waits its turn).
 */
export interface ServerDefinition<S, TArgs = undefined, TCall = unknown, TReply = unknown, TCast = unknown, TInfo = EventObject> {
  /** Readable label used in the process id (`app/<name>-7`). */
  name?: string;
  /** Trap exits from the start (before `init`), as a supervisor-managed server usually wants. */
  trapExit?: boolean;
  /** Builds the first state from the spawn `input`. Default: the input is the state. */
  init?(args: TArgs, ctx: ServerContext): MaybePromise<InitResult<S>>;
  handleCall?(request: TCall, from: CallFrom, state: S, ctx: ServerContext): MaybePromise<CallResult<S, TReply>>;
  handleCast?(message: TCast, state: S, ctx: ServerContext): MaybePromise<ServerResult<S>>;
  handleInfo?(message: InfoMessage<TInfo>, state: S, ctx: ServerContext): MaybePromise<ServerResult<S>>;
  /**
   * Runs before the process ends because of `runtime.stop`, a `{ stop }` result, a crash in a
   * handler, or (when trapping exits) an exit signal from its parent. Not run when it is killed
   * or when a non-trapping server dies from a linked process's signal — as in OTP.
   */
  terminate?(reason: ExitReason, state: S, ctx: ServerContext): MaybePromise<void>;
}

/** The snapshot of a server actor: its state is the `context`, its phase the `value`. */
export type ServerSnapshot<S> = ServerSnapshotFields<S> &
  (
    | { status: 'active'; output: undefined; error: undefined }
    | { status: 'done'; output: ExitWithOutput | undefined; error: undefined }
    | { status: 'error'; output: undefined; error: unknown }
    | { status: 'stopped'; output: undefined; error: undefined }
  );

/** The fields every server snapshot has. */
export interface ServerSnapshotFields<S> {
  value: 'initializing' | 'running' | 'terminating' | 'stopped';
  context: S | undefined;
  /** The spawn input, kept only until `init` has run. */
  input?: unknown;
}

/** The xstate logic `defineServer` returns. */
export type ServerLogic<S, TArgs, TCall, TReply, TCast, TInfo> = ActorLogic<ServerSnapshot<S>, EventObject, TArgs> & {
  readonly [processProtocol]: ProcessProtocol;
  /** Type carrier only. @internal */
  readonly __types?: { call: TCall; reply: TReply; cast: TCast; info: TInfo };
};

const INIT = 'xotp.server.init';
const SETTLED = 'xotp.server.settled';

type Awaiting = 'init' | 'call' | 'cast' | 'info' | 'terminate';

/** A server's first step, sent to itself when it starts (its `init` runs as a message). */
interface InitEvent {
  readonly type: typeof INIT;
}

/** An awaited handler finished: sent by the server to itself, so the result is applied in turn. */
interface SettledEvent {
  readonly type: typeof SETTLED;
  readonly token: ServerInstance;
  readonly ok: boolean;
  readonly value: unknown;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

class BadReturnError extends XotpError {
  readonly value: unknown;
  constructor(callback: string, value: unknown) {
    super('bad_return', `${callback} returned ${describe(value)}; expected one of its documented result shapes`);
    this.value = value;
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * One running server. It is also the `ServerContext` its callbacks get, so a process costs one
 * object here.
 */
class ServerInstance implements ServerContext {
  readonly self: Pid;
  readonly parent: Pid;
  readonly runtime: Runtime;
  readonly def: ServerDefinition<unknown, unknown, unknown, unknown, unknown, unknown>;
  readonly actor: AnyActorRef;
  state: unknown = undefined;
  phase: ServerSnapshotFields<unknown>['value'] = 'initializing';
  snapshot: ServerSnapshot<unknown>;
  busy = false;
  awaiting: Awaiting | undefined = undefined;
  awaitingFrom: CallFrom | undefined = undefined;
  queue: EventObject[] | undefined = undefined;
  exitReason: ExitReason = undefined;

  // No more fields than needed: an idle server must stay small (the record and the kernel's send
  // path are one lookup away, off the hot path).
  constructor(def: ServerInstance['def'], actor: AnyActorRef, rec: ProcessRecord, snapshot: ServerSnapshot<unknown>) {
    this.def = def;
    this.actor = actor;
    this.runtime = runtimeOf(actor);
    this.self = rec.pid;
    this.parent = rec.parent ? rec.parent.pid : this.runtime.self;
    this.snapshot = snapshot;
  }

  // --- ServerContext -------------------------------------------------------------------------
  reply(from: CallFrom, value: unknown): boolean {
    // As this process even after an `await`, when it is no longer the one running.
    return this.runtime.replyAs(this.actor, from, value);
  }
  trapExit(flag: boolean): boolean {
    return this.runtime.trapExit(this.self, flag);
  }
  link(target: Target): void {
    this.runtime.link(this.self, target);
  }
  unlink(target: Target): void {
    this.runtime.unlink(this.self, target);
  }
  monitor(target: Target): string {
    return this.runtime.monitor(target, this.self);
  }
  demonitor(ref: string, options?: { flush?: boolean }): boolean {
    const removed = this.runtime.demonitor(ref);
    if (options?.flush && this.queue) {
      this.queue = this.queue.filter((e) => !(e.type === 'xotp.down' && (e as DownMessage).ref === ref));
    }
    return removed;
  }
  exit(target: Target, reason: ExitReason): boolean {
    return this.runtime.exit(target, reason, this.self);
  }
  spawn<TLogic extends AnyActorLogic>(logic: TLogic, options?: SpawnOptions<InputFrom<TLogic>>): Pid {
    return this.runtime.spawn(logic, { parent: this.self, ...options });
  }
  spawnLink<TLogic extends AnyActorLogic>(logic: TLogic, options?: SpawnOptions<InputFrom<TLogic>>): Pid {
    return this.runtime.spawn(logic, { parent: this.self, link: this.self, ...options });
  }
  toJSON(): string {
    return `ServerContext(${this.self})`;
  }

  // --- message handling ----------------------------------------------------------------------

  /** Handles one event, then whatever queued up behind it, as long as handlers stay synchronous. */
  receive(event: EventObject): void {
    if (this.busy || this.phase === 'stopped') {
      if (this.phase !== 'stopped') (this.queue ??= []).push(event);
      return;
    }
    this.dispatch(event);
    this.drain();
  }

  settle(event: SettledEvent): void {
    if (event.token !== this || !this.busy) return;
    this.busy = false;
    const kind = this.awaiting!;
    const from = this.awaitingFrom;
    this.awaiting = undefined;
    this.awaitingFrom = undefined;
    if (event.ok) this.apply(kind, from, event.value);
    else this.crash(event.value);
    this.drain();
  }

  drain(): void {
    const queue = this.queue;
    while (queue !== undefined && queue.length > 0 && !this.busy && this.phase !== 'stopped') {
      this.dispatch(queue.shift()!);
    }
  }

  /**
   * One message. Its type tag says its shape: the kernel's messages (`xotp.*`, see
   * `RuntimeMessage`) are only ever created by the runtime, so the casts below follow the tag.
   * TypeScript cannot narrow on it because an info message may be any event (`type: string`).
   */
  dispatch(event: EventObject): void {
    const def = this.def;
    switch (event.type) {
      case INIT: {
        const args = this.snapshot.input;
        this.snapshot = { ...this.snapshot, input: undefined };
        if (!def.init) return this.apply('init', undefined, { state: args });
        let result: unknown;
        try {
          result = def.init(args, this);
        } catch (err) {
          return this.crash(err);
        }
        return this.await('init', undefined, result);
      }
      case 'xotp.call': {
        const { request, from } = event as CallMessage;
        if (!def.handleCall) {
          return this.crash(new XotpError('bad_call', `server ${this.self} has no handleCall (got ${describe(request)})`));
        }
        let result: unknown;
        try {
          result = def.handleCall(request, from, this.state, this);
        } catch (err) {
          return this.crash(err);
        }
        return this.await('call', from, result);
      }
      case 'xotp.cast': {
        if (!def.handleCast) {
          this.runtime.logger.warn(`server ${this.self} has no handleCast; message dropped`);
          return;
        }
        let result: unknown;
        try {
          result = def.handleCast((event as CastMessage).message, this.state, this);
        } catch (err) {
          return this.crash(err);
        }
        return this.await('cast', undefined, result);
      }
      case 'xotp.stop':
        return this.beginTerminate((event as StopRequestMessage).reason);
      case 'xotp.exit': {
        const exit = event as ExitMessage;
        // gen_server: an exit signal from the parent, when trapped, means "terminate now".
        if (Pid.equals(exit.from, this.parent)) return this.beginTerminate(exit.reason);
        return this.info(event);
      }
      default:
        // xstate's own notifications (done/error of actors placed under this one) are not messages.
        if (event.type.startsWith('xstate.')) return;
        return this.info(event);
    }
  }

  info(event: EventObject): void {
    if (!this.def.handleInfo) return;
    let result: unknown;
    try {
      result = this.def.handleInfo(event, this.state, this);
    } catch (err) {
      return this.crash(err);
    }
    this.await('info', undefined, result);
  }

  await(kind: Awaiting, from: CallFrom | undefined, result: unknown): void {
    if (!isThenable(result)) return this.apply(kind, from, result);
    this.busy = true;
    this.awaiting = kind;
    this.awaitingFrom = from;
    const end = this.runtime.beginAsync();
    result.then(
      (value) => {
        end();
        const settled: SettledEvent = { type: SETTLED, token: this, ok: true, value };
        this.sendSelf(settled);
      },
      (value: unknown) => {
        end();
        const settled: SettledEvent = { type: SETTLED, token: this, ok: false, value };
        this.sendSelf(settled);
      },
    );
  }

  apply(kind: Awaiting, from: CallFrom | undefined, result: unknown): void {
    const r = result as Record<string, unknown> | undefined;
    switch (kind) {
      case 'init':
        if (typeof r === 'object' && r !== null) {
          if ('state' in r) {
            this.phase = 'running';
            this.setState(r.state);
            this.runtime.ackStart(this.actor, { ok: true });
            return;
          }
          if ('stop' in r) {
            this.runtime.ackStart(this.actor, { error: r.stop });
            return this.finish(r.stop);
          }
          if ('ignore' in r && r.ignore === true) {
            this.runtime.ackStart(this.actor, { ignore: true });
            return this.finish('normal');
          }
        }
        return this.crash(new BadReturnError('init', result));
      case 'call':
        if (typeof r === 'object' && r !== null) {
          if ('stop' in r) {
            if ('state' in r) this.setState(r.state);
            if ('reply' in r) this.reply(from!, r.reply);
            return this.beginTerminate(r.stop);
          }
          if ('reply' in r || ('noreply' in r && r.noreply === true)) {
            if ('state' in r) this.setState(r.state);
            if ('reply' in r) this.reply(from!, r.reply);
            return;
          }
        }
        return this.crash(new BadReturnError('handleCall', result));
      case 'cast':
      case 'info':
        if (r === undefined) return;
        if (typeof r === 'object' && r !== null) {
          if ('state' in r) this.setState(r.state);
          if ('stop' in r) return this.beginTerminate(r.stop);
          return;
        }
        return this.crash(new BadReturnError(kind === 'cast' ? 'handleCast' : 'handleInfo', result));
      case 'terminate':
        return this.finish(this.exitReason);
    }
  }

  /** Sends the server one of its own events, through the kernel's send path, as itself. */
  sendSelf(event: SettledEvent | InitEvent): void {
    const rec = recordOf(this.actor);
    if (rec !== undefined) this.runtime.delivery.send(rec, rec, event);
  }

  setState(state: unknown): void {
    if (state === this.state && this.snapshot.value === this.phase) return;
    this.state = state;
    this.snapshot = { status: 'active', value: this.phase, context: state, output: undefined, error: undefined };
  }

  crash(err: unknown): void {
    if (this.phase === 'initializing') {
      this.runtime.ackStart(this.actor, { error: err });
      return this.finish(err);
    }
    if (this.phase === 'terminating') return this.finish(err);
    this.beginTerminate(err);
  }

  beginTerminate(reason: ExitReason): void {
    if (this.phase === 'terminating' || this.phase === 'stopped') return;
    this.phase = 'terminating';
    this.exitReason = reason;
    this.runtime.noteExiting(this.actor);
    this.snapshot = { ...this.snapshot, value: 'terminating' };
    if (!this.def.terminate) return this.finish(reason);
    let result: unknown;
    try {
      result = this.def.terminate(reason, this.state, this);
    } catch (err) {
      return this.finish(err);
    }
    this.await('terminate', undefined, result);
  }

  finish(reason: ExitReason): void {
    this.phase = 'stopped';
    this.queue = undefined;
    // A clean stop ('shutdown', { shutdown: _ }) is an end, not an error: inspectors showed a
    // server stopped by its supervisor as failed (issue 14, fault 2). The reason travels as
    // the output, which the runtime reads back as the exit reason.
    this.snapshot =
      reason === 'normal'
        ? { status: 'done', value: 'stopped', context: this.state, output: undefined, error: undefined }
        : isCleanExit(reason)
          ? { status: 'done', value: 'stopped', context: this.state, output: exitWith(reason), error: undefined }
          : { status: 'error', value: 'stopped', context: this.state, output: undefined, error: reason };
  }
}

const definitionSchema = {
  name: optional(matching(/^[^/\s]+$/, "a label without '/' or spaces")),
  trapExit: optional(isBoolean),
  init: optional(isFunction),
  handleCall: optional(isFunction),
  handleCast: optional(isFunction),
  handleInfo: optional(isFunction),
  terminate: optional(isFunction),
};

/**
 * Defines a gen_server-like process: xstate logic whose state is yours and whose messages are
 * calls (request/reply), casts (one-way) and infos (anything else, including trapped exits and
 * DOWNs). Spawn it with `runtime.spawn(logic, { input })` or `runtime.start(...)`.
 *
 * @example
 * ```ts
 * const counter = defineServer({
 *   init: (start: number) => ({ state: start }),
 *   handleCall: (req: 'get', _from, n) => ({ reply: n }),
 *   handleCast: (msg: 'inc', n) => ({ state: n + 1 }),
 * });
 * const pid = runtime.spawn(counter, { input: 0, name: 'counter' });
 * runtime.cast('counter', 'inc');
 * await runtime.call('counter', 'get'); // 1
 * ```
 * @throws InvalidOptionError naming the key when a callback is not a function.
 */
export function defineServer<S, TArgs = undefined, TCall = unknown, TReply = unknown, TCast = unknown, TInfo = EventObject>(
  definition: ServerDefinition<S, TArgs, TCall, TReply, TCast, TInfo>,
): ServerLogic<S, TArgs, TCall, TReply, TCast, TInfo> {
  const def = validateOptions('defineServer', definition, definitionSchema) as ServerInstance['def'];
  const logic: ServerLogic<S, TArgs, TCall, TReply, TCast, TInfo> = {
    config: def,
    [processProtocol]: { gracefulStop: true, acksStart: true, label: def.name ?? 'server' },
    getInitialSnapshot(_scope, input): ServerSnapshot<S> {
      return { status: 'active', value: 'initializing', context: undefined, output: undefined, error: undefined, input };
    },
    start(snapshot, scope): void {
      const rec = recordOf(scope.self);
      if (!rec) {
        throw new InvalidOptionError('logic', 'to be spawned by an xotp runtime (runtime.spawn)', 'createActor');
      }
      const inst = new ServerInstance(def, scope.self, rec, snapshot);
      rec.behaviour = inst;
      if (def.trapExit) rec.trapExit = true;
      inst.sendSelf({ type: INIT });
    },
    transition(snapshot, event, scope: ActorScope<ServerSnapshot<S>, EventObject>): ServerSnapshot<S> {
      const rec = recordOf(scope.self);
      // `behaviour` is what `start` above stored, for this logic always a ServerInstance.
      const inst = rec?.behaviour as ServerInstance | undefined;
      if (inst === undefined) return snapshot;
      // While a handler runs, this server is the sender of what it sends (inspectors see it).
      const delivery = inst.runtime.delivery;
      const outer = delivery.current;
      delivery.current = rec;
      try {
        // The server's own events are told apart by their type, which no one else uses.
        if (event.type === SETTLED) inst.settle(event as SettledEvent);
        else if (event.type === 'xstate.stop') inst.phase = 'stopped';
        else inst.receive(event);
      } finally {
        delivery.current = outer;
      }
      return inst.snapshot as ServerSnapshot<S>;
    },
    getPersistedSnapshot(snapshot) {
      return { ...snapshot, input: undefined };
    },
  };
  return logic;
}

// A handler returned something that is not one of its result shapes: a bug in the handler.
defineErrorCodes({ bad_return: { category: 'permanent', retryable: false } });

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ bad_return: BadReturnError });
