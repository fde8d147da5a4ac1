import type { AnyActorRef, EventObject } from 'xstate';

/**
 * The few xstate internals the kernel relies on, in one place, each behind one documented
 * function. xstate marks them `@internal` and strips them from its type declarations, so each
 * is reached through a cast that only this file makes. When xstate is upgraded, this file is
 * the list to check.
 */

/** The private members of an xstate actor used here. */
interface ActorInternals {
  _stop(): void;
  mailbox: { _current: unknown };
}

/** The private members of an xstate actor system used here. */
export interface RelayingSystem {
  _relay(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject): void;
  /** xstate adds `rootId` itself. */
  _sendInspectionEvent(event: { type: '@xstate.event'; sourceRef: AnyActorRef | undefined; actorRef: AnyActorRef; event: EventObject }): void;
}

/**
 * Stops an actor now, without the checks of xstate's public `stopChild` action.
 *
 * Why the private `_stop()`: xstate's public ways to stop an actor are `actor.stop()`, which
 * throws for an actor that has a parent ("A non-root actor cannot be stopped directly"), and
 * the `stopChild` action, which only the parent machine can run, from inside its own
 * transition. Every xotp process has a parent actor (the runtime root or its tree parent: xotp
 * places a process there for the inspector's sake, while lifetimes follow links as in OTP), so
 * the runtime must stop an actor from outside its parent: a stop or kill, and the end of a
 * process whose xstate children would otherwise be orphaned (xstate issue #5153). `_stop()` is
 * what `stopChild` and `stop()` themselves call: the actor receives `xstate.stop`, cancels its
 * delayed events and completes its observers.
 */
export function stopActorNow(actor: AnyActorRef): void {
  (actor as unknown as ActorInternals)._stop();
}

/**
 * The private relay of an actor system: what `actor.send`, `sendTo` and `sendParent` all go
 * through. It emits the `@xstate.event` inspection event with `sourceRef` = `source` and then
 * enqueues `event` in `target`'s mailbox. The public `actor.send` always passes no source, which
 * is why the kernel calls the relay itself: it knows which process sends.
 */
export function relayOf(actor: AnyActorRef): RelayingSystem {
  // `system` is typed as the public ActorSystem, which omits the relay (see the file comment).
  return actor.system as unknown as RelayingSystem;
}

/**
 * Whether an actor is between events: nothing in its mailbox, nothing being processed. A
 * behaviour's direct path (a bridge call sent to the pipe by its caller) is taken only then, so
 * it never overtakes an event the actor has accepted but not yet handled (a stop, an exit).
 */
export function mailboxIdle(actor: AnyActorRef): boolean {
  return (actor as unknown as ActorInternals).mailbox._current === null;
}
