import type { Pid } from '../runtime/pid.js';
import type { Runtime } from '../runtime/runtime.js';
import type { RuntimeEventMap } from '../runtime/events.js';
import type { BreakerState } from '../recovery/breakerCore.js';

/*
 * The pool's telemetry on the runtime's event bus. Every event is emitted only while someone
 * listens to it (`listening`), and nothing is measured for it otherwise: the happy path of a
 * pool nobody watches reads no clock and allocates no payload. Durations are runtime-clock ms
 * (simulated ms in tests).
 */

/** A caller got a worker (`Pool.run`, `Pool.checkout`). */
export interface PoolCheckoutEvent {
  pool: string;
  worker: Pid;
  session: string | undefined;
  /** ms from asking to getting a worker: 0 when one was idle, the queue wait otherwise. */
  waitMs: number;
}

/** A call of `Pool.run` on a worker ended (once per attempt; retries are separate calls). */
export interface PoolCallEvent {
  pool: string;
  worker: Pid;
  op: string;
  session: string | undefined;
  durationMs: number;
  outcome: 'ok' | 'error';
  /** The error's `code` when it is an XotpError (`python_error`, `timeout`, `bridge_exited`...). */
  code?: string;
}

/** A worker (a Python bridge) finished its ready handshake. */
export interface PoolWorkerStartedEvent {
  pool: string;
  worker: Pid;
  /** ms from spawn to the ready handshake. */
  startupMs: number;
}

/** A worker exited; unless the pool is stopping, a replacement starts (a restart). */
export interface PoolWorkerExitedEvent {
  pool: string;
  worker: Pid;
  reason: unknown;
  /** It had finished its handshake (false: a failed start attempt). */
  ready: boolean;
  /** ms it lived. */
  uptimeMs: number;
  /** Checkouts it served. */
  operations: number;
}

/** A session's first call bound it to a worker. */
export interface PoolSessionEvent {
  pool: string;
  session: string;
  worker: Pid;
}

/** A session was lost with its worker. */
export interface PoolSessionLostEvent extends PoolSessionEvent {
  reason: string;
}

/** A pool's circuit breaker changed state. */
export interface BreakerTransitionEvent {
  /** The breaker process's name (`<pool>.breaker`). */
  breaker: string;
  pool: string;
  from: BreakerState;
  to: BreakerState;
}

/** At start, the pool found earlier runs of its own whose host died, and ended their processes. */
export interface PoolOrphansSweptEvent {
  pool: string;
  /** The dead runs' ids. */
  runs: string[];
  /** OS pids it killed. */
  killed: number[];
}

declare module '../runtime/events.js' {
  interface RuntimeEventMap {
    'pool.checkout': [PoolCheckoutEvent];
    'pool.call': [PoolCallEvent];
    'pool.workerStarted': [PoolWorkerStartedEvent];
    'pool.workerExited': [PoolWorkerExitedEvent];
    'pool.sessionBound': [PoolSessionEvent];
    /** The session's TTL passed (found by the sweep or a lookup); Python was told to drop its state. */
    'pool.sessionExpired': [PoolSessionEvent];
    /** `Pool.endSession` ended it; Python was told to drop its state. */
    'pool.sessionEnded': [PoolSessionEvent];
    'pool.sessionLost': [PoolSessionLostEvent];
    'breaker.transition': [BreakerTransitionEvent];
    'pool.orphansSwept': [PoolOrphansSweptEvent];
  }
}

/** Whether anyone listens to `name`: the one check the hot path pays. @internal */
export function listening(runtime: Runtime, name: keyof RuntimeEventMap): boolean {
  return runtime.events.listenerCount(name) > 0;
}

/** The `code` of an XotpError (or any error carrying a string code). @internal */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Emits `breaker.transition` for the pool's breaker process: its machine's state changes are
 * read from the actor's own snapshots, so the breaker itself pays nothing per call.
 * @internal
 */
export function watchBreaker(runtime: Runtime, pool: string, breaker: string): void {
  const actor = runtime.actorOf(breaker);
  if (!actor) return;
  let last = actor.getSnapshot().value as BreakerState;
  // The subscription ends with the actor (a completed actor drops its observers).
  actor.subscribe({
    next: (snapshot: { value: unknown }) => {
      const to = snapshot.value as BreakerState;
      if (to === last) return;
      const from = last;
      last = to;
      if (listening(runtime, 'breaker.transition')) runtime.events.emit('breaker.transition', { breaker, pool, from, to });
    },
    error: () => undefined,
  });
}
