/**
 * Shared helpers for the conformance tests ported from OTP's supervisor_SUITE
 * (test/conformance/otpSupervisor*.test.ts): starting a supervisor, finding its children,
 * crashing them, and reading what happened from the trace.
 */
import type { ExecutionContext } from 'ava';
import type { AnyActorLogic } from 'xstate';
import {
  countChildren,
  whichChildren,
  type ChildSpec,
  type ExitReason,
  type Pid,
  type Target,
} from '../../src/index.js';
import type { TestRuntime } from '../../src/testing/index.js';
import { worker, type WorkerInput } from './otpWorkers.js';

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

/** The ids (from the worker `log`) in the order the `prefix` lines were written. */
export function logged(log: string[], prefix: 'start' | 'terminate'): string[] {
  return log.filter((l) => l.startsWith(`${prefix}:`)).map((l) => l.split(':')[1]!);
}

/**
 * The processes a supervisor sent `shutdown` or `kill` to, in order, as readable ids
 * (the last segment of their tree id, i.e. the child id).
 */
export function shutdownSignals(rt: TestRuntime, sup: Pid): Array<[string, ExitReason]> {
  const ids = new Map(rt.trace.of('process.spawned').map((s) => [s.pid.id, s.id.split('/').pop()!]));
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
