import { defineServer, type ExitReason, type Pid, type ServerContext } from '../../src/index.js';

/** One `terminate` call of a `probeServer`: which process, the reason, and the simulated time. */
export interface TerminateRecord {
  pid: Pid;
  reason: ExitReason;
  at: number;
}

/** Input of `probeServer`. */
export interface ProbeArgs {
  /** Every `terminate` call is recorded here. */
  log?: TerminateRecord[];
  /** `terminate` waits this many ms of the runtime clock before it returns. */
  terminateMs?: number;
  /** `terminate` throws this (after waiting `terminateMs`). */
  terminateThrows?: unknown;
  /** Trap exits (set in `init`). */
  trap?: boolean;
  /** `init` waits this many ms of the runtime clock. */
  initMs?: number;
}

/** Calls a `probeServer` answers. */
export type ProbeCall =
  | 'ping'
  | 'infos'
  | 'never'
  | { replyAfter: number; value: unknown }
  | { stopWith: ExitReason };

/** Casts a `probeServer` understands: stop itself with a reason. */
export type ProbeCast = { stop: ExitReason };

interface ProbeState {
  args: ProbeArgs;
  infos: unknown[];
}

function clockDelay(ctx: ServerContext, ms: number): Promise<void> {
  return new Promise((resolve) => {
    ctx.runtime.clock.setTimeout(() => resolve(), ms);
  });
}

/**
 * A gen_server-like process for stop/call/lifecycle tests. `'ping'` → `'pong'`; `'never'` never
 * answers; `{ replyAfter, value }` answers after that many clock ms; `{ stopWith }` replies `'ok'`
 * and stops; `'infos'` → every info message so far. Cast `{ stop: R }` makes it stop itself with R.
 * `terminate` records itself in `input.log`, can be slow (`terminateMs`) or throw (`terminateThrows`).
 */
export const probeServer = defineServer<ProbeState, ProbeArgs | undefined, ProbeCall, unknown, ProbeCast>({
  name: 'probe',
  init: async (args, ctx) => {
    const a = args ?? {};
    if (a.trap) ctx.trapExit(true);
    if (a.initMs) await clockDelay(ctx, a.initMs);
    return { state: { args: a, infos: [] } };
  },
  handleCall: (req, from, state, ctx) => {
    if (req === 'ping') return { reply: 'pong' };
    if (req === 'infos') return { reply: state.infos };
    if (req === 'never') return { noreply: true };
    if ('replyAfter' in req) {
      ctx.runtime.clock.setTimeout(() => ctx.reply(from, req.value), req.replyAfter);
      return { noreply: true };
    }
    return { stop: req.stopWith, reply: 'ok' };
  },
  handleCast: (msg) => ({ stop: msg.stop }),
  handleInfo: (msg, state) => ({ state: { ...state, infos: [...state.infos, msg] } }),
  terminate: async (reason, state, ctx) => {
    state.args.log?.push({ pid: ctx.self, reason, at: ctx.runtime.clock.now() });
    if (state.args.terminateMs) await clockDelay(ctx, state.args.terminateMs);
    if (state.args.terminateThrows !== undefined) throw state.args.terminateThrows;
  },
});
