import type { AnyActorLogic, AnyActorRef, EventObject } from 'xstate';
import { recordOf, type ProcessRecord } from './processRecord.js';
import type { KernelMessage, ReplyMessage } from './messages.js';
import { relayOf, type RelayingSystem } from './xstateInternals.js';

/**
 * The one path by which the kernel delivers messages, recording the sending process.
 *
 * Everything the runtime hands to a process (`send`, `cast`, call requests, exit signals as
 * `xotp.exit`, DOWNs, stop requests, a behaviour's messages to itself) goes through `send`,
 * which calls the actor system's relay exactly as xstate's own `sendTo` does: the inspector's
 * `@xstate.event` then carries `sourceRef` = the sender's actor and `actorRef` = the target's.
 * Replies settle a promise rather than reach a process; `reply` reports them to inspectors as
 * an `xotp.reply` event from the replier to the caller.
 *
 * Who sends: the kernel passes the sender where it knows it (an exit signal's `from`, the
 * process whose death fires a link or a monitor). Otherwise the sender is `current`: the process
 * whose own code is running. It is set while a process starts (its entry actions, a server's
 * `init`), while a server handles a message, and, when an inspector is attached, during every
 * transition of any other logic (see `logicFor`). Code outside any process (a test, a timer
 * callback, the continuation of an `await`) sends with no source, as `actor.send` does.
 *
 * @internal
 */
export class Delivery {
  /** The process whose code is running right now, if any. */
  current: ProcessRecord | undefined = undefined;
  /** Whether the runtime was created with an inspector: sources and replies are only seen there. */
  readonly inspected: boolean;
  readonly #system: RelayingSystem;
  readonly #root: AnyActorRef;
  /** One wrapper per logic, not per process: spawning 100k servers of one logic wraps it once. */
  readonly #tracking = new WeakMap<AnyActorLogic, AnyActorLogic>();

  constructor(root: AnyActorRef, inspected: boolean) {
    this.#root = root;
    this.#system = relayOf(root);
    this.inspected = inspected;
  }

  /** Delivers `event` to `to`, sent by `from` (`undefined`: from outside any process). */
  send(from: ProcessRecord | undefined, to: ProcessRecord, event: KernelMessage | EventObject): void {
    this.#system._relay(from === undefined ? undefined : from.actor, to.actor, event);
  }

  /**
   * Reports a reply to inspectors: from the replier (`from`) to the process that called (`to`;
   * the runtime root for a caller outside any process).
   */
  reply(from: ProcessRecord | undefined, to: ProcessRecord | undefined, ref: number, ok: boolean, value: unknown): void {
    if (!this.inspected) return;
    const event: ReplyMessage = { type: 'xotp.reply', ref, ok, value };
    this.#system._sendInspectionEvent({
      type: '@xstate.event',
      sourceRef: from === undefined ? undefined : from.actor,
      actorRef: to === undefined ? this.#root : to.actor,
      event,
    });
  }

  /** Marks `rec` as the running process; returns the one to restore with `leave`. */
  enter(rec: ProcessRecord | undefined): ProcessRecord | undefined {
    const outer = this.current;
    this.current = rec;
    return outer;
  }

  leave(outer: ProcessRecord | undefined): void {
    this.current = outer;
  }

  /**
   * The logic to create a process's actor from. Without an inspector, `logic` itself: nothing
   * would see the sources, and the hot path stays untouched. With one, a wrapper (cached per
   * logic) whose `transition` marks the process as `current`, so that a machine's actions that
   * call `runtime.send(...)` are recorded as sent by that machine. The wrapper inherits
   * everything else from `logic` (its prototype), so xstate and `processProtocol` see the same
   * logic.
   */
  logicFor(logic: AnyActorLogic): AnyActorLogic {
    if (!this.inspected) return logic;
    let tracked = this.#tracking.get(logic);
    if (tracked === undefined) {
      const delivery = this;
      const transition = logic.transition;
      const own: Pick<AnyActorLogic, 'transition'> = {
        transition(this: AnyActorLogic, snapshot, event, scope) {
          const outer = delivery.enter(recordOf(scope.self));
          try {
            return transition.call(this, snapshot, event, scope);
          } finally {
            delivery.leave(outer);
          }
        },
      };
      tracked = Object.setPrototypeOf(own, logic) as AnyActorLogic;
      this.#tracking.set(logic, tracked);
    }
    return tracked;
  }
}
