import type { Pid } from './pid.js';
import type { ExitReason } from './exitReason.js';

/** Identifies one pending call; pass it to `runtime.reply(from, value)` to answer. Opaque. */
export interface CallFrom {
  readonly ref: number;
}

/** A trapped exit signal, delivered as an event to a process that traps exits. */
export interface ExitMessage {
  readonly type: 'xotp.exit';
  readonly from: Pid;
  readonly reason: ExitReason;
}

/** A monitor fired: the monitored process exited (or never existed: reason `'noproc'`). */
export interface DownMessage {
  readonly type: 'xotp.down';
  readonly ref: string;
  /** The monitored process; `undefined` when a name was monitored and nothing was registered. */
  readonly pid: Pid | undefined;
  /** What was passed to `monitor` (a pid or a name). */
  readonly target: Pid | string;
  readonly reason: ExitReason;
}

/** A request made with `runtime.call`; answer it with `runtime.reply(event.from, value)`. */
export interface CallMessage<TRequest = unknown> {
  readonly type: 'xotp.call';
  readonly request: TRequest;
  readonly from: CallFrom;
}

/** A one-way message made with `runtime.cast`. */
export interface CastMessage<TMessage = unknown> {
  readonly type: 'xotp.cast';
  readonly message: TMessage;
}

/**
 * Sent by `runtime.stop` to a process whose logic declares `gracefulStop` (see
 * `processProtocol`): the process runs its own cleanup, then ends with `reason`.
 */
export interface StopRequestMessage {
  readonly type: 'xotp.stop';
  readonly reason: ExitReason;
}

/**
 * A call's answer, as inspectors see it. It is not delivered to a process (the caller's promise
 * settles), but the kernel reports it as an `@xstate.event` from the replier to the caller (to
 * the runtime root when the caller is not a process), so a viewer can draw the reply.
 */
export interface ReplyMessage {
  readonly type: 'xotp.reply';
  /** The `ref` of the call's `CallFrom`. */
  readonly ref: number;
  /** False for `replyError`. */
  readonly ok: boolean;
  readonly value: unknown;
}

/** Every event the runtime itself may deliver to a process. */
export type RuntimeMessage = ExitMessage | DownMessage | CallMessage | CastMessage | StopRequestMessage;

/**
 * The kernel's own protocol, in one union: every message it delivers to processes, plus the
 * replies it reports to inspectors. All of it goes through one send path (`Delivery`), which
 * records the sending process.
 */
export type KernelMessage = RuntimeMessage | ReplyMessage;

/**
 * What a logic tells the runtime about itself, under the `processProtocol` symbol.
 *
 * - `gracefulStop`: `stop()` sends `xotp.stop` and lets the process end itself (after its
 *   cleanup) instead of stopping the actor at once.
 * - `acksStart`: the process reports when its initialisation finished (`runtime.start` waits
 *   for it) through `ackStart`.
 * - `label`: a readable name used in the process's id (`app/label-7`).
 * - `prepare`: work begun before the process's actor is built, from the spawn input and the
 *   process's id (a bridge spawns its OS process, so that its tens of ms of start-up overlap
 *   building and starting the actor). The result waits on the process's record (`prepared`)
 *   for the process to take it while it starts; one it did not take is discarded.
 */
export interface ProcessProtocol {
  readonly gracefulStop?: boolean;
  readonly acksStart?: boolean;
  readonly label?: string;
  readonly prepare?: (input: unknown, id: string) => Prepared | undefined;
}

/** What `ProcessProtocol.prepare` began; `discard` undoes it if the process never took it. */
export interface Prepared {
  discard(): void;
}

/** The key under which a logic object carries its `ProcessProtocol`. */
export const processProtocol: unique symbol = Symbol.for('xotp.processProtocol');

/** How a process's start ended, reported by logics with `acksStart`. */
export type StartAck = { ok: true } | { ignore: true } | { error: ExitReason };
