import type { AnyActorRef } from 'xstate';
import type { Pid } from './pid.js';
import type { ExitReason } from './exitReason.js';
import type { ProcessProtocol, Prepared, StartAck, DownMessage } from './messages.js';
import type { LinkSet } from './linkSet.js';

/** @internal */
export const enum Status {
  Alive = 0,
  /** A stop was requested or a signal is killing it; it has not ended yet. */
  Exiting = 1,
  Dead = 2,
}

/**
 * A monitor: `target` is watched; on its exit `watcher` (a process or a callback) is told.
 *
 * @internal
 */
export interface Monitor {
  readonly ref: string;
  readonly given: Pid | string;
  readonly target: ProcessRecord;
  readonly watcher: ProcessRecord | ((down: DownMessage) => void);
}

/**
 * A pending call as the target's record lists it: unlinked (both pointers cleared) when it is
 * settled, so that an answered call points at no other. @internal
 */
export interface CallLink {
  readonly ref: number;
  prevCall: CallLink | undefined;
  nextCall: CallLink | undefined;
}

/** The subset of the kernel a record calls back into when its actor ends. @internal */
export interface RecordOwner {
  onActorEnded(rec: ProcessRecord, kind: 'complete' | 'error', error?: unknown): void;
}

/**
 * The runtime's entry for one process. Doubles as the xstate observer of its actor, so each
 * process costs one object here, not an observer plus closures. Fields that most processes never
 * use (links, monitors, waiters) stay `undefined` until needed: an idle server must stay small.
 *
 * @internal
 */
export class ProcessRecord {
  readonly owner: RecordOwner;
  readonly pid: Pid;
  readonly parent: ProcessRecord | undefined;
  readonly path: string;
  actor!: AnyActorRef;
  name: string | undefined = undefined;
  status: Status = Status.Alive;
  trapExit = false;
  /** Set when the runtime itself ended the actor: the reason it recorded wins. */
  forced = false;
  /** Pending (while exiting) or final (once dead) exit reason. */
  reason: ExitReason = undefined;
  protocol: ProcessProtocol | undefined;
  links: LinkSet<ProcessRecord> = undefined;
  /** Monitors of which this process is the target. */
  monitors: Map<string, Monitor> | undefined = undefined;
  /** Monitors this process holds on others (removed when it dies). */
  watching: Set<Monitor> | undefined = undefined;
  waiters: Array<(reason: ExitReason) => void> | undefined = undefined;
  /**
   * Calls waiting for a reply from this process, newest first; they fail when it dies. A list
   * through the calls themselves, not a `Set`: a server's set churned with every call, and its
   * obsolete hash tables kept answered calls alive through scavenges (see `CallLink`).
   */
  calls: CallLink | undefined = undefined;
  ack: ((ack: StartAck) => void) | undefined = undefined;
  /** A behaviour's per-process state (for example a server instance). */
  behaviour: unknown = undefined;
  /** What its logic's `prepare` began, until the process takes it while it starts. */
  prepared: Prepared | undefined = undefined;

  constructor(
    owner: RecordOwner,
    pid: Pid,
    parent: ProcessRecord | undefined,
    path: string,
    protocol: ProcessProtocol | undefined,
  ) {
    this.owner = owner;
    this.pid = pid;
    this.parent = parent;
    this.path = path;
    this.protocol = protocol;
  }

  /** xstate observer: the actor errored. */
  error(err: unknown): void {
    this.owner.onActorEnded(this, 'error', err);
  }

  /** xstate observer: the actor completed (done) or was stopped. */
  complete(): void {
    this.owner.onActorEnded(this, 'complete');
  }
}

const kProcess: unique symbol = Symbol.for('xotp.process');

/**
 * An actor that runs as an xotp process carries its record under a symbol: `recordOf` is on the
 * hot path (a server looks itself up on every message), where a WeakMap lookup would cost more
 * than a property read.
 */
interface ProcessActor extends AnyActorRef {
  [kProcess]?: ProcessRecord | undefined;
}

/** Ties an actor to its record (`undefined` for the runtime root). @internal */
export function attachRecord(actor: AnyActorRef, rec: ProcessRecord | undefined): void {
  (actor as ProcessActor)[kProcess] = rec;
}

/**
 * The runtime's record of the process an actor runs as. For behaviours in this package (the
 * server keeps its per-process state in `behaviour`).
 *
 * @internal
 */
export function recordOf(actor: AnyActorRef): ProcessRecord | undefined {
  return (actor as ProcessActor)[kProcess];
}
