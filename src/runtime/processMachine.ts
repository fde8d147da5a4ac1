import type { AnyActorRef, EventObject } from 'xstate';
import { Pid } from './pid.js';
import { exitWith, type ExitWithOutput } from './exitWith.js';
import type { ExitReason } from './exitReason.js';
import { processProtocol, type ExitMessage, type ProcessProtocol, type RuntimeMessage, type StartAck } from './messages.js';
import { pidOf, runtimeOf } from './runtime.js';

/** Options of `processMachine`. */
export interface ProcessMachineOptions<TInit extends string> {
  /** The type of the event the machine sends itself from its entry action: its first step. */
  readonly init: TInit;
  /** The readable label in its ids (`app/<label>-7`). */
  readonly label: string;
  /**
   * Whether `runtime.stop` asks the machine (an `xotp.stop` event it handles, then ends with
   * `exitWith`) rather than stopping its actor at once. Default true.
   */
  readonly gracefulStop?: boolean;
  /** Whether `runtime.start` waits until the machine calls `ack`. Default true. */
  readonly acksStart?: boolean;
  /** Work to begin before the actor is built (see `ProcessProtocol.prepare`). */
  readonly prepare?: ProcessProtocol['prepare'];
}

/**
 * The events a process machine receives: what the kernel delivers (calls, casts, exit signals,
 * DOWNs, stop requests) and its own init event. Give it (joined with the machine's own events)
 * to `setup({ types: { events } })`, so that `on: { 'xotp.exit': ... }` sees an `ExitMessage`.
 */
export type ProcessMachineEvent<TInit extends string> = RuntimeMessage | ProcessInitEvent<TInit>;

/**
 * The event a process machine sends itself first. It carries the process's parent, which the
 * machine keeps in its context (`parent`) for the `fromParent` guard: guards do not see `self`,
 * and the pid is not known yet while xstate computes the initial context.
 */
export interface ProcessInitEvent<TInit extends string> {
  readonly type: TInit;
  /** This process. */
  readonly self: Pid;
  /** Its parent in the tree (the runtime root for a top-level process). */
  readonly parent: Pid;
}

/** The pieces `processMachine` returns; see there. */
export interface ProcessMachine<TInit extends string> {
  /** What the runtime is told about the machine (set on it by `mark`). */
  readonly protocol: ProcessProtocol;
  /** The type of the init event. */
  readonly init: TInit;
  /** The root `entry` action: trap exits, then send the init event to itself. */
  entry(args: { self: AnyActorRef }): void;
  /**
   * Guard: the event is an exit signal from the process's parent (kept in `context.parent` from
   * the init event), which means "stop now".
   */
  fromParent(args: { context: { readonly parent?: Pid | undefined }; event: EventObject }): boolean;
  /** Tells `runtime.start` how the start went (`{ ok: true }`, `{ ignore: true }`, `{ error }`). */
  ack(self: AnyActorRef, result: StartAck): void;
  /** The machine's `output` for ending with `reason` (`'normal'` is what a plain final state gives). */
  exitWith(reason: ExitReason): ExitWithOutput;
  /** Marks the created machine with its `processProtocol`, and returns it. */
  mark<TMachine extends object>(machine: TMachine): TMachine;
}

/**
 * The shared protocol of "a process that is a machine", as OTP's `proc_lib` is for special
 * processes: the supervisor, the pool manager and the Python bridge are xstate machines that
 *
 * 1. trap exits before anything else happens (a supervisor must see its children's exits, and
 *    OTP's rule is that it traps before its first child starts);
 * 2. take their first step as an event sent to themselves from the root `entry` action: xstate
 *    defers actions while it computes an actor's initial state, so eventless transitions at
 *    start would run before the actions they depend on;
 * 3. treat an exit signal from their parent (their supervisor, or the runtime root for a
 *    top-level process) as "stop now, with that reason", as a gen_server does;
 * 4. end with `exitWith(reason)` as their `output`, which the runtime takes as the exit reason.
 *
 * `processMachine` gives those four pieces once. The init event goes through the kernel's send
 * path from inside the process's start, so an inspector sees it sent by the process itself; it
 * carries the parent's pid, for the machine to keep in `context.parent` (see `fromParent`).
 *
 * @example
 * ```ts
 * const proc = processMachine({ init: 'worker.init', label: 'worker' });
 * const worker = proc.mark(
 *   setup({
 *     types: {} as { context: { parent?: Pid; reason: ExitReason }; events: ProcessMachineEvent<'worker.init'> },
 *   }).createMachine({
 *     context: { reason: 'normal' },
 *     entry: proc.entry,
 *     initial: 'starting',
 *     states: {
 *       starting: {
 *         on: {
 *           'worker.init': {
 *             target: 'running',
 *             actions: [assign({ parent: ({ event }) => event.parent }), ({ self }) => proc.ack(self, { ok: true })],
 *           },
 *         },
 *       },
 *       running: {
 *         on: {
 *           'xotp.exit': { guard: proc.fromParent, target: 'done', actions: assign({ reason: ({ event }) => event.reason }) },
 *           'xotp.stop': { target: 'done', actions: assign({ reason: ({ event }) => event.reason }) },
 *         },
 *       },
 *       done: { type: 'final' },
 *     },
 *     output: ({ context }) => proc.exitWith(context.reason),
 *   }),
 * );
 * ```
 */
export function processMachine<TInit extends string>(options: ProcessMachineOptions<TInit>): ProcessMachine<TInit> {
  const protocol: ProcessProtocol = {
    gracefulStop: options.gracefulStop ?? true,
    acksStart: options.acksStart ?? true,
    label: options.label,
    ...(options.prepare ? { prepare: options.prepare } : {}),
  };
  const init = options.init;
  return {
    protocol,
    init,
    entry({ self }) {
      const runtime = runtimeOf(self);
      const pid = pidOf(self);
      runtime.trapExit(pid, true);
      const event: ProcessInitEvent<TInit> = { type: init, self: pid, parent: runtime.parentOf(pid) ?? runtime.self };
      runtime.send(pid, event);
    },
    fromParent({ context, event }) {
      if (event.type !== 'xotp.exit' || context.parent === undefined) return false;
      // The tag says the shape: only the kernel creates `xotp.exit` events (see RuntimeMessage).
      return Pid.equals((event as ExitMessage).from, context.parent);
    },
    ack(self, result) {
      runtimeOf(self).ackStart(self, result);
    },
    exitWith,
    mark(machine) {
      Object.defineProperty(machine, processProtocol, { value: protocol, enumerable: false, configurable: true });
      return machine;
    },
  };
}
