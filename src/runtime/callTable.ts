import type { EventEmitter } from 'eventemitter3';
import { AbortError, NoProcessError, TimeoutError } from './errors.js';
import type { RuntimeClock } from './clock.js';
import type { RuntimeEventMap } from './events.js';
import type { CallFrom, CallMessage } from './messages.js';
import type { CallLink, ProcessRecord } from './processRecord.js';
import type { Delivery } from './delivery.js';
import type { Target } from './nameTable.js';
import { Deadlines, type Deadline } from './deadlines.js';
import { validateOptions, optional, isTimeout, instanceOf } from './validate.js';

/** Options of `runtime.call`. */
export interface CallOptions {
  /** Milliseconds to wait for the reply, or `'infinity'`. Default 5000, as in OTP. */
  timeout?: number | 'infinity';
  /** Cancels the wait; the call then rejects with `AbortError`. */
  signal?: AbortSignal;
}

const DEFAULT_CALL_TIMEOUT = 5000;
const callSchema = { timeout: optional(isTimeout, DEFAULT_CALL_TIMEOUT), signal: optional(instanceOf(AbortSignal, 'an AbortSignal')) };

/** One call waiting for its reply. @internal */
export interface PendingCall extends CallLink {
  readonly ref: number;
  readonly target: ProcessRecord;
  readonly given: Target;
  /** The process that called, if the call was made from inside one: where an inspector draws the reply. */
  readonly caller: ProcessRecord | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  deadline: Deadline | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * The call table: pending calls by ref, their deadlines and abort signals, replies and late
 * replies. A call is OTP's `gen:call` without the monitor: the caller waits on the target's
 * death through the target record's `calls` set (the process table fails them when it dies).
 *
 * @internal
 */
export class CallTable {
  readonly #calls = new Map<number, PendingCall>();
  readonly #deadlines: Deadlines;
  readonly #events: EventEmitter<RuntimeEventMap>;
  readonly #delivery: Delivery;
  #seq = 0;
  lateReplies = 0;

  constructor(clock: RuntimeClock, events: EventEmitter<RuntimeEventMap>, delivery: Delivery) {
    this.#deadlines = new Deadlines(clock);
    this.#events = events;
    this.#delivery = delivery;
  }

  get size(): number {
    return this.#calls.size;
  }

  /**
   * Sends `request` to the live process `rec` and settles with its reply. `given` is the target
   * as the caller named it (for error messages).
   */
  call<TReply, TRequest>(rec: ProcessRecord, given: Target, request: TRequest, timeout: number, signal: AbortSignal | undefined): Promise<TReply> {
    return new Promise<TReply>((resolve, reject) => {
      const ref = ++this.#seq;
      const delivery = this.#delivery;
      const pending: PendingCall = {
        ref,
        target: rec,
        given,
        caller: delivery.current,
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline: undefined,
        signal,
        onAbort: undefined,
        prevCall: undefined,
        nextCall: rec.calls,
      };
      this.#calls.set(ref, pending);
      // The caller waits on the target's death too (what a monitor does in gen:call), but
      // through a per-target list: a full monitor per call would cost a ref, an object and
      // two map entries on the hottest path.
      if (rec.calls !== undefined) rec.calls.prevCall = pending;
      rec.calls = pending;
      const event: CallMessage<TRequest> = { type: 'xotp.call', request, from: { ref } };
      delivery.send(pending.caller, rec, event);
      // A server that answers synchronously has already settled the call: no deadline needed.
      if (!this.#calls.has(ref)) return;
      if (timeout !== Infinity) {
        pending.deadline = this.#deadlines.add(timeout, () => {
          pending.deadline = undefined;
          this.settle(ref)?.reject(new TimeoutError('call', timeout, given));
        });
      }
      if (signal) {
        pending.onAbort = () => this.settle(ref)?.reject(new AbortError('call', signal.reason));
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
    });
  }

  /** Answers a call as `replier`; false (and counted as late) when nobody waits for it. */
  reply(replier: ProcessRecord | undefined, from: CallFrom, value: unknown): boolean {
    const pending = this.#answered(from);
    if (pending === undefined) return false;
    this.#delivery.reply(replier, pending.caller, from.ref, true, value);
    pending.resolve(value);
    return true;
  }

  /** Answers a call with an error (the caller's promise rejects with it). */
  replyError(replier: ProcessRecord | undefined, from: CallFrom, error: unknown): boolean {
    const pending = this.#answered(from);
    if (pending === undefined) return false;
    this.#delivery.reply(replier, pending.caller, from.ref, false, error);
    pending.reject(error);
    return true;
  }

  /** The call being answered, or undefined (counted as a late reply) if nobody waits for it. */
  #answered(from: CallFrom): PendingCall | undefined {
    const pending = this.settle(from.ref);
    if (!pending) {
      this.lateReplies++;
      this.#events.emit('call.lateReply', { ref: from.ref });
    }
    return pending;
  }

  /** Removes a pending call and its deadline and abort listener; the caller settles it. */
  settle(ref: number): PendingCall | undefined {
    const pending = this.#calls.get(ref);
    if (!pending) return undefined;
    this.#calls.delete(ref);
    unlinkCall(pending);
    if (pending.deadline !== undefined) this.#deadlines.cancel(pending.deadline);
    if (pending.onAbort) pending.signal!.removeEventListener('abort', pending.onAbort);
    return pending;
  }

  /** At shutdown: every call still waiting fails with `NoProcessError`. */
  failAll(): void {
    for (const pending of [...this.#calls.values()]) {
      this.settle(pending.ref)?.reject(new NoProcessError(pending.given, 'call', 'the runtime shut down'));
    }
  }
}

/**
 * `call` options on the hot path: the same checks as `validateOptions` without building
 * intermediate objects; anything unusual takes the general path for its error message.
 */
export function parseCallOptions(options: CallOptions): { timeout: number; signal: AbortSignal | undefined } {
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

export { DEFAULT_CALL_TIMEOUT };

/** Takes a settled call out of its target's list (a target that died has let go of its list already). */
function unlinkCall(pending: PendingCall): void {
  const { prevCall, nextCall } = pending;
  if (prevCall !== undefined) prevCall.nextCall = nextCall;
  else if (pending.target.calls === pending) pending.target.calls = nextCall;
  if (nextCall !== undefined) nextCall.prevCall = prevCall;
  pending.prevCall = undefined;
  pending.nextCall = undefined;
}
