/**
 * Helpers for the significant-children and Elixir Supervisor / DynamicSupervisor conformance
 * tests: starting a supervisor and reading its children, start functions whose outcome the test
 * controls, and a child that traps exits and ends with a reason of its choosing.
 */
import { setup, type AnyActorLogic } from 'xstate';
import type { ExecutionContext } from 'ava';
import {
  defineServer,
  exitWith,
  whichChildren,
  type ChildStartContext,
  type ExitReason,
  type Pid,
  type StartFunctionResult,
  type Target,
} from '../../src/index.js';
import { worker, type WorkerInput } from './otpWorkers.js';
import type { TestRuntime } from '../../src/testing/index.js';

/** Starts a supervisor logic (top level, optionally named) and insists it really started. */
export async function startSup(t: ExecutionContext, rt: TestRuntime, logic: AnyActorLogic, name?: string): Promise<Pid> {
  const pid = await rt.start(logic, name === undefined ? {} : { name });
  if (pid === 'ignore') {
    t.fail('the supervisor start was ignored');
    throw new Error('ignored');
  }
  return pid;
}

/** The pid (or 'restarting' / undefined) of the child `id` of a static supervisor. */
export async function pidOfChild(rt: TestRuntime, sup: Target, id: string): Promise<Pid | 'restarting' | undefined> {
  const rows = await whichChildren(rt, sup);
  const row = rows.find((r) => r.id === id);
  if (row === undefined) throw new Error(`no child '${id}' in ${JSON.stringify(rows.map((r) => r.id))}`);
  return row.pid;
}

/** Like `pidOfChild`, for a child that must be running. */
export async function livePid(rt: TestRuntime, sup: Target, id: string): Promise<Pid> {
  const pid = await pidOfChild(rt, sup, id);
  if (pid === undefined || pid === 'restarting') throw new Error(`child '${id}' is not running (${String(pid)})`);
  return pid;
}

/** Makes a `worker` end the way a supervisor_SUITE child would: killed, normal, or with `reason`. */
export async function endChild(rt: TestRuntime, pid: Pid, how: 'kill' | ExitReason): Promise<ExitReason> {
  const gone = rt.exited(pid);
  if (how === 'kill') rt.exit(pid, 'kill');
  else rt.cast(pid, { exit: how });
  const reason = await gone;
  await rt.flush();
  return reason;
}

/**
 * A start function whose each start waits for the test to settle it: `waiting()` resolves once
 * the supervisor has called it, then `settle('ok')` starts a `worker`, `settle({ error })` fails
 * the start, `settle('ignore')` answers 'ignore'. The first `options.immediate` starts succeed at
 * once. `starts` counts the calls.
 */
export function gatedStart(input: WorkerInput = {}, options: { immediate?: number } = {}) {
  let immediate = options.immediate ?? 0;
  type Outcome = 'ok' | 'ignore' | { error: ExitReason };
  let release: ((o: Outcome) => void) | undefined;
  let arrived!: () => void;
  let arrival = new Promise<void>((r) => (arrived = r));
  const control = {
    starts: 0,
    /** Resolves when a start is waiting for the test (the next one, after a `settle`). */
    waiting: () => arrival,
    /** Whether a start is waiting right now. */
    get isWaiting() {
      return release !== undefined;
    },
    settle(outcome: Outcome) {
      const r = release;
      if (r === undefined) throw new Error('no start is waiting');
      release = undefined;
      arrival = new Promise<void>((res) => (arrived = res));
      r(outcome);
    },
  };
  const start = async (ctx: ChildStartContext): Promise<StartFunctionResult> => {
    control.starts++;
    if (immediate > 0) {
      immediate--;
      return startWorker(ctx, input);
    }
    const outcome = await new Promise<Outcome>((resolve) => {
      release = resolve;
      arrived();
    });
    if (outcome === 'ignore') return 'ignore';
    if (typeof outcome === 'object') throw outcome.error;
    return startWorker(ctx, input);
  };
  return { control, start };
}

/** Starts a `worker` for a start function, linked to and placed under the supervisor. */
async function startWorker(ctx: ChildStartContext, input: WorkerInput): Promise<StartFunctionResult> {
  const merged = typeof ctx.input === 'object' && ctx.input !== null ? { ...(ctx.input as object), ...input } : input;
  const pid = await ctx.runtime.start(worker, { parent: ctx.supervisor, link: ctx.supervisor, input: merged, id: ctx.id || undefined });
  return pid === 'ignore' ? 'ignore' : pid;
}

type ScriptStep = 'ok' | 'ignore' | { info: unknown } | { error: ExitReason } | { returns: unknown };

/**
 * Like otpWorkers' `scriptedStart`, usable under dynamic supervisors too (their children have no
 * id) and able to return extra info: each start takes the next entry of `script` — 'ok', 'ignore',
 * `{ info }` (start with that extra info), `{ error }` (fail), `{ returns }` (return that value
 * as is); once the script runs out, `rest` (default 'ok'). The worker gets the spec's input (an object) merged
 * under `input`. `starts` counts the calls and `inputs` records the input each start got.
 */
export function scripted(script: ScriptStep[], input: WorkerInput = {}, rest: ScriptStep = 'ok') {
  const control = { script: [...script], starts: 0, inputs: [] as unknown[] };
  const start = async (ctx: ChildStartContext): Promise<StartFunctionResult> => {
    control.starts++;
    control.inputs.push(ctx.input);
    const next = control.script.shift() ?? rest;
    if (next === 'ignore') return 'ignore';
    if (typeof next === 'object' && 'error' in next) throw next.error;
    if (typeof next === 'object' && 'returns' in next) return next.returns as StartFunctionResult;
    const pid = await startWorker(ctx, input);
    if (typeof next === 'object' && 'info' in next && pid !== 'ignore') return { pid: pid as Pid, info: next.info };
    return pid;
  };
  return { control, start };
}

/**
 * A raw process (not a server) that traps exits from the start and, on any exit signal, ends
 * with `input.reason`: Elixir's test children that `receive(do: (_ -> exit({:shutdown, :oops})))`.
 * With `input.reason === undefined` it ignores exit signals (it must then be killed).
 */
export const trappingExiter = setup({
  types: {} as { context: { reason: ExitReason; ignore: boolean }; input: { reason?: ExitReason } | undefined },
}).createMachine({
  id: 'trapper',
  context: ({ input }) => ({ reason: input?.reason, ignore: input?.reason === undefined }),
  initial: 'waiting',
  states: {
    waiting: {
      on: {
        'xotp.exit': [{ guard: ({ context }) => !context.ignore, target: 'done' }],
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => exitWith(context.reason),
});

/** A start function that spawns `trappingExiter` linked to the supervisor, trapping exits from birth. */
export function trappingExiterStart(reason: ExitReason | undefined) {
  return (ctx: ChildStartContext): Pid =>
    ctx.runtime.spawn(trappingExiter, {
      parent: ctx.supervisor,
      link: ctx.supervisor,
      trapExit: true,
      id: ctx.id || undefined,
      input: reason === undefined ? {} : { reason },
    });
}

/**
 * Elixir supervisor_test's `Stack`: a GenServer over a list. `call('pop')` → the head;
 * `call('stop')` → 'ok' and stops with reason normal; `cast({ push })`.
 */
export const stack = defineServer<unknown[], unknown[] | undefined, 'pop' | 'stop', unknown, { push: unknown }>({
  name: 'stack',
  init: (items) => ({ state: [...(items ?? [])] }),
  handleCall: (req, _from, state) =>
    req === 'pop' ? { reply: state[0], state: state.slice(1) } : { stop: 'normal', reply: 'ok' },
  handleCast: (msg, state) => ({ state: [msg.push, ...state] }),
});

/** Elixir's `assert_kill(pid, reason)`: `Process.exit(pid, reason)` from outside, then wait for it to be gone. */
export async function assertKill(rt: TestRuntime, pid: Pid, reason: ExitReason): Promise<ExitReason> {
  const gone = rt.exited(pid);
  rt.exit(pid, reason);
  const r = await gone;
  await rt.flush();
  return r;
}
