import type { Pid } from '../runtime/pid.js';

/**
 * A pool worker failed to start (its process exited before the ready handshake, or could not be
 * spawned). Emitted once per failed attempt; the pool retries after `nextAttemptInMs`.
 */
export interface PoolStartFailedEvent {
  pool: string;
  /** Consecutive failed attempts, this one included. */
  failures: number;
  /** The worker's startup error (usually a BridgeStartupError). */
  reason: unknown;
  /** null when a retry is already scheduled or under way from an earlier failure. */
  nextAttemptInMs: number | null;
}

/**
 * A worker whose call was abandoned (timed out or aborted) answered again: it is back in
 * service. (A worker whose call never finishes is not settled: its bridge ends wedged and the
 * worker is replaced.)
 */
export interface PoolWorkerSettledEvent {
  pool: string;
  worker: Pid;
}

declare module '../runtime/events.js' {
  interface RuntimeEventMap {
    'pool.startFailed': [PoolStartFailedEvent];
    'pool.workerSettled': [PoolWorkerSettledEvent];
  }
}
