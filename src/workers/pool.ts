import type { AnyActorLogic } from 'xstate';
import { InvalidOptionError } from '../runtime/errors.js';
import { validateOptions, optional, integer, isBoolean, isTimeout, oneOf, matching, isString } from '../runtime/validate.js';
import { supervisor } from '../supervisor/supervisor.js';
import { dynamicSupervisor } from '../supervisor/dynamicSupervisor.js';
import { poolManagerMachine, type PoolSettings } from './poolManager.js';
import { isRetryPolicy, type RetryOptions } from '../recovery/retry.js';
import { breakerSettings, type BreakerOptions } from '../recovery/breakerCore.js';
import { circuitBreaker } from '../recovery/circuitBreaker.js';
import { recoverySettings, type RecoveryOptions } from '../recovery/recoveryOrchestrator.js';

/** Options of `pool()`. Plain objects, validated here: a wrong shape names its key. */
export interface PoolOptions {
  /** The pool's name: its manager is registered under it; calls address the pool by it. */
  name: string;
  /** Number of workers. */
  size: number;
  /** The worker logic, usually a `pythonBridge(...)`. */
  worker: AnyActorLogic;
  /** ms a caller waits for a free worker before CheckoutTimeoutError. Default 5000. */
  checkoutTimeout?: number | 'infinity';
  /** Callers that may wait at once; one more fails fast with PoolBusyError. Default 1000. */
  maxQueue?: number;
  /** Workers started at once while warming up. Default: all of them. */
  startConcurrency?: number;
  /** Start workers only when callers need them (up to `size`). Default false. */
  lazy?: boolean;
  /** Which idle worker a call gets: the longest idle (`'fifo'`, default) or the last used (`'lifo'`). */
  strategy?: 'fifo' | 'lifo';
  /** Session affinity: a session's calls all run on the worker its first call ran on. */
  sessions?: { ttl: number; sweepInterval?: number };
  /**
   * Health checks: a ping every `interval`; `maxFailures` consecutive failures replace a worker.
   * `preferHealthy` (default true): a degraded worker gets new work only when no healthy one is
   * idle (session calls still go to their own worker).
   */
  health?: { interval: number; timeout?: number; maxFailures?: number; preferHealthy?: boolean };
  /**
   * The pool's default retry policy for `Pool.run` (a call may override it with its own `retry`,
   * or `retry: false`). `true` is the default policy (3 attempts, exponential backoff from 50 ms,
   * ±25 % jitter, at most 2 s). Default false: no retries unless asked for.
   */
  retry?: RetryOptions | boolean;
  /**
   * The pool's circuit breaker (a process `<name>.breaker` beside the manager). Default on with
   * the breaker's defaults; `false` turns it off.
   */
  breaker?: BreakerOptions | boolean;
  /** The recovery orchestrator: how many failed calls may be recovered at once. Default `{ maxConcurrent: 10 }`. */
  recovery?: RecoveryOptions;
  /**
   * The orphan sweep (default on): each run of the pool marks its Python processes with
   * `XOTP_RUN_ID` / `XOTP_POOL` and records itself in a state file under `stateDir` (default
   * `<os.tmpdir()>/xotp-<uid>`); at start the pool ends leftovers of its earlier runs whose host
   * died, verified through /proc (Linux; elsewhere it does nothing). `false` turns it off.
   */
  orphans?: boolean | { stateDir?: string };
}

/** A worker's health ping may take this long at most by default (or the interval, if shorter). */
const DEFAULT_PING_TIMEOUT_MS = 5000;
/** Failed pings (or failed calls) in a row that replace a worker by default: the seed's threshold. */
const DEFAULT_MAX_FAILURES = 3;
/** Sessions are swept at most this often by default: a sweep walks every session. */
const MIN_SWEEP_INTERVAL_MS = 1000;
/**
 * The workers' dynamic supervisor must never give up on its children (the pool decides when a
 * worker is replaced, with its own backoff); OTP's intensity would otherwise take the whole pool
 * down under a chaos monkey. It still bounds a runaway restart loop.
 */
const WORKER_RESTARTS = { maxRestarts: 1000, maxSeconds: 1 };

function parse(options: unknown): PoolSettings {
  const o = validateOptions('pool', options, {
    name: matching(/^\S+$/, 'a non-empty name without spaces'),
    size: integer(1, 10_000),
    worker: (v, key) => {
      if (typeof v !== 'object' || v === null || typeof (v as AnyActorLogic).transition !== 'function') {
        throw new InvalidOptionError(key, 'xstate logic for a worker (e.g. pythonBridge({ module }))', v);
      }
      return v as AnyActorLogic;
    },
    checkoutTimeout: optional(isTimeout, 5000),
    maxQueue: optional(integer(0), 1000),
    startConcurrency: optional(integer(1)),
    lazy: optional(isBoolean, false),
    strategy: optional(oneOf('fifo', 'lifo'), 'fifo'),
    sessions: optional((v, key) =>
      validateOptions(key, v, { ttl: integer(1), sweepInterval: optional(integer(1)) }),
    ),
    health: optional((v, key) =>
      validateOptions(key, v, { interval: integer(1), timeout: optional(integer(1)), maxFailures: optional(integer(1)), preferHealthy: optional(isBoolean) }),
    ),
    retry: optional(isRetryPolicy, false),
    breaker: optional((v, key) => (v === false ? false : breakerSettings(key, v === true ? {} : v)), breakerSettings('pool.breaker', {})),
    recovery: optional((v, key) => recoverySettings(key, v), { maxConcurrent: 10 }),
    orphans: optional(
      (v, key) => (typeof v === 'boolean' ? v : validateOptions(key, v, { stateDir: optional(isString) })),
      true as boolean | { stateDir?: string },
    ),
  });
  return {
    name: o.name,
    size: o.size,
    worker: o.worker,
    checkoutTimeout: o.checkoutTimeout,
    maxQueue: o.maxQueue,
    startConcurrency: o.startConcurrency ?? o.size,
    lazy: o.lazy,
    strategy: o.strategy,
    sessions: o.sessions ? { ttl: o.sessions.ttl, sweepInterval: o.sessions.sweepInterval ?? Math.max(MIN_SWEEP_INTERVAL_MS, o.sessions.ttl) } : undefined,
    health: o.health
      ? {
          interval: o.health.interval,
          timeout: o.health.timeout ?? Math.min(DEFAULT_PING_TIMEOUT_MS, o.health.interval),
          maxFailures: o.health.maxFailures ?? DEFAULT_MAX_FAILURES,
          preferHealthy: o.health.preferHealthy ?? true,
        }
      : undefined,
    workersName: `${o.name}.workers`,
    retry: o.retry,
    breaker: o.breaker,
    breakerName: `${o.name}.breaker`,
    recovery: o.recovery,
    orphans: o.orphans === false ? false : { stateDir: o.orphans === true ? undefined : o.orphans.stateDir },
  };
}

/**
 * A pool of workers (usually Python bridges) as a supervision subtree: a one_for_all supervisor
 * of the pool's circuit breaker (`<name>.breaker`, unless `breaker: false`), a dynamic
 * supervisor of workers (`<name>.workers`) and the pool manager (registered under `name`). Workers
 * warm up in parallel; calls check a worker out, run in the caller, and check it back in.
 *
 * @example
 * ```ts
 * const py = pool({ name: 'py', size: 4, worker: pythonBridge({ module: 'my_handlers' }), sessions: { ttl: 300_000 } });
 * await runtime.start(py);
 * await Pool.ready(runtime, 'py');
 * await Pool.run(runtime, 'py', 'embed', { text }, { session: 's1', timeout: 5000 });
 * ```
 * @throws InvalidOptionError naming the key for a wrong option (the seed's map-vs-keyword errors).
 */
export function pool(options: PoolOptions) {
  const settings = parse(options);
  return supervisor({
    strategy: 'one_for_all',
    label: /^[^/\s]+$/.test(settings.name) ? settings.name : 'pool',
    children: [
      // The breaker starts first: the manager finds it when it initialises.
      ...(settings.breaker
        ? [{ id: 'breaker', name: settings.breakerName, start: circuitBreaker({ ...settings.breaker, name: settings.name }) }]
        : []),
      {
        id: 'workers',
        name: settings.workersName,
        start: dynamicSupervisor({ label: 'workers', ...WORKER_RESTARTS }),
      },
      { id: 'manager', name: settings.name, start: poolManagerMachine(), input: settings },
    ],
  });
}
