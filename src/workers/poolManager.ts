import { Pid } from '../runtime/pid.js';
import type { CallFrom } from '../runtime/messages.js';
import { formatReason } from '../runtime/exitReason.js';
import { assign, not, setup, type AnyActorRef } from 'xstate';
import { pidOf, runtimeOf } from '../runtime/runtime.js';
import { InvalidOptionError } from '../runtime/errors.js';
import type { ExitReason } from '../runtime/exitReason.js';
import type { CallMessage, CastMessage } from '../runtime/messages.js';
import { processMachine, type ProcessMachineEvent } from '../runtime/processMachine.js';
import { breakerOf } from '../recovery/circuitBreaker.js';
import { RecoveryOrchestrator } from '../recovery/recoveryOrchestrator.js';
import { PoolStoppedError, SessionsDisabledError } from './poolErrors.js';
import { PoolState, schedule } from './poolState.js';
import type { Info, ManagerContext, PoolCast, PoolRequest, PoolSettings } from './poolTypes.js';
import './poolEvents.js';

export type { PoolSettings, Lease, CheckinOutcome, PoolWorkerStatus, PoolStatus, PoolBackoff, PoolStats, PoolRequest, PoolCast } from './poolTypes.js';

function managerContext(self: AnyActorRef): ManagerContext {
  const runtime = runtimeOf(self);
  const pid = pidOf(self);
  return {
    runtime,
    self: pid,
    reply: (from, value) => runtime.reply(from, value),
  };
}

interface ManagerMachineContext {
  pool: PoolState;
  ctx: ManagerContext | undefined;
  /** Its parent (from the init event), whose exit signal means stop. */
  parent: Pid | undefined;
  stopReason: unknown;
}

const INIT = 'xotp.pool.init';
const proc = processMachine({ init: INIT, label: 'manager' });

/** Everything the manager receives: the kernel's messages, its init event, its own info events. */
type ManagerEvent = ProcessMachineEvent<typeof INIT> | Info;

function onRequest(pool: PoolState, ctx: ManagerContext, request: PoolRequest, from: CallFrom): void {
  const rt = ctx.runtime;
  switch (request?.pool) {
    case 'checkout':
      return pool.checkout(ctx, from, request.session, request.token);
    case 'ready':
      if (pool.s.lazy || pool.readyCount >= pool.s.size) return void rt.reply(from, pool.status(ctx));
      // Its last start attempt failed and none is under way: nothing will get ready before the
      // backoff retry, so say why now.
      if (pool.startFailures > 0 && pool.inFlight === 0) return void rt.replyError(from, pool.startError(ctx));
      pool.readyWaiters.push(from);
      return;
    case 'status':
      return void rt.reply(from, pool.status(ctx));
    case 'settings':
      return void rt.reply(from, { checkoutTimeout: pool.s.checkoutTimeout });
    case 'session':
      try {
        return void rt.reply(from, pool.session(ctx, request.id));
      } catch (err) {
        return void rt.replyError(from, err);
      }
    case 'endSession':
      if (!pool.sessions) return void rt.replyError(from, new SessionsDisabledError(pool.s.name));
      return void rt.reply(from, pool.sessions.end(request.id));
    default:
      // Someone called the manager directly with something else: a typed answer, never a crash.
      rt.replyError(from, new InvalidOptionError(`pool '${pool.s.name}' request`, 'a request of the Pool API (use Pool.run, Pool.status, ...)', request));
  }
}

function onTick(pool: PoolState, ctx: ManagerContext, what: 'health' | 'sweep' | 'refill'): void {
  if (what === 'health') {
    pool.healthTick(ctx);
    schedule(ctx, pool, 'health', pool.s.health!.interval);
  } else if (what === 'sweep') {
    pool.sessions?.sweep(ctx.runtime.clock.now());
    schedule(ctx, pool, 'sweep', pool.s.sessions!.sweepInterval);
  } else {
    pool.retry(ctx);
  }
}

/**
 * The pool manager, an xstate machine whose states say where the pool is: `initializing`,
 * `warming` (not every worker has finished its handshake), `ready`, `stopped`. It answers
 * checkouts (at once, or by queueing the caller), takes check-ins, watches its workers
 * (monitors), starts replacements, sweeps sessions and runs health checks on the runtime clock.
 * The decisions are PoolState's; the calls themselves run in the callers.
 *
 * Each event it accepts while running is a named transition:
 * - `xotp.call`: a Pool API request (checkout, ready, status, settings, session, endSession);
 * - `xotp.cast`: a check-in or a caller leaving the queue;
 * - `pool.workerSpawned` / `pool.workerReady` / `pool.workerFailed`: a worker start's progress;
 * - `pool.pinged` / `pool.probed`: a health ping, or a settle probe behind an abandoned call;
 * - `pool.tick`: its own timers (health, session sweep, start backoff);
 * - `xotp.down`: a worker exited;
 * - `xotp.stop`, or `xotp.exit` from its parent: stop.
 *
 * @internal
 */
export function poolManagerMachine(): PoolManagerMachine {
  return (shared ??= buildPoolManagerMachine());
}

type PoolManagerMachine = ReturnType<typeof buildPoolManagerMachine>;
/**
 * One for the whole Node process, built by the first `pool()`: each pool's settings come in as its
 * input, and building an xstate machine per `pool()` call cost about 0.5 ms and its memory for the
 * pool definition's life.
 */
let shared: PoolManagerMachine | undefined;

function buildPoolManagerMachine() {
  return proc.mark(
    setup({
      types: {} as { context: ManagerMachineContext; events: ManagerEvent; input: PoolSettings },
      guards: {
        allReady: ({ context }) => context.pool.s.lazy || context.pool.readyCount >= context.pool.s.size,
        fromParent: proc.fromParent,
      },
    }).createMachine({
      id: 'poolManager',
      context: ({ input }) => ({ pool: new PoolState(input), ctx: undefined, parent: undefined, stopReason: 'normal' }),
      entry: proc.entry,
      initial: 'initializing',
      // Everything but starting and stopping is the same in warming and ready; only the state
      // name says whether every worker has finished its handshake.
      on: {
        'xotp.call': {
          actions: ({ context, event }) => onRequest(context.pool, context.ctx!, (event as CallMessage<PoolRequest>).request, event.from),
        },
        'xotp.cast': {
          actions: ({ context, event }) => {
            const message = (event as CastMessage<PoolCast>).message;
            if (message?.pool === 'checkin') context.pool.checkin(context.ctx!, message.lease, message.outcome, message.abandoned === true, message.worker);
            else if (message?.pool === 'cancel') context.pool.cancel(message.token);
          },
        },
        'pool.workerSpawned': { actions: ({ context, event }) => context.pool.onWorkerSpawned(context.ctx!, Pid.from(event.pid)) },
        'pool.workerReady': { actions: ({ context, event }) => context.pool.onWorkerReady(context.ctx!, event.pid) },
        'pool.workerFailed': { actions: ({ context, event }) => context.pool.onWorkerFailed(context.ctx!, event.reason, event.spawned) },
        'pool.pinged': { actions: ({ context, event }) => context.pool.onPinged(context.ctx!, Pid.from(event.pid), event.ok, event.reason) },
        'pool.probed': { actions: ({ context, event }) => context.pool.onProbed(context.ctx!, Pid.from(event.pid), event.answered, event.reason) },
        'pool.tick': { actions: ({ context, event }) => onTick(context.pool, context.ctx!, event.what) },
        'xotp.down': { actions: ({ context, event }) => context.pool.onDown(context.ctx!, event) },
        'xotp.stop': { target: '.stopped', actions: assign({ stopReason: ({ event }) => event.reason }) },
        // Trapping exits: the parent's exit signal means stop (as a gen_server); others are ignored.
        'xotp.exit': { guard: 'fromParent', target: '.stopped', actions: assign({ stopReason: ({ event }) => event.reason }) },
      },
      states: {
        initializing: {
          on: {
            [INIT]: {
              target: 'warming',
              actions: ({ context, event, self }) => {
                context.parent = event.parent;
                const ctx = (context.ctx = managerContext(self));
                const pool = context.pool;
                // The breaker is an earlier sibling, started before the manager.
                const breaker = pool.s.breaker ? breakerOf(ctx.runtime, pool.s.breakerName) : undefined;
                pool.recovery = new RecoveryOrchestrator(pool.s.name, ctx.runtime.clock, pool.s.retry, pool.s.recovery, breaker);
                // Its timers go with it however it ends (killed included).
                ctx.runtime.monitor(ctx.self, (down) => {
                  for (const t of pool.timers) ctx.runtime.clock.clearTimeout(t);
                  pool.timers = [];
                  pool.detach(down.reason);
                });
                pool.attach(ctx);
                if (pool.s.sessions) schedule(ctx, pool, 'sweep', pool.s.sessions.sweepInterval);
                if (pool.s.health) schedule(ctx, pool, 'health', pool.s.health.interval);
                pool.fill(ctx);
                proc.ack(self, { ok: true });
              },
            },
            // Nothing else can arrive before the init event: the manager is not registered yet.
          },
        },
        warming: { always: { guard: 'allReady', target: 'ready' } },
        ready: { always: { guard: not('allReady'), target: 'warming' } },
        stopped: {
          type: 'final',
          entry: ({ context }) => {
            const pool = context.pool;
            pool.stopping = true;
            for (const t of pool.timers) context.ctx?.runtime.clock.clearTimeout(t);
            pool.timers = [];
            const rt = context.ctx?.runtime;
            if (!rt) return;
            // Whoever still waits gets the error Pool.run documents, not the runtime's generic
            // "the process exited during call".
            const error = new PoolStoppedError(pool.s.name, formatReason(context.stopReason));
            // Calls waiting for a retry end now, with the same error, and leave no timer behind.
            pool.recovery?.cancelAll(error);
            for (const from of pool.readyWaiters.splice(0)) rt.replyError(from, error);
            pool.failWaiters(rt, error);
          },
        },
      },
      output: ({ context }) => proc.exitWith(context.stopReason as ExitReason),
    }),
  );
}

export type { PoolState };

/** @internal */
export function isPoolState(value: unknown): value is PoolState {
  return value instanceof PoolState;
}
