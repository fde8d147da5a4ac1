import type { AnyActorRef } from 'xstate';
import { Pid, isPid } from '../runtime/pid.js';
import { isCleanExit, formatReason, type ExitReason } from '../runtime/exitReason.js';
import { pidOf, recordOf, type Runtime } from '../runtime/runtime.js';
import { Status } from '../runtime/processRecord.js';
import type { CallFrom } from '../runtime/messages.js';
import { ChildSpecError, normalizeChildSpec, type NormalizedChildSpec } from './childSpec.js';
import type { SupervisorFlags } from './supervisorFlags.js';
import { RestartLog } from './restartIntensity.js';
import { startChild, type StartOutcome } from './childStart.js';
import { reportChild } from './supervisorReport.js';
import { RETRY, STARTED, type SupervisorMessage } from './supervisorMessages.js';
import type {
  ChildCounts,
  ChildInfo,
  DeleteChildResult,
  RestartChildResult,
  StartChildResult,
  SupervisorRequest,
  TerminateChildResult,
} from './childManagement.js';
import './events.js';

/**
 * One child, as `supervisor.erl`'s `#child{}` record: its spec, and its pid — a live pid,
 * `undefined` (not running) or restarting (a restart failed and is being retried).
 *
 * @internal
 */
export interface Child {
  readonly key: string;
  readonly spec: NormalizedChildSpec;
  pid: Pid | undefined;
  restarting: boolean;
  /** The pid that last exited: OTP's `{restarting, OldPid}` names it, and dynamic supervisors
   * terminate a restarting child by it. */
  lastPid: Pid | undefined;
  /** The last segment of its actor id, fixed at its first start, so a restarted child keeps its
   * readable place in the tree (`app/jobs/worker-6`, not a new `worker-8`). */
  segment: string | undefined;
  /** How many times it was restarted after an exit: its generation. */
  restarts: number;
  /** The pid its next start replaces (it exited, or was terminated to be restarted). */
  previousPid: Pid | undefined;
  /** Its last exit reason and when (runtime clock), for inspection. */
  lastExit: { reason: ExitReason; at: number } | undefined;
}

/**
 * A child's id as events and inspection show it: its spec id, else (a dynamic child without
 * one) the readable segment of its actor id, else its key in the table.
 *
 * @internal
 */
export function childIdOf(child: Child): string {
  return child.spec.id || child.segment || child.key;
}

/** One step of the operation a supervisor is carrying out. @internal */
export type Step = { kind: 'start'; key: string } | { kind: 'terminate'; keys: string[] };

/** What the supervisor is busy with; its machine state is named after it. */
type Operation =
  | { kind: 'init' }
  | { kind: 'restart' }
  | { kind: 'startChild'; key: string; from: CallFrom }
  | { kind: 'restartChild'; key: string; from: CallFrom }
  | { kind: 'terminateChild'; key: string; from: CallFrom }
  | { kind: 'shutdown' };

interface Pending {
  readonly key: string;
  readonly pid: Pid;
  readonly shutdown: NormalizedChildSpec['shutdown'];
  /** Its EXIT, if that came while it was waited for: a child already dead when the step began
   * has only a noproc DOWN, and supervisor.erl's unlink_flush takes the EXIT's reason then. */
  exit?: { reason: ExitReason };
}

/**
 * The supervisor's state and its protocol decisions, kept apart from the xstate machine that
 * sequences them (supervisorMachine.ts). It is mutable on purpose: a supervisor of 10k children
 * must not copy its child table on every step. `toJSON` gives the inspector a readable summary.
 *
 * @internal
 */
export class SupervisorCore {
  readonly flags: SupervisorFlags;
  /** In start order (static) or insertion order (dynamic). */
  readonly children = new Map<string, Child>();
  /** Live children by pid number. */
  readonly byPid = new Map<number, Child>();
  readonly restarts = new RestartLog();
  /** Events that arrived while busy, replayed in order once running again. */
  readonly queue: SupervisorMessage[] = [];
  op: Operation | undefined = undefined;
  /** The steps of `op`, taken from `#planHead` on: an index, not `shift()`, which is O(length)
   * on a large array and made starting or stopping N children O(N²). */
  #plan: Step[] = [];
  #planHead = 0;
  /** The step under way that waits for something (a start's outcome, DOWNs), if any. */
  step: Step | undefined = undefined;
  /** The distinct shutdown times of the terminate step under way, for its kill timers. */
  timeouts: number[] = [];
  /** Set when the supervisor must exit once the plan is done. */
  stopReason: ExitReason = undefined;
  stopping = false;
  ignored = false;
  /** Children of the current terminate step still to go down, by monitor ref. */
  readonly pending = new Map<string, Pending>();
  /** The same, by pid number: an EXIT is matched in O(1) (a dynamic supervisor stops all its
   * children in one step, and each of their EXITs was matched against all of them). */
  readonly #pendingPids = new Map<number, Pending>();
  /** Ids of the delayed kill events of the current terminate step. */
  timers: string[] = [];
  /** The token of the child start being waited for (see `nextStartToken`). */
  startToken = 0;
  #seq = 0;
  #startSeq = 0;
  #timerSeq = 0;

  constructor(flags: SupervisorFlags) {
    this.flags = flags;
    for (const spec of flags.children) this.#add(spec);
  }

  toJSON(): unknown {
    return {
      strategy: this.flags.strategy,
      op: this.op?.kind,
      children: [...this.children.values()].map((c) => ({
        id: childIdOf(c),
        pid: c.restarting ? 'restarting' : c.pid === undefined ? undefined : String(c.pid),
        restarts: c.restarts,
        ...(c.lastExit ? { lastExit: formatReason(c.lastExit.reason) } : {}),
      })),
      restarts: this.restarts.length,
      queued: this.queue.length,
    };
  }

  /**
   * A new token for a child start: its outcome names it, so that an outcome can never be taken
   * for another start's. Per supervisor: only this supervisor compares them.
   */
  nextStartToken(): number {
    return (this.startToken = ++this.#startSeq);
  }

  /** A new id for a delayed kill event; xstate keeps delayed events per actor. */
  nextTimerId(): string {
    return `shutdown-timeout-${++this.#timerSeq}`;
  }

  #add(spec: NormalizedChildSpec): Child {
    const key = this.flags.mode === 'static' ? spec.id : `#${++this.#seq}`;
    const child: Child = {
      key,
      spec,
      pid: undefined,
      restarting: false,
      lastPid: undefined,
      segment: undefined,
      restarts: 0,
      previousPid: undefined,
      lastExit: undefined,
    };
    this.children.set(key, child);
    return child;
  }

  #remove(child: Child): void {
    this.children.delete(child.key);
    if (child.pid) this.byPid.delete(child.pid.id);
  }

  #setPid(child: Child, pid: Pid | undefined): void {
    if (child.pid) this.byPid.delete(child.pid.id);
    child.pid = pid;
    if (pid) this.byPid.set(pid.id, child);
  }

  #live(): Child[] {
    return [...this.children.values()].filter((c) => c.pid !== undefined && !c.restarting);
  }

  // --- operations --------------------------------------------------------------------------

  beginInit(): void {
    this.op = { kind: 'init' };
    this.setPlan([...this.children.keys()].map((key) => ({ kind: 'start', key })));
  }

  /** Stop every child (reverse start order, one at a time; dynamic: all at once), then exit. */
  beginShutdown(reason: ExitReason): void {
    this.op = { kind: 'shutdown' };
    this.stopping = true;
    this.stopReason = reason;
    const live = this.#live().reverse();
    this.setPlan(
      this.flags.mode === 'static'
        ? live.map((c) => ({ kind: 'terminate', keys: [c.key] }))
        : live.length > 0
          ? [{ kind: 'terminate', keys: live.map((c) => c.key) }]
          : [],
    );
  }

  /** A linked process exited while the supervisor was running (otp-semantics §1.5, §1.6). */
  onExit(rt: Runtime, self: AnyActorRef, from: Pid, reason: ExitReason): void {
    const child = this.byPid.get(from.id);
    if (child === undefined || !Pid.equals(child.pid, from)) return; // rule 26: not a child
    const sup = pidOf(self);
    this.#setPid(child, undefined);
    child.lastPid = from;
    child.previousPid = from;
    child.lastExit = { reason, at: rt.clock.now() };
    if (rt.events.listenerCount('supervisor.childExited') > 0) rt.events.emit('supervisor.childExited', { supervisor: sup, id: childIdOf(child), pid: from, reason });
    const clean = isCleanExit(reason);
    if (!clean || child.spec.restart === 'permanent') reportChild(rt, sup, 'child_terminated', childIdOf(child), reason, from);
    const restart =
      child.spec.restart === 'permanent' || (child.spec.restart === 'transient' && !clean);
    if (!restart) {
      if (child.spec.restart === 'temporary' || this.flags.mode === 'dynamic') this.#remove(child);
      this.#checkAutoShutdown(child);
      return;
    }
    this.#restart(rt, self, child);
  }

  /** A retry of a failed restart came round (OTP's try_again_restart). */
  onRetry(rt: Runtime, self: AnyActorRef, key: string): void {
    const child = this.children.get(key);
    if (child === undefined || !child.restarting) return;
    this.#restart(rt, self, child);
  }

  #restart(rt: Runtime, self: AnyActorRef, child: Child): void {
    if (this.restarts.add(rt.clock.now(), this.flags.maxRestarts, this.flags.periodMs)) {
      const sup = pidOf(self);
      reportChild(rt, sup, 'shutdown', childIdOf(child), 'reached_max_restart_intensity');
      rt.events.emit('supervisor.intensityReached', {
        supervisor: sup,
        id: childIdOf(child),
        maxRestarts: this.flags.maxRestarts,
        maxSeconds: this.flags.periodMs / 1000,
      });
      this.#remove(child);
      this.beginShutdown('shutdown');
      return;
    }
    this.op = { kind: 'restart' };
    this.setPlan(this.#restartPlan(child));
  }

  /** Which children to stop (reverse order) and to start again (start order) per strategy. */
  #restartPlan(failed: Child): Step[] {
    const strategy = this.flags.strategy;
    if (strategy === 'one_for_one') return [{ kind: 'start', key: failed.key }];
    const all = [...this.children.values()];
    const group = strategy === 'one_for_all' ? all : all.slice(all.indexOf(failed));
    const terminate = group
      .filter((c) => c !== failed && c.pid !== undefined && !c.restarting)
      .reverse()
      .map((c): Step => ({ kind: 'terminate', keys: [c.key] }));
    // Temporary bystanders are removed once terminated, so they drop out of the start steps.
    const start = group.map((c): Step => ({ kind: 'start', key: c.key }));
    return [...terminate, ...start];
  }

  #checkAutoShutdown(child: Child): void {
    if (!child.spec.significant) return;
    const mode = this.flags.autoShutdown;
    if (mode === 'any_significant') {
      this.beginShutdown('shutdown');
    } else if (mode === 'all_significant') {
      // OTP's do_auto_shutdown: a child between failed restarts ({restarting, _}) still counts.
      const anyLeft = [...this.children.values()].some((c) => c.spec.significant && (c.pid !== undefined || c.restarting));
      if (!anyLeft) this.beginShutdown('shutdown');
    }
  }

  // --- carrying the plan out ---------------------------------------------------------------

  /**
   * Carries the plan out as far as it can without waiting, inside the machine step that calls
   * it: a child whose start completes at once (a server whose `init` returns) or whose shutdown
   * does (a brutal kill, a process that ends within its exit signal) costs no event and no
   * change of state. The profile of a supervisor of 20k children showed why: each child took a
   * promise hop and two macrosteps to start and a DOWN and a macrostep to stop, and xstate's
   * transition machinery, not the children, was most of the time.
   *
   * @returns `'done'` when the plan is finished, else what the step under way (`step`) waits
   *   for: a start's outcome (`STARTED`) or DOWNs.
   */
  run(rt: Runtime, self: AnyActorRef): 'done' | Step['kind'] {
    if (this.step !== undefined) return this.step.kind;
    for (;;) {
      const step = this.takeStep();
      if (step === undefined) {
        this.setPlan([]);
        return 'done';
      }
      if (step.kind === 'start' ? this.#start(rt, self, step.key) : this.#beginTerminate(rt, self, step.keys)) continue;
      this.step = step;
      return step.kind;
    }
  }

  /** Starts a child; true when its outcome is known and applied already. */
  #start(rt: Runtime, self: AnyActorRef, key: string): boolean {
    const child = this.children.get(key)!;
    const token = this.nextStartToken();
    let outcome: StartOutcome | undefined;
    let later = false;
    startChild(rt, pidOf(self), child, this.childInput(child), (result) => {
      if (later) sendSelf(rt, self, { type: STARTED, token, outcome: result });
      else outcome = result;
    });
    if (outcome === undefined) {
      later = true;
      return false;
    }
    this.onStarted(rt, self, key, outcome);
    return true;
  }

  /** The start under way finished with `outcome` (the machine checked its token). */
  onStartedLater(rt: Runtime, self: AnyActorRef, outcome: StartOutcome): void {
    const step = this.step;
    if (step?.kind !== 'start') throw new Error(`supervisor: a start's outcome without a start step (${step?.kind})`);
    this.step = undefined;
    this.onStarted(rt, self, step.key, outcome);
  }

  // --- steps -------------------------------------------------------------------------------

  /**
   * The next step of the plan that has work to do, left in the plan. A start whose child is
   * gone (a temporary bystander, removed when it was terminated) or already running has
   * nothing to do and is passed over.
   */
  peekStep(): Step | undefined {
    const plan = this.#plan;
    for (let i = this.#planHead; i < plan.length; i++) if (!this.#idle(plan[i]!)) return plan[i];
    return undefined;
  }

  /** Takes the step `peekStep` names out of the plan, with the idle starts before it. */
  takeStep(): Step | undefined {
    const plan = this.#plan;
    while (this.#planHead < plan.length) {
      const step = plan[this.#planHead++]!;
      if (!this.#idle(step)) return step;
    }
    return undefined;
  }

  /** Replaces what is left of the plan. */
  setPlan(steps: Step[]): void {
    this.#plan = steps;
    this.#planHead = 0;
  }

  /** How many steps are left in the plan (idle ones included). */
  get planned(): number {
    return this.#plan.length - this.#planHead;
  }

  #idle(step: Step): boolean {
    if (step.kind !== 'start') return false;
    const child = this.children.get(step.key);
    return child === undefined || (child.pid !== undefined && !child.restarting);
  }

  /** The input a child is started with: dynamic supervisors merge `extraInput` under it. */
  childInput(child: Child): unknown {
    const extra = this.flags.extraInput;
    if (extra === undefined) return child.spec.input;
    if (child.spec.input === undefined) return { ...extra };
    if (typeof child.spec.input === 'object' && child.spec.input !== null && !Array.isArray(child.spec.input)) {
      return { ...extra, ...(child.spec.input as Record<string, unknown>) };
    }
    return child.spec.input;
  }

  /** Applies the outcome of a start step. */
  onStarted(rt: Runtime, self: AnyActorRef, key: string, outcome: StartOutcome): void {
    const child = this.children.get(key);
    const op = this.op!;
    if (child === undefined) return;
    const sup = pidOf(self);
    if ('pid' in outcome) {
      const wasRestart = op.kind === 'restart' || child.restarting;
      child.restarting = false;
      this.#setPid(child, outcome.pid);
      if (wasRestart) child.restarts++;
      if (child.segment === undefined) {
        const path = rt.recordFor(outcome.pid)?.path;
        child.segment = path === undefined ? undefined : path.slice(path.lastIndexOf('/') + 1);
      }
      const previousPid = child.previousPid;
      child.previousPid = undefined;
      // The payload only for someone listening: this is on every child start's path.
      if (rt.events.listenerCount('supervisor.childStarted') > 0) {
        rt.events.emit('supervisor.childStarted', {
          supervisor: sup,
          id: childIdOf(child),
          pid: outcome.pid,
          restart: wasRestart,
          restarts: child.restarts,
          ...(previousPid !== undefined ? { previousPid } : {}),
        });
      }
      if (op.kind === 'startChild' || op.kind === 'restartChild') {
        const reply: StartChildResult = outcome.info === undefined ? { ok: true, pid: outcome.pid } : { ok: true, pid: outcome.pid, info: outcome.info };
        rt.reply(op.from, reply);
      }
      return;
    }
    if ('ignore' in outcome) {
      child.restarting = false;
      this.#setPid(child, undefined);
      // A temporary spec is not kept; dynamic supervisors keep nothing for an ignored child.
      if (child.spec.restart === 'temporary' || this.flags.mode === 'dynamic') this.#remove(child);
      if (op.kind === 'startChild' || op.kind === 'restartChild') rt.reply(op.from, { ok: true, pid: undefined, ignored: true });
      return;
    }
    const reason = 'error' in outcome ? outcome.error : { alreadyStarted: outcome.alreadyStarted };
    rt.events.emit('supervisor.childStartFailed', { supervisor: sup, id: childIdOf(child), reason });
    reportChild(rt, sup, 'start_error', childIdOf(child), reason);
    switch (op.kind) {
      case 'init': {
        // Stop what already started, newest first, then fail the supervisor's own start.
        this.setPlan(
          this.#live()
            .reverse()
            .map((c): Step => ({ kind: 'terminate', keys: [c.key] })),
        );
        this.stopping = true;
        this.stopReason = { shutdown: { failedToStartChild: child.spec.id, reason } };
        return;
      }
      case 'restart': {
        // OTP marks it {restarting, Pid} and retries later, after other messages (a cast to
        // itself). Later means after the signals already on their way too: a restart carried out
        // within the step that saw the exit would otherwise retry at once, before the kernel has
        // delivered the rest of a death's signals (a nested supervisor's old worker, killed by the
        // same death, still holding the name the new one needs).
        child.restarting = true;
        this.setPlan([]);
        const end = rt.beginAsync();
        const key = child.key;
        queueMicrotask(() => {
          end();
          sendSelf(rt, self, { type: RETRY, key });
        });
        return;
      }
      case 'startChild':
        this.#remove(child);
        rt.reply(op.from, 'alreadyStarted' in outcome
          ? { ok: false, error: 'already_started', pid: outcome.alreadyStarted }
          : { ok: false, error: 'start_failed', reason });
        return;
      case 'restartChild':
        rt.reply(op.from, 'alreadyStarted' in outcome
          ? { ok: false, error: 'already_started', pid: outcome.alreadyStarted }
          : { ok: false, error: 'start_failed', reason });
        return;
      default:
        return;
    }
  }

  /**
   * Starts a terminate step: send each child its shutdown signal (or kill it). A child that is
   * gone when the signal returns is done with (its record holds the reason, as its DOWN would);
   * the others are monitored and waited for, with their distinct shutdown times in `timeouts`
   * for the kill timers.
   *
   * @returns true when no child is left to wait for.
   */
  #beginTerminate(rt: Runtime, self: AnyActorRef, keys: string[]): boolean {
    const sup = pidOf(self);
    // Distinct shutdown times of the children that did not go at once: usually none.
    let timeouts: number[] | undefined;
    for (const key of keys) {
      const child = this.children.get(key);
      if (child === undefined || child.pid === undefined || child.restarting) continue;
      const pid = child.pid;
      const shutdown = child.spec.shutdown;
      const p: Pending = { key, pid, shutdown };
      // A child that already exited on its own while the supervisor was busy has its EXIT in the
      // queue: that is its reason (supervisor.erl takes it from the mailbox), not a noproc DOWN.
      if (this.queue.length > 0) {
        const queued = this.queue.findIndex((e) => e.type === 'xotp.exit' && Pid.equals(e.from, pid));
        const exit = this.queue[queued];
        if (exit?.type === 'xotp.exit') {
          this.queue.splice(queued, 1);
          this.#terminated(rt, self, p, exit.reason);
          continue;
        }
      }
      const rec = rt.recordFor(pid);
      if (rec === undefined && pid.node !== rt.name) {
        // A child on another node has no record here, and may end before a monitor set after
        // the signal reaches its node (noproc instead of its reason): monitor it first.
        this.#awaitDown(rt, sup, p);
        signalShutdown(rt, sup, pid, shutdown);
        timeouts = withShutdownTime(timeouts, shutdown);
        continue;
      }
      const alive = rec !== undefined && rec.status !== Status.Dead;
      if (alive) {
        signalShutdown(rt, sup, pid, shutdown);
        if (rec.status === Status.Dead) {
          this.#terminated(rt, self, p, rec.reason);
          continue;
        }
      }
      // Monitored, so a child that unlinked itself cannot hang the supervisor (child_unlink). Set
      // after the signal, which is the same as before it: the child has not ended in between.
      this.#awaitDown(rt, sup, p);
      if (alive) timeouts = withShutdownTime(timeouts, shutdown);
    }
    this.timeouts = timeouts ?? noTimeouts;
    return this.pending.size === 0;
  }

  /** `p` is waited for: its DOWN (by this monitor) ends its part of the terminate step. */
  #awaitDown(rt: Runtime, sup: Pid, p: Pending): void {
    const ref = rt.monitor(p.pid, sup);
    this.pending.set(ref, p);
    this.#pendingPids.set(p.pid.id, p);
  }

  /** Is this DOWN one the current terminate step waits for? */
  isPendingDown(ref: string): boolean {
    return this.pending.has(ref);
  }

  isPendingExit(from: Pid): boolean {
    const p = this.#pendingPids.get(from.id);
    return p !== undefined && Pid.equals(p.pid, from);
  }

  /** The EXIT of a child the current terminate step waits for: its DOWN ends the wait. */
  onPendingExit(from: Pid, reason: ExitReason): void {
    const p = this.#pendingPids.get(from.id);
    if (p !== undefined && Pid.equals(p.pid, from)) p.exit = { reason };
  }

  /** A child of the current terminate step went down. */
  onDown(rt: Runtime, self: AnyActorRef, ref: string, reason: ExitReason): void {
    const p = this.pending.get(ref);
    if (p === undefined) return;
    this.pending.delete(ref);
    this.#pendingPids.delete(p.pid.id);
    this.#terminated(rt, self, p, reason === 'noproc' && p.exit !== undefined ? p.exit.reason : reason);
  }

  /** A child being terminated is gone with `reason`: report an unexpected reason, update the table. */
  #terminated(rt: Runtime, self: AnyActorRef, p: Pending, reason: ExitReason): void {
    const child = this.children.get(p.key);
    if (child === undefined) return;
    const expected =
      this.flags.mode === 'static'
        ? // supervisor.erl: killed for brutal_kill, else shutdown; any clean reason for non-permanent children.
          reason === (p.shutdown === 'brutal_kill' ? 'killed' : 'shutdown') ||
          (child.spec.restart !== 'permanent' && isCleanExit(reason))
        : // dynamic_supervisor.ex: killed for brutal_kill; shutdown / {shutdown, _} for all; normal for non-permanent.
          (p.shutdown === 'brutal_kill' && reason === 'killed') ||
          (isCleanExit(reason) && reason !== 'normal') ||
          (child.spec.restart !== 'permanent' && reason === 'normal');
    if (!expected) {
      const sup = pidOf(self);
      rt.events.emit('supervisor.shutdownError', { supervisor: sup, id: childIdOf(child), pid: p.pid, reason });
      reportChild(rt, sup, 'shutdown_error', childIdOf(child), reason, p.pid);
    }
    if (Pid.equals(child.pid, p.pid)) {
      this.#setPid(child, undefined);
      child.previousPid = p.pid;
      child.lastExit = { reason, at: rt.clock.now() };
    }
    // A temporary child is gone for good once terminated, as is any dynamic child.
    if (child.spec.restart === 'temporary' || this.flags.mode === 'dynamic') this.#remove(child);
  }

  /** The shutdown timeout `ms` ran out: kill the children still waited for with that timeout. */
  killStragglers(rt: Runtime, self: AnyActorRef, ms: number): void {
    const sup = pidOf(self);
    for (const p of this.pending.values()) {
      if (p.shutdown === ms) rt.exit(p.pid, 'kill', sup);
    }
  }

  /** Whether the terminate step under way has no child left to wait for; it then ends. */
  terminateDone(): boolean {
    return this.pending.size === 0;
  }

  /** The terminate step under way is over (`terminateDone`). */
  endTerminate(): void {
    if (this.step?.kind === 'terminate') this.step = undefined;
  }

  /** The plan is finished: answer the request it was for. */
  finishOp(rt: Runtime): void {
    const op = this.op;
    this.op = undefined;
    if (op?.kind === 'terminateChild') rt.reply(op.from, { ok: true } satisfies TerminateChildResult);
  }

  // --- requests ----------------------------------------------------------------------------

  /** `which_children`: newest first (static), by pid (dynamic). */
  whichChildren(): ChildInfo[] {
    if (this.flags.mode === 'dynamic') {
      // By pid, as OTP's simple_one_for_one and Elixir's DynamicSupervisor list their
      // children map: a restarted child moves to the end. A restarting child keeps the place
      // of the pid that exited (Elixir keeps it under that pid).
      const order = (c: Child) => (c.pid ?? c.lastPid)?.id ?? Number.MAX_SAFE_INTEGER;
      const byPid = [...this.children.values()].sort((a, b) => order(a) - order(b));
      return byPid.map((c): ChildInfo => ({ id: undefined, pid: c.restarting ? 'restarting' : c.pid, type: c.spec.type }));
    }
    const rows: ChildInfo[] = [...this.children.values()].map((c) => ({
      id: c.spec.id,
      pid: c.restarting ? 'restarting' : c.pid,
      type: c.spec.type,
    }));
    return rows.reverse();
  }

  /** `count_children`. */
  countChildren(rt: Runtime): ChildCounts {
    const counts: ChildCounts = { specs: 0, active: 0, supervisors: 0, workers: 0 };
    for (const c of this.children.values()) {
      counts.specs++;
      if (c.spec.type === 'supervisor') counts.supervisors++;
      else counts.workers++;
      if (c.pid !== undefined && !c.restarting && rt.isAlive(c.pid)) counts.active++;
    }
    return counts;
  }

  /** Handles a child-management request: answers at once, or sets up an operation. */
  onRequest(rt: Runtime, request: SupervisorRequest, from: CallFrom): void {
    const reply = (value: unknown) => rt.reply(from, value);
    const dynamic = this.flags.mode === 'dynamic';
    switch (request?.supervisor) {
      case 'whichChildren':
        return void reply(this.whichChildren());
      case 'countChildren':
        return void reply(this.countChildren(rt));
      case 'getChildSpec': {
        const child = this.#find(request.child);
        return void reply(child ? { ok: true, spec: child.spec } : { ok: false, error: 'not_found' });
      }
      case 'deleteChild': {
        if (dynamic) return void reply({ ok: false, error: 'dynamic' } satisfies DeleteChildResult);
        const child = this.children.get(request.id);
        if (child === undefined) return void reply({ ok: false, error: 'not_found' } satisfies DeleteChildResult);
        if (child.restarting) return void reply({ ok: false, error: 'restarting' } satisfies DeleteChildResult);
        if (child.pid !== undefined) return void reply({ ok: false, error: 'running' } satisfies DeleteChildResult);
        this.#remove(child);
        return void reply({ ok: true } satisfies DeleteChildResult);
      }
      case 'startChild': {
        let spec: NormalizedChildSpec;
        try {
          spec = normalizeChildSpec(request.spec, this.flags.autoShutdown, 'spec', this.flags.mode);
        } catch (err) {
          if (err instanceof ChildSpecError) {
            return void reply({ ok: false, error: 'invalid_child_spec', problem: err.problem, message: err.message } satisfies StartChildResult);
          }
          throw err;
        }
        if (!dynamic) {
          const existing = this.children.get(spec.id);
          if (existing?.pid !== undefined && !existing.restarting) {
            return void reply({ ok: false, error: 'already_started', pid: existing.pid } satisfies StartChildResult);
          }
          if (existing) return void reply({ ok: false, error: 'already_present' } satisfies StartChildResult);
        } else if (this.children.size >= this.flags.maxChildren) {
          return void reply({ ok: false, error: 'max_children' } satisfies StartChildResult);
        }
        const child = this.#add(spec);
        this.op = { kind: 'startChild', key: child.key, from };
        this.setPlan([{ kind: 'start', key: child.key }]);
        return;
      }
      case 'restartChild': {
        if (dynamic) return void reply({ ok: false, error: 'dynamic' } satisfies RestartChildResult);
        const child = this.children.get(request.id);
        if (child === undefined) return void reply({ ok: false, error: 'not_found' } satisfies RestartChildResult);
        if (child.restarting) return void reply({ ok: false, error: 'restarting' } satisfies RestartChildResult);
        if (child.pid !== undefined) return void reply({ ok: false, error: 'running' } satisfies RestartChildResult);
        this.op = { kind: 'restartChild', key: child.key, from };
        this.setPlan([{ kind: 'start', key: child.key }]);
        return;
      }
      case 'terminateChild': {
        const target = request.child;
        // Static supervisors terminate by id, dynamic ones by pid (a pid on a static one, or an
        // id on a dynamic one, is not_found: OTP rules 52 and 70).
        const child = dynamic
          ? isPid(target) ? this.byPidOrRestarting(target) : undefined
          : typeof target === 'string' ? this.children.get(target) : undefined;
        if (child === undefined) return void reply({ ok: false, error: 'not_found' } satisfies TerminateChildResult);
        if (child.pid === undefined || child.restarting) {
          // Not running (or between failed restarts): nothing to stop; idempotent.
          child.restarting = false;
          this.#setPid(child, undefined);
          if (child.spec.restart === 'temporary' || dynamic) this.#remove(child);
          return void reply({ ok: true } satisfies TerminateChildResult);
        }
        this.op = { kind: 'terminateChild', key: child.key, from };
        this.setPlan([{ kind: 'terminate', keys: [child.key] }]);
        return;
      }
      default:
        rt.logger.warn(`supervisor: unexpected call ${formatReason(request)}; ignored`);
        return void reply({ ok: false, error: 'unknown_request' });
    }
  }

  byPidOrRestarting(pid: Pid): Child | undefined {
    const live = this.byPid.get(pid.id);
    if (live && Pid.equals(live.pid, pid)) return live;
    for (const c of this.children.values()) if (c.restarting && Pid.equals(c.lastPid, pid)) return c;
    return undefined;
  }

  #find(child: string | Pid): Child | undefined {
    if (typeof child === 'string') return this.flags.mode === 'static' ? this.children.get(child) : undefined;
    if (isPid(child)) return this.byPidOrRestarting(Pid.from(child));
    return undefined;
  }
}

const noTimeouts: number[] = [];

/**
 * A child's shutdown signal: `kill` for brutal_kill, else `shutdown`. A kill cannot be trapped,
 * so unlinking first changes nothing the child can see; it spares the supervisor the EXIT that
 * supervisor.erl flushes after the DOWN (unlink_flush).
 */
function signalShutdown(rt: Runtime, sup: Pid, pid: Pid, shutdown: NormalizedChildSpec['shutdown']): void {
  if (shutdown === 'brutal_kill') rt.unlink(sup, pid);
  rt.exit(pid, shutdown === 'brutal_kill' ? 'kill' : 'shutdown', sup);
}

/** The step's distinct shutdown times (for its kill timers), with this child's if it has one. */
function withShutdownTime(timeouts: number[] | undefined, shutdown: NormalizedChildSpec['shutdown']): number[] | undefined {
  if (shutdown === 'brutal_kill' || shutdown === 'infinity' || timeouts?.includes(shutdown)) return timeouts;
  (timeouts ??= []).push(shutdown);
  return timeouts;
}

/**
 * Sends the supervisor one of its own messages through the kernel's send path, as itself, so an
 * inspector sees who sent it (a child start's outcome may arrive in a promise continuation,
 * where no process is running). A supervisor killed meanwhile gets nothing; its child, linked
 * to it, goes too.
 *
 * @internal
 */
export function sendSelf(rt: Runtime, self: AnyActorRef, message: SupervisorMessage): void {
  const rec = recordOf(self);
  if (rec === undefined || self.getSnapshot().status !== 'active') return;
  rt.delivery.send(rec, rec, message);
}
