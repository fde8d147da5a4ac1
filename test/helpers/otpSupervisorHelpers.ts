/**
 * Shared helpers for the conformance tests ported from OTP's supervisor_SUITE
 * (test/conformance/otpSupervisor*.test.ts): starting a supervisor, finding its children,
 * crashing them, and reading what happened from the trace.
 */
import type { ExecutionContext } from 'ava';
import { setup, type AnyActorLogic } from 'xstate';
import {
  countChildren,
  exitWith,
  whichChildren,
  type ChildSpec,
  type ChildStartContext,
  type ExitReason,
  type Pid,
  type StartFunctionResult,
  type Target,
} from '../../src/index.js';
import type { TestRuntime } from '../../src/testing/index.js';
import { worker, scriptedStart, type WorkerInput } from './otpWorkers.js';
import { recorder } from './actors.js';

/** A worker child spec (OTP's `{Id, {supervisor_1, start_child, []}, permanent, 1000, worker, []}`). */
export function workerSpec(id: string, extra: Partial<ChildSpec> = {}, input: WorkerInput = {}): ChildSpec {
  return { id, start: worker, input: { id, ...input }, shutdown: 1000, ...extra };
}

/** `supervisor:start_link`: starts `logic` at the top level and fails the test if it was ignored. */
export async function startSup(rt: TestRuntime, logic: AnyActorLogic, name?: string): Promise<Pid> {
  const pid = await rt.start(logic, name === undefined ? {} : { name });
  if (pid === 'ignore') throw new Error('supervisor start was ignored');
  return pid;
}

/** The pid of child `id` (or `undefined` / `'restarting'`), read with whichChildren. */
export async function childPid(rt: TestRuntime, sup: Target, id: string): Promise<Pid | 'restarting' | undefined> {
  const row = (await whichChildren(rt, sup)).find((c) => c.id === id);
  if (row === undefined) throw new Error(`no child ${id}`);
  return row.pid;
}

/** The live pid of child `id`; throws if it is not running. */
export async function livePid(rt: TestRuntime, sup: Target, id: string): Promise<Pid> {
  const pid = await childPid(rt, sup, id);
  if (pid === undefined || pid === 'restarting') throw new Error(`child ${id} is not running (${String(pid)})`);
  return pid;
}

/** count_children as OTP's test writes it: `[specs, active, supervisors, workers]`. */
export async function counts(rt: TestRuntime, sup: Target): Promise<[number, number, number, number]> {
  const c = await countChildren(rt, sup);
  return [c.specs, c.active, c.supervisors, c.workers];
}

/** which_children as `[id, pid-as-string | 'restarting' | undefined]` rows, newest first. */
export async function rows(rt: TestRuntime, sup: Target): Promise<Array<[string | undefined, string | undefined]>> {
  return (await whichChildren(rt, sup)).map((c) => [c.id, c.pid === undefined ? undefined : String(c.pid)]);
}

/**
 * Ends `pid` with `reason` from outside (OTP's `exit(Pid, Reason)` from the test process) and
 * lets the runtime settle. The default workers do not trap exits, so they die with `reason`.
 */
export async function terminate(rt: TestRuntime, pid: Pid, reason: ExitReason = 'died'): Promise<void> {
  rt.exit(pid, reason);
  await rt.flush();
}

/** The exit reason of `pid` as recorded by the trace, or `'alive'` if it has not exited. */
export function exitReason(rt: TestRuntime, pid: Pid): ExitReason | 'alive' {
  const e = rt.trace.exits().find((x) => x.pid.id === pid.id);
  if (e === undefined) {
    if (!rt.isAlive(pid)) throw new Error(`${String(pid)} is dead but its exit was not traced`);
    return 'alive';
  }
  return e.reason;
}

/** Asserts that `pid` exited with `reason` (OTP's `check_exit_reason`). */
export function assertExited(t: ExecutionContext, rt: TestRuntime, pid: Pid, reason: ExitReason, message?: string): void {
  t.false(rt.isAlive(pid), message ?? `${String(pid)} should be dead`);
  t.deepEqual(exitReason(rt, pid), reason, message);
}

/**
 * The processes a supervisor sent `shutdown` or `kill` to, in order, as readable ids
 * (the last segment of their tree id, i.e. the child id).
 */
export function shutdownSignals(rt: TestRuntime, sup: Pid): Array<[string, ExitReason]> {
  const ids = new Map(
    [...rt.trace.of('process.spawned'), ...rt.trace.of('process.exited')].map((s) => [s.pid.id, s.id.split('/').pop()!]),
  );
  return rt.trace
    .of('signal')
    .filter((s) => s.from.id === sup.id && (s.reason === 'shutdown' || s.reason === 'kill'))
    .map((s) => [ids.get(s.to.id) ?? String(s.to), s.reason]);
}

/** Child ids in the order the supervisor (re)started them since the trace was last cleared. */
export function startedIds(rt: TestRuntime, sup: Pid): string[] {
  return rt.trace
    .of('supervisor.childStarted')
    .filter((e) => e.supervisor.id === sup.id)
    .map((e) => e.id);
}

/**
 * OTP's supervisor_deadlock child: a start function that starts a worker while `control.fail`
 * is false, and otherwise waits `control.failDelayMs` on the runtime clock and fails with
 * `control.reason` (the child's `init` sleeping 2 s then returning `{stop, error}`).
 */
export function switchableStart(options: { failDelayMs?: number; reason?: ExitReason; input?: WorkerInput } = {}) {
  const control = { fail: false, failDelayMs: options.failDelayMs ?? 0, reason: options.reason ?? 'error', starts: 0, failures: 0 };
  const start = async (ctx: ChildStartContext): Promise<StartFunctionResult> => {
    control.starts++;
    if (control.fail) {
      control.failures++;
      if (control.failDelayMs > 0) {
        await new Promise<void>((resolve) => ctx.runtime.clock.setTimeout(() => resolve(), control.failDelayMs));
      }
      throw control.reason;
    }
    const pid = await ctx.runtime.start(worker, {
      parent: ctx.supervisor,
      link: ctx.supervisor,
      input: { id: ctx.id || 'dyn', ...(options.input ?? {}), ...((ctx.input as WorkerInput | undefined) ?? {}) },
      ...(ctx.id ? { id: ctx.id } : {}),
      ...(ctx.name !== undefined ? { name: ctx.name } : {}),
    });
    return pid as Pid;
  };
  return { control, start };
}

/** OTP's `start_child(extra_return)`: starts a worker and returns `{ok, Pid, Info}`. */
export function startWithInfo(info: unknown) {
  return async (ctx: ChildStartContext): Promise<StartFunctionResult> => {
    const pid = await ctx.runtime.start(worker, { parent: ctx.supervisor, link: ctx.supervisor, input: { id: ctx.id || 'dyn' } });
    return { pid: pid as Pid, info };
  };
}

/**
 * A raw process (not a server) that traps exits and records every message in `inbox`, linked to
 * its supervisor: OTP's plain `spawn_link` + `process_flag(trap_exit, true)` process.
 */
export function trappingRawStart(inbox: unknown[]) {
  return (ctx: ChildStartContext): StartFunctionResult =>
    ctx.runtime.spawn(recorder, { parent: ctx.supervisor, link: ctx.supervisor, trapExit: true, input: inbox, id: ctx.id });
}

/** Starts a top-level trapping process that records what it receives (the OTP test process). */
export function observer(rt: TestRuntime): { pid: Pid; inbox: Array<{ type: string; from?: Pid; reason?: ExitReason }> } {
  const inbox: Array<{ type: string; from?: Pid; reason?: ExitReason }> = [];
  const pid = rt.spawn(recorder, { trapExit: true, input: inbox as unknown[] });
  return { pid, inbox };
}

/**
 * OTP's supervisor_4 child: a process (an xstate machine, not a server) that traps exits and,
 * when its supervisor asks it to shut down, exits with its own `reason` instead.
 */
export const exitsWithOwnReason = setup({ types: {} as { context: { reason: ExitReason }; input: { reason: ExitReason } } }).createMachine({
  id: 'own-reason',
  context: ({ input }) => ({ reason: input.reason }),
  initial: 'running',
  states: {
    running: { on: { 'xotp.exit': 'done' } },
    done: { type: 'final' },
  },
  output: ({ context }) => exitWith(context.reason),
});

/** Start function for `exitsWithOwnReason`: linked to and placed under the supervisor, trapping exits. */
export function ownReasonStart(reason: ExitReason) {
  return (ctx: ChildStartContext): StartFunctionResult =>
    ctx.runtime.spawn(exitsWithOwnReason, { parent: ctx.supervisor, link: ctx.supervisor, trapExit: true, input: { reason } });
}

/**
 * `supervisor:start_link` from a test process that traps exits: starts `logic` linked to a
 * fresh `observer`, so the supervisor's exit reaches it as `{'EXIT', Sup, Reason}`.
 */
export async function startLinked(rt: TestRuntime, logic: AnyActorLogic, name?: string) {
  const obs = observer(rt);
  const sup = await rt.start(logic, { link: obs.pid, ...(name === undefined ? {} : { name }) });
  if (sup === 'ignore') throw new Error('supervisor start was ignored');
  /** The reasons of the EXIT messages the observer got from `pid` (OTP's `check_exit`). */
  const exitsFrom = (pid: Pid = sup): ExitReason[] =>
    obs.inbox.filter((m) => m.type === 'xotp.exit' && m.from?.id === pid.id).map((m) => m.reason);
  return { sup, obs, exitsFrom };
}

/**
 * otpWorkers' `scriptedStart` whose workers are labelled with their child id (`'dyn'` under a
 * dynamic supervisor, whose children have none).
 */
export function scripted(script: Array<'ok' | 'ignore' | { error: ExitReason }>, input: WorkerInput = {}) {
  return scriptedStart(script, (ctx) => ({ id: ctx.id || 'dyn', ...input }));
}

/**
 * Moves simulated time in `stepMs` steps until `promise` settles (a call queued behind a
 * supervisor that is busy with a slow start is answered once that start is over).
 */
export async function settle<T>(rt: TestRuntime, promise: Promise<T>, maxMs = 60_000, stepMs = 100): Promise<T> {
  let done = false;
  const watched = promise.finally(() => (done = true));
  await rt.flush();
  for (let waited = 0; !done && waited < maxMs; waited += stepMs) await rt.advance(stepMs);
  if (!done) throw new Error(`not settled within ${maxMs} simulated ms`);
  return watched;
}
