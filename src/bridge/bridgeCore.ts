import type { AnyActorRef } from 'xstate';
import { InvalidOptionError, NotSerializableError, TimeoutError } from '../runtime/errors.js';
import { trimOldest } from '../runtime/trimOldest.js';
import { Deadlines, type Deadline } from '../runtime/deadlines.js';
import { runtimeOf, type Runtime } from '../runtime/runtime.js';
import { recordOf } from '../runtime/processRecord.js';
import type { CallFrom } from '../runtime/messages.js';
import type { ExitReason } from '../runtime/exitReason.js';
import { HEADER_BYTES, encodeFrame } from './frameCodec.js';
import type { PythonProcessHandle } from './pythonProcess.js';
import type { BridgeSettings } from './bridgeSettings.js';
import { BridgeNotRunningError, BridgeOverloadedError, BridgeWedgedError, PayloadTooLargeError, PythonError } from './bridgeErrors.js';

/** A call request, carried by `xotp.call`. @internal */
export interface BridgeCallRequest {
  bridge: 'call';
  op: string;
  args: unknown;
  timeout?: number;
  /** The client's own id for the call, used to cancel it on abort. */
  token?: string;
  /**
   * The caller's session: sent to Python as the frame's `session` field, where handlers see it
   * as `ctx.session` and keep per-session state in `ctx.state`.
   */
  session?: string;
}

/** Sent by a bridge to itself when a call's cancel was not acknowledged within `cancelGrace`. @internal */
export interface BridgeWedgedMessage {
  readonly type: 'bridge.wedged';
}

/**
 * Sends the bridge one of its own messages through the kernel's send path, as itself, so an
 * inspector sees who sent it: it is sent from a deadline's timer, where no process is running.
 * A bridge that already ended gets nothing.
 */
function sendSelf(self: AnyActorRef, message: BridgeWedgedMessage): void {
  const rec = recordOf(self);
  if (rec === undefined || self.getSnapshot().status !== 'active') return;
  runtimeOf(self).delivery.send(rec, rec, message);
}

/** What `bridgeInfo` returns. */
export interface BridgeInfo {
  state: string;
  /** The Python process id, once spawned. */
  osPid: number | undefined;
  /** From the handshake. */
  python: string | undefined;
  handlers: string[];
  pending: number;
  queued: number;
  /**
   * Calls past their deadline (their callers already got TimeoutError) whose cancel Python has
   * not acknowledged yet. One still there after `cancelGrace` means the process is wedged.
   */
  awaitingCancel: number;
  stats: BridgeStats;
}

/** Counters kept by each bridge. */
export interface BridgeStats {
  calls: number;
  replies: number;
  pythonErrors: number;
  timeouts: number;
  cancels: number;
  /** Replies that came after their call had timed out or was cancelled: dropped. */
  lateReplies: number;
  /** Cancels Python acknowledged (the handler stopped without replying). */
  cancelAcks: number;
  /** Replies whose id matched no call ever made: dropped. */
  unknownReplies: number;
}

/**
 * Where a call's answer goes on the direct path (a call on a ready bridge, without the kernel's
 * call table or a machine transition), settled from the process's data handler. A client with
 * bookkeeping of its own on the answer (a pool checking its worker back in) subclasses it, so
 * that bookkeeping runs there and its caller's promise is the only one on the path.
 *
 * @internal
 */
export abstract class DirectReceiver {
  abstract resolve(value: unknown): void;
  abstract reject(error: unknown): void;
}

/** `callBridge`'s receiver: the caller's own promise. */
class DirectAnswer extends DirectReceiver {
  constructor(
    readonly onResolve: (value: unknown) => void,
    readonly onReject: (error: unknown) => void,
  ) {
    super();
  }

  resolve(value: unknown): void {
    this.onResolve(value);
  }

  reject(error: unknown): void {
    this.onReject(error);
  }
}

/** A kernel call's `from` (through the machine), or a direct caller's receiver. */
type Answer = CallFrom | DirectReceiver;

function answer(rt: Runtime, to: Answer, ok: boolean, value: unknown): void {
  if (to instanceof DirectReceiver) {
    if (ok) to.resolve(value);
    else to.reject(value);
  } else if (ok) rt.reply(to, value);
  else rt.replyError(to, value);
}

interface Pending {
  readonly id: number;
  readonly op: string;
  readonly from: Answer;
  readonly token: string | undefined;
  deadline: Deadline | undefined;
}

/** A call past its deadline, waiting for Python to acknowledge its cancel (or to reply late). */
interface Cancelling {
  readonly op: string;
  readonly timeout: number;
  grace: Deadline | undefined;
}

interface Waiting {
  readonly request: BridgeCallRequest;
  readonly from: CallFrom;
  deadline: Deadline | undefined;
}

/**
 * A bridge's calls: those sent to Python and waiting for their reply, those queued until the
 * handshake, their deadlines, and counters. Mutable (per-call copies would cost on the hot path);
 * the machine in pythonBridge.ts decides when each method runs.
 *
 * @internal
 */
export class BridgeCore {
  readonly settings: BridgeSettings;
  handle: PythonProcessHandle | undefined;
  ready: { pid: number; python: string; handlers: string[] } | undefined;
  readonly pending = new Map<number, Pending>();
  readonly waiting: Waiting[] = [];
  /** Callers of awaitBridgeReady while starting. */
  readonly readyWaiters: CallFrom[] = [];
  readonly #tokens = new Map<string, number>();
  readonly #abandoned = new Set<number>();
  readonly #cancelling = new Map<number, Cancelling>();
  #deadlines: Deadlines | undefined;
  #nextId = 1;
  readonly stderrTail: string[] = [];
  readonly stats: BridgeStats = { calls: 0, replies: 0, pythonErrors: 0, timeouts: 0, cancels: 0, lateReplies: 0, cancelAcks: 0, unknownReplies: 0 };
  /** Set when a cancel was not acknowledged within cancelGrace: the bridge is ending for it. */
  wedged: BridgeWedgedError | undefined;
  exit: { code: number | null; signal: string | null } | undefined;
  /** The Python command of the current spawn, as given or defaulted (for error messages). */
  command: string | undefined;
  /** Why the bridge is crashing (its exit reason). */
  crash: Error | undefined;
  /** Why it is stopping (its exit reason). */
  stopReason: ExitReason = undefined;
  /**
   * True while the bridge is `ready`: callers may then send straight to the pipe (`direct`). The
   * machine sets it on entering `ready` and clears it on leaving, so every transition away
   * (a stop, a crash, the process exiting) closes the direct path before anything else runs.
   */
  open = false;

  constructor(settings: BridgeSettings) {
    this.settings = settings;
  }

  toJSON(): unknown {
    return { osPid: this.handle?.osPid, pending: this.pending.size, queued: this.waiting.length, awaitingCancel: this.#cancelling.size, stats: this.stats };
  }

  info(state: string): BridgeInfo {
    return {
      state,
      osPid: this.handle?.osPid,
      python: this.ready?.python,
      handlers: this.ready?.handlers ?? [],
      pending: this.pending.size,
      queued: this.waiting.length,
      awaitingCancel: this.#cancelling.size,
      stats: { ...this.stats },
    };
  }

  #full(): boolean {
    return this.pending.size + this.waiting.length >= this.settings.maxPending;
  }

  /** Before the handshake: the call waits, in a bounded queue, its deadline already running. */
  enqueue(rt: Runtime, self: AnyActorRef, request: BridgeCallRequest, from: CallFrom): void {
    if (this.#full()) {
      rt.replyError(from, new BridgeOverloadedError(self.id, this.settings.maxPending));
      return;
    }
    const waiting: Waiting = { request, from, deadline: undefined };
    const timeout = request.timeout ?? this.settings.callTimeout;
    if (timeout !== Infinity) {
      waiting.deadline = this.#deadlinesOf(rt).add(timeout, () => {
        waiting.deadline = undefined;
        const i = this.waiting.indexOf(waiting);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        this.stats.timeouts++;
        rt.replyError(from, new TimeoutError(`bridge call '${request.op}'`, timeout, self.id));
      });
    }
    this.waiting.push(waiting);
  }

  /** After the handshake: the queued calls go out, in order, with what is left of their deadline. */
  flushQueue(rt: Runtime, self: AnyActorRef): void {
    const waiting = this.waiting.splice(0);
    for (const w of waiting) this.send(rt, self, w.request, w.from, w.deadline);
  }

  #deadlinesOf(rt: Runtime): Deadlines {
    return (this.#deadlines ??= new Deadlines(rt.clock));
  }

  /**
   * The bridge is gone: cancel every deadline so no timer outlives it. Calls still pending here
   * were not failed by the machine (it was killed, so none of its actions ran): those made
   * through the kernel fail with the kernel's ProcessExitError, the direct ones with `error`.
   */
  dispose(error: Error): void {
    this.open = false;
    for (const id of [...this.pending.keys()]) {
      const pending = this.#drop(id)!;
      if (pending.from instanceof DirectReceiver) pending.from.reject(error);
    }
    for (const c of this.#cancelling.values()) if (c.grace) this.#deadlines!.cancel(c.grace);
    this.#cancelling.clear();
    for (const w of this.waiting.splice(0)) if (w.deadline) this.#deadlines!.cancel(w.deadline);
    this.#deadlines?.release();
  }

  /** Sends a call to Python, with its deadline (or the one it already had while queued). */
  send(rt: Runtime, self: AnyActorRef, request: BridgeCallRequest, from: Answer, queuedDeadline?: Deadline): void {
    // A queued call keeps its deadline; it is re-armed below against the new id.
    if (queuedDeadline) this.#deadlines!.cancel(queuedDeadline);
    if (typeof request.op !== 'string' || request.op.length === 0) {
      answer(rt, from, false, new InvalidOptionError('callBridge.op', 'a non-empty operation name', request.op));
      return;
    }
    if (this.pending.size >= this.settings.maxPending) {
      answer(rt, from, false, new BridgeOverloadedError(self.id, this.settings.maxPending));
      return;
    }
    const id = this.#nextId++;
    let frame: Buffer;
    try {
      const session = request.session;
      frame = encodeFrame(session === undefined ? { id, op: request.op, args: request.args ?? null } : { id, op: request.op, args: request.args ?? null, session });
    } catch (err) {
      // Not JSON (a cycle, a BigInt): a typed refusal of this call; nothing was sent.
      answer(rt, from, false, NotSerializableError.forPython(`bridge call '${request.op}'`, '$.args', err));
      return;
    }
    if (frame.length - HEADER_BYTES > this.settings.maxFrameBytes) {
      answer(rt, from, false, new PayloadTooLargeError(self.id, frame.length - HEADER_BYTES, this.settings.maxFrameBytes));
      return;
    }
    const pending: Pending = { id, op: request.op, from, token: request.token, deadline: undefined };
    this.pending.set(id, pending);
    if (request.token !== undefined) this.#tokens.set(request.token, id);
    const timeout = request.timeout ?? this.settings.callTimeout;
    const remaining = queuedDeadline ? Math.max(0, queuedDeadline.due - rt.clock.now()) : timeout;
    if (timeout !== Infinity) {
      pending.deadline = this.#deadlinesOf(rt).add(remaining, () => {
        pending.deadline = undefined;
        if (this.#drop(id)) {
          this.stats.timeouts++;
          this.#cancelInPython(id);
          this.#awaitCancel(rt, self, id, request.op, timeout);
          answer(rt, from, false, new TimeoutError(`bridge call '${request.op}'`, timeout, self.id));
        }
      });
    }
    this.stats.calls++;
    this.handle!.sendEncoded(frame);
  }

  /**
   * The direct path: a call on a ready bridge, from the caller to the pipe with no machine
   * transition and no kernel call table; the reply settles the returned promise from the
   * process's data handler. The caller checked `open` (and that the process is alive and its
   * mailbox idle); everything else — op, size, overload, deadline, stats — is `send`'s.
   */
  direct<R>(rt: Runtime, self: AnyActorRef, request: BridgeCallRequest): Promise<R> {
    return new Promise<R>((resolve, reject) => this.send(rt, self, request, new DirectAnswer(resolve as (v: unknown) => void, reject)));
  }

  /** The caller aborted: forget the call and ask Python to cancel it. */
  cancel(token: string): void {
    const id = this.#tokens.get(token);
    if (id !== undefined) {
      if (this.#drop(id)) {
        this.stats.cancels++;
        this.#cancelInPython(id);
      }
      return;
    }
    const i = this.waiting.findIndex((w) => w.request.token === token);
    if (i >= 0) {
      const [w] = this.waiting.splice(i, 1);
      if (w!.deadline) this.#deadlines!.cancel(w!.deadline);
      this.stats.cancels++;
    }
  }

  /**
   * The wedge policy: a call past its deadline must be let go by Python within cancelGrace —
   * acknowledged (the handler stopped) or answered late (it finished). Otherwise whatever runs
   * it (a synchronous handler that never returns holds Python's only thread) would make every
   * later call time out too, while the bridge looks ready and idle; instead the bridge ends
   * with BridgeWedgedError, so its supervisor replaces it. Aborted calls are not subject to it:
   * the caller gave up, no deadline was outlived.
   */
  #awaitCancel(rt: Runtime, self: AnyActorRef, id: number, op: string, timeout: number): void {
    const grace = this.settings.cancelGrace;
    const cancelling: Cancelling = { op, timeout, grace: undefined };
    this.#cancelling.set(id, cancelling);
    // Without a grace period nothing ends them: keep the count bounded (only the newest).
    if (grace === Infinity) {
      if (this.#cancelling.size > 10_000) trimOldest(this.#cancelling);
      return;
    }
    cancelling.grace = this.#deadlinesOf(rt).add(grace, () => {
      cancelling.grace = undefined;
      if (!this.#cancelling.has(id) || this.wedged) return;
      this.wedged = new BridgeWedgedError(self.id, op, id, timeout, grace);
      sendSelf(self, { type: 'bridge.wedged' });
    });
  }

  /** Python let go of a timed-out or aborted call: it acknowledged the cancel, or replied late. */
  #letGo(id: number): boolean {
    const cancelling = this.#cancelling.get(id);
    if (cancelling === undefined) return this.#abandoned.delete(id);
    this.#cancelling.delete(id);
    this.#abandoned.delete(id);
    if (cancelling.grace) this.#deadlines!.cancel(cancelling.grace);
    return true;
  }

  /** A `cancelled` frame: the handler of call `id` stopped without replying. */
  onCancelAck(message: Record<string, unknown>): void {
    const id = message.id as number;
    if (typeof id === 'number' && this.#letGo(id)) this.stats.cancelAcks++;
    else this.stats.unknownReplies++;
  }

  #cancelInPython(id: number): void {
    this.#abandoned.add(id);
    if (this.#abandoned.size > 10_000) trimOldest(this.#abandoned);
    if (this.handle && !this.handle.exited) this.handle.send({ type: 'cancel', id });
  }

  #drop(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    if (pending === undefined) return undefined;
    this.pending.delete(id);
    if (pending.token !== undefined) this.#tokens.delete(pending.token);
    if (pending.deadline !== undefined) this.#deadlines!.cancel(pending.deadline);
    return pending;
  }

  /** A reply from Python. Unknown and late replies are dropped and counted. */
  onReply(rt: Runtime, message: Record<string, unknown>): void {
    const id = message.id as number;
    const pending = typeof id === 'number' ? this.#drop(id) : undefined;
    if (pending === undefined) {
      if (this.#letGo(id)) this.stats.lateReplies++;
      else this.stats.unknownReplies++;
      return;
    }
    this.stats.replies++;
    if (message.ok === true) {
      answer(rt, pending.from, true, message.result);
      return;
    }
    this.stats.pythonErrors++;
    const e = (message.error ?? {}) as { type?: unknown; message?: unknown; traceback?: unknown };
    answer(
      rt,
      pending.from,
      false,
      new PythonError(pending.op, String(e.type ?? 'Error'), String(e.message ?? ''), String(e.traceback ?? '')),
    );
  }

  /** Fails every call, sent or queued, with `error`. */
  failAll(rt: Runtime, error: unknown): void {
    for (const id of [...this.pending.keys()]) {
      const pending = this.#drop(id)!;
      answer(rt, pending.from, false, error);
    }
    for (const w of this.waiting.splice(0)) {
      if (w.deadline) this.#deadlines!.cancel(w.deadline);
      rt.replyError(w.from, error);
    }
    for (const from of this.readyWaiters.splice(0)) rt.replyError(from, error);
  }

  notRunning(rt: Runtime, self: AnyActorRef, from: CallFrom, state: string): void {
    rt.replyError(from, new BridgeNotRunningError(self.id, state));
  }

  /** Keeps the last lines of stderr for crash reasons. */
  noteStderr(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > 20) this.stderrTail.shift();
  }
}
