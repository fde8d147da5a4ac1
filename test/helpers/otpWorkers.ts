/**
 * Workers for supervisor conformance tests, modelled on the processes of OTP's
 * supervisor_SUITE: a gen_server that crashes or exits on demand, optionally traps exits, takes
 * simulated time to terminate, and records what happened to it.
 */
import { defineServer, type ChildStartContext, type ExitReason, type Pid, type StartFunctionResult } from '../../src/index.js';

export interface WorkerInput {
  /** A label written into `log` entries. */
  id?: string;
  /** Trap exits (a "stubborn" child still gets shutdown from its supervisor as a terminate). */
  trap?: boolean;
  /** Simulated ms that `terminate` takes; 'forever' never finishes (needs a kill). */
  terminateMs?: number | 'forever';
  /** Shared record of lifecycle lines: `start:<id>`, `terminate:<id>:<reason>`. */
  log?: string[];
  /** What init does: default `ok`. */
  init?: 'ok' | 'ignore' | { stop: ExitReason } | 'throw';
}

export type WorkerCast = 'crash' | { exit: ExitReason };

/** `cast(pid, 'crash')` throws; `cast(pid, { exit: R })` stops with reason R; `call(pid, 'ping')` → 'pong'. */
export const worker = defineServer<WorkerInput, WorkerInput | undefined, 'ping' | 'state', unknown, WorkerCast>({
  name: 'worker',
  init: (input, ctx) => {
    const args = input ?? {};
    if (args.trap) ctx.trapExit(true);
    args.log?.push(`start:${args.id ?? '?'}`);
    if (args.init === 'ignore') return { ignore: true };
    if (args.init === 'throw') throw new Error('init_crashed');
    if (typeof args.init === 'object') return { stop: args.init.stop };
    return { state: args };
  },
  handleCall: (req, _from, state) => ({ reply: req === 'ping' ? 'pong' : state }),
  handleCast: (msg) => {
    if (msg === 'crash') throw new Error('crashed_on_demand');
    return { stop: msg.exit };
  },
  terminate: (reason, state, ctx) => {
    state.log?.push(`terminate:${state.id ?? '?'}:${typeof reason === 'string' ? reason : JSON.stringify(reason)}`);
    if (state.terminateMs === 'forever') return new Promise<void>(() => undefined);
    const ms = state.terminateMs;
    if (ms !== undefined) return new Promise<void>((resolve) => ctx.runtime.clock.setTimeout(() => resolve(), ms));
  },
});

/**
 * A start function whose results are scripted: each start takes the next entry of `script`
 * ('ok' starts a worker, 'ignore', or an error reason); when the script runs out, 'ok'.
 * `starts` counts the calls. `input` may be a function of the start context.
 */
export function scriptedStart(
  script: Array<'ok' | 'ignore' | { error: ExitReason }>,
  input: WorkerInput | ((ctx: ChildStartContext) => WorkerInput) = {},
) {
  const control = { script: [...script], starts: 0 };
  const start = async (ctx: ChildStartContext): Promise<StartFunctionResult> => {
    control.starts++;
    const next = control.script.shift() ?? 'ok';
    if (next === 'ignore') return 'ignore';
    if (typeof next === 'object') throw next.error;
    const pid = await ctx.runtime.start(worker, {
      parent: ctx.supervisor,
      link: ctx.supervisor,
      input: typeof input === 'function' ? input(ctx) : input,
      ...(ctx.id ? { id: ctx.id } : {}),
    });
    return pid as Pid;
  };
  return { control, start };
}
