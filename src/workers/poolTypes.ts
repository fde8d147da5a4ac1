import type { AnyActorLogic } from 'xstate';
import type { Pid } from '../runtime/pid.js';
import type { CallFrom, DownMessage } from '../runtime/messages.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Deadline } from '../runtime/deadlines.js';
import type { RetryPolicy } from '../recovery/retry.js';
import type { BreakerSettings, BreakerStatus } from '../recovery/breakerCore.js';
import type { RecoveryStatus } from '../recovery/recoveryOrchestrator.js';
import type { WorkerLifecycle, WorkerState } from './workerLifecycle.js';

/*
 * The pool's vocabulary: its settings, what callers get back (leases, status), and the messages
 * between callers, the manager and the manager's own timers and helpers.
 */

/** @internal The pool's validated settings, handed to its manager. */
export interface PoolSettings {
  name: string;
  size: number;
  worker: AnyActorLogic;
  checkoutTimeout: number;
  maxQueue: number;
  startConcurrency: number;
  lazy: boolean;
  strategy: 'fifo' | 'lifo';
  sessions: { ttl: number; sweepInterval: number } | undefined;
  health: { interval: number; timeout: number; maxFailures: number; preferHealthy: boolean } | undefined;
  workersName: string;
  /** Orphan sweep of the pool's earlier runs (a state file per run); false: off. */
  orphans: { stateDir: string | undefined } | false;
  retry: RetryPolicy | false;
  breaker: BreakerSettings | false;
  breakerName: string;
  recovery: { maxConcurrent: number };
}

/** A checked-out worker: give it back with `checkin`. */
export interface Lease {
  readonly lease: number;
  readonly worker: Pid;
}

/** How a lease ended, as the caller saw it. */
export type CheckinOutcome = 'ok' | 'error' | 'crashed';

/** One worker in `poolStatus`. */
export interface PoolWorkerStatus {
  pid: Pid;
  busy: boolean;
  /**
   * Present (true) while a call that timed out or was aborted may still run in its Python
   * process: the worker is handed out again only once the process answers (or it is replaced).
   */
  settling?: true;
  /** Runtime clock ms at which the worker was spawned. */
  startedAt: number;
  /** Checkouts granted to it (calls and `Pool.checkout`s). */
  operations: number;
  /**
   * ms spent in each state so far (runtime clock), the current one included. With health
   * checks: every lifecycle state it went through; without: `starting`, `ready` and `busy`.
   */
  timeInState: Partial<Record<WorkerState, number>>;
  /** Only when health checks are on. */
  state?: WorkerState;
  failures?: number;
  history?: WorkerLifecycle['history'];
}

/** What `poolStatus` returns. `sessions` and `health` are absent unless enabled. */
export interface PoolStatus {
  name: string;
  size: number;
  ready: number;
  starting: number;
  idle: number;
  busy: number;
  queued: number;
  workers: PoolWorkerStatus[];
  stats: PoolStats;
  sessions?: { ttl: number; bound: number; expired: number; lost: number; workersWithSessions: number };
  /**
   * Present while worker starts are failing: from a start attempt that failed (a process that
   * exited before its ready handshake, or could not be spawned) until the next successful
   * handshake.
   */
  backoff?: PoolBackoff;
  health?: { interval: number; maxFailures: number; degraded: number; unhealthy: number; replaced: number };
  /** The pool's circuit breaker (absent with `breaker: false`). */
  breaker?: BreakerStatus;
  /** Retries and recoveries (absent unless the pool has a default `retry` policy or a call asked for one). */
  recovery?: RecoveryStatus;
}

/** `Pool.status().backoff`: why workers cannot start and when the pool tries again. */
export interface PoolBackoff {
  /** Consecutive failed start attempts. */
  failures: number;
  /** The last attempt's startup error (usually a BridgeStartupError). */
  lastError: unknown;
  /** One line: Python's `Type: message` when there is a traceback, else the error's first line. */
  reason: string;
  /** Runtime clock ms of the next attempt; null while an attempt is under way. */
  nextAttemptAt: number | null;
  /** ms from now until the next attempt; null while an attempt is under way. */
  nextAttemptInMs: number | null;
}

export interface PoolStats {
  checkouts: number;
  busyRejects: number;
  workerExits: number;
  started: number;
}

/** @internal */
export type PoolRequest =
  | { pool: 'checkout'; session?: string; token: string }
  | { pool: 'ready' }
  | { pool: 'status' }
  | { pool: 'settings' }
  | { pool: 'session'; id: string }
  | { pool: 'endSession'; id: string };

/** @internal */
export type PoolCast =
  // abandoned: the caller stopped waiting for its call (timed out, aborted); Python may still run it.
  // worker: the lent worker's pid id. Lease numbers start again in a restarted manager: a check-in
  // sent late to the pool's name may meet a lease of the same number lent to another worker.
  | { pool: 'checkin'; lease: number; worker: number; outcome: CheckinOutcome; abandoned?: boolean }
  | { pool: 'cancel'; token: string };

/** @internal One worker as the manager sees it. */
export interface Worker {
  readonly pid: Pid;
  ready: boolean;
  busy: boolean;
  lifecycle: WorkerLifecycle | undefined;
  pinging: boolean;
  /** A health failure came in while it was checked out: applied at check-in. */
  failedWhileBusy: boolean;
  /** Its last ping failed: only a successful ping clears its failures then. */
  pingFailing: boolean;
  /**
   * A call on it timed out or was aborted and Python has not answered anything since: not idle
   * until a probe (a ping queued behind that call) answers, or the worker exits (a wedged
   * bridge ends itself) and is replaced.
   */
  settling: boolean;
  /** A settle probe is under way. */
  probing: boolean;
  /** Runtime clock ms: spawned, handshake done (undefined until then). */
  readonly startedAt: number;
  readyAt: number | undefined;
  /** Checkouts granted to it. */
  operations: number;
  /** Since when it is checked out (undefined while not), and ms checked out before that. */
  busySince: number | undefined;
  busyMs: number;
}

/**
 * @internal A caller waiting for a worker: one that asked the manager (`from`: answered with
 * `rt.reply`), or one that joined the queue in its own turn (`local`: its promise settled
 * directly, its checkout deadline on the pool's own Deadlines).
 */
export interface Waiter {
  readonly from: CallFrom | undefined;
  readonly token: string;
  readonly session: string | undefined;
  readonly local?: LocalWaiter;
}

/** @internal */
export interface LocalWaiter {
  readonly resolve: (lease: Lease) => void;
  readonly reject: (error: unknown) => void;
  deadline: Deadline | undefined;
}

/** @internal What the manager hears besides calls and casts: its helpers, its timers, DOWNs. */
export type Info =
  | { type: 'pool.workerSpawned'; pid: Pid }
  | { type: 'pool.workerReady'; pid: Pid }
  | { type: 'pool.workerFailed'; reason: unknown; spawned: boolean }
  | { type: 'pool.tick'; what: 'health' | 'sweep' | 'refill' }
  | { type: 'pool.pinged'; pid: Pid; ok: boolean; reason?: unknown }
  | { type: 'pool.probed'; pid: Pid; answered: boolean; reason?: unknown }
  | DownMessage;

/** What the pool's state needs of the process it lives in. @internal */
export interface ManagerContext {
  readonly runtime: Runtime;
  readonly self: Pid;
  reply(from: CallFrom, value: unknown): boolean;
}
