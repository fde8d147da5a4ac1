import type { Pid } from '../runtime/pid.js';
import { AbortError, InvalidOptionError, ProcessExitError, TimeoutError } from '../runtime/errors.js';
import { formatReason } from '../runtime/exitReason.js';
import type { Runtime } from '../runtime/runtime.js';
import { validateOptions, optional, isTimeout, instanceOf, isBoolean, isEmptyOptions, nonEmptyString } from '../runtime/validate.js';
import { isRetryPolicy, type RetryOptions, type RetryPolicy } from '../recovery/retry.js';
import { callBridge, callBridgeWith } from '../bridge/bridgeClient.js';
import { DirectReceiver } from '../bridge/bridgeCore.js';
import type { BreakerCore } from '../recovery/breakerCore.js';
import { BridgeExitedError, BridgeNotRunningError } from '../bridge/bridgeErrors.js';
import { isPoolState, type CheckinOutcome, type Lease, type PoolCast, type PoolRequest, type PoolState, type PoolStatus } from './poolManager.js';
import type { SessionState } from './sessionTable.js';
import { CheckoutTimeoutError, PoolStoppedError } from './poolErrors.js';
import { codeOf, listening } from './poolTelemetry.js';

/** Options of `Pool.run`. */
export interface PoolRunOptions {
  /** Run on this session's worker (binding it on first use). */
  session?: string;
  /**
   * The call's deadline in ms (the bridge's callTimeout by default). With retries it is the
   * deadline of the whole operation: no retry starts that could not finish before it.
   */
  timeout?: number | 'infinity';
  /** How long to wait for a free worker. Default: the pool's checkoutTimeout. */
  checkoutTimeout?: number | 'infinity';
  /** Ends the call, and any retries, with AbortError. */
  signal?: AbortSignal;
  /**
   * This call's retry policy: options, `true` for the default policy, or `false` for none.
   * Default: the pool's `retry`. Only retryable errors are retried (see the error table).
   */
  retry?: RetryOptions | boolean;
  /**
   * The operation is safe to run twice. Only then is it retried after a failure that may have
   * let it run (the worker crashed mid-call, or the call timed out). Default false.
   */
  idempotent?: boolean;
}

/** A session id: an empty one would bind a session all the same. */
const sessionId = nonEmptyString('a non-empty session id');

/** `Pool.run`'s options, checked (also by `Service.run`, whatever its backend). @internal */
export const runSchema = {
  session: optional(sessionId),
  timeout: optional(isTimeout),
  checkoutTimeout: optional(isTimeout),
  signal: optional(instanceOf(AbortSignal, 'an AbortSignal')),
  retry: optional(isRetryPolicy),
  idempotent: optional(isBoolean),
};

type ValidRunOptions = Omit<PoolRunOptions, 'retry'> & { retry?: RetryPolicy | false };

/**
 * Checkout tokens only need to be unique among one pool's waiters; a process-wide counter gives
 * that for every pool at once and is never reset, so two pools (or two runtimes) cannot collide.
 */
let tokens = 0;
const forever = { timeout: 'infinity' } as const;

/**
 * The pool manager's state, read in the caller (as registry lookups read the registry's
 * tables): its settings and its recovery orchestrator. Undefined when no pool manager runs
 * under that name (the call to it then fails with NoProcessError, as any call would).
 */
function poolStateOf(runtime: Runtime, pool: string): PoolState | undefined {
  let actor;
  try {
    actor = runtime.actorOf(pool);
  } catch {
    return undefined; // an unknown registry in a via name: the call path reports it
  }
  const state = (actor?.getSnapshot() as { context?: { pool?: unknown } } | undefined)?.context?.pool;
  return isPoolState(state) ? state : undefined;
}

/**
 * The session TTL of the pool running under `pool` in this runtime (undefined without sessions,
 * or without such a pool): `servePool` tells remote callers, whose session routes follow it.
 *
 * @internal
 */
export function poolSessionTtl(runtime: Runtime, pool: string): number | undefined {
  return poolStateOf(runtime, pool)?.s.sessions?.ttl;
}

function checkoutLease(
  runtime: Runtime,
  pool: string,
  state: PoolState | undefined,
  opts: { session: string | undefined; checkoutTimeout: number | undefined; signal: AbortSignal | undefined },
): Promise<Lease> {
  const token = `k${++tokens}`;
  const request: PoolRequest = opts.session !== undefined ? { pool: 'checkout', token, session: opts.session } : { pool: 'checkout', token };
  const known = opts.checkoutTimeout ?? state?.s.checkoutTimeout;
  // A caller with no session and no signal waits in the pool's queue from its own turn.
  if (state !== undefined && known !== undefined && opts.session === undefined && opts.signal === undefined) {
    const waiting = state.waitNow(token, known);
    if (waiting !== undefined) return waiting;
  }
  const ask = (timeout: number) =>
    runtime.call<Lease>(pool, request, opts.signal ? { timeout, signal: opts.signal } : { timeout }).catch((err: unknown) => {
      if (err instanceof TimeoutError || err instanceof AbortError) {
        // Leave the queue: a worker granted later must not be held for nobody.
        try {
          runtime.cast(pool, { pool: 'cancel', token } satisfies PoolCast);
        } catch {
          // The pool is gone.
        }
        if (err instanceof TimeoutError) throw new CheckoutTimeoutError(pool, timeout);
      }
      // The manager died before answering (killed, or its subtree restarted).
      if (err instanceof ProcessExitError) throw new PoolStoppedError(pool, formatReason(err.reason));
      throw err;
    });
  // The hot path (timeout known) adds no await of its own.
  return known !== undefined ? ask(known) : defaultCheckoutTimeout(runtime, pool).then(ask);
}

/** The checkout timeout asked of the manager, when its state cannot be read directly. */
async function defaultCheckoutTimeout(runtime: Runtime, pool: string): Promise<number> {
  const { checkoutTimeout } = await runtime.call<{ checkoutTimeout: number }>(pool, { pool: 'settings' } satisfies PoolRequest, forever);
  return checkoutTimeout;
}

/**
 * Checks a worker out, runs `fn` with it, and gives it back however `fn` ends. With an idle
 * worker and nobody waiting, the checkout happens in this turn and adds no promise hop of its
 * own: the call's own promise is the only one between the caller and the pipe.
 */
function withLease<R>(
  runtime: Runtime,
  pool: string,
  state: PoolState | undefined,
  o: { session?: string; checkoutTimeout?: number | 'infinity'; signal?: AbortSignal },
  fn: (worker: Pid) => Promise<R>,
): Promise<R> {
  // Measured only while someone listens to it.
  const asked = listening(runtime, 'pool.checkout') ? runtime.clock.now() : undefined;
  const now = state !== undefined && o.session === undefined ? state.checkoutNow() : undefined;
  // Checked out in this turn: no wait, whatever a real clock's resolution would say.
  if (now !== undefined) return leased(runtime, pool, state, now, o.session, asked === undefined ? undefined : NO_WAIT, fn);
  return checkoutLease(runtime, pool, state, {
    session: o.session,
    checkoutTimeout: o.checkoutTimeout === 'infinity' ? Infinity : o.checkoutTimeout,
    signal: o.signal,
  }).then((lease) => leased(runtime, pool, state, lease, o.session, asked, fn));
}

/** `asked` of a checkout that found an idle worker in the caller's turn: it waited 0 ms. */
const NO_WAIT = -1;

function leased<R>(
  runtime: Runtime,
  pool: string,
  state: PoolState | undefined,
  lease: Lease,
  session: string | undefined,
  asked: number | undefined,
  fn: (worker: Pid) => Promise<R>,
): Promise<R> {
  if (asked !== undefined) runtime.events.emit('pool.checkout', { pool, worker: lease.worker, session, waitMs: asked === NO_WAIT ? 0 : runtime.clock.now() - asked });
  let running: Promise<R>;
  try {
    // Promise.resolve returns a native promise as it is (no hop); a plain value from a
    // Pool.checkout callback is wrapped.
    running = Promise.resolve(fn(lease.worker));
  } catch (err) {
    checkin(runtime, pool, state, lease, outcomeOf(err), false);
    return Promise.reject(err);
  }
  return running.then(
    (value) => {
      checkin(runtime, pool, state, lease, 'ok', false);
      return value;
    },
    (err: unknown) => {
      // The caller stopped waiting (timed out, aborted): Python may still be running the call.
      checkin(runtime, pool, state, lease, outcomeOf(err), err instanceof TimeoutError || err instanceof AbortError);
      throw err;
    },
  );
}

/** `callBridge`, reported as a `pool.call` event with its duration and outcome. */
async function timedCall<R>(
  runtime: Runtime,
  pool: string,
  worker: Pid,
  op: string,
  args: unknown,
  session: string | undefined,
  options: Parameters<typeof callBridge>[4],
): Promise<R> {
  const started = runtime.clock.now();
  try {
    const result = await callBridge<R>(runtime, worker, op, args, options);
    runtime.events.emit('pool.call', { pool, worker, op, session, durationMs: runtime.clock.now() - started, outcome: 'ok' });
    return result;
  } catch (err) {
    const code = codeOf(err);
    runtime.events.emit('pool.call', { pool, worker, op, session, durationMs: runtime.clock.now() - started, outcome: 'error', ...(code !== undefined ? { code } : {}) });
    throw err;
  }
}

function checkin(runtime: Runtime, pool: string, state: PoolState | undefined, lease: Lease, outcome: CheckinOutcome, abandoned: boolean): void {
  // Given back in this turn while the manager runs (it would only apply the same change later).
  if (state !== undefined && state.checkinNow(lease.lease, outcome, abandoned)) return;
  try {
    const worker = lease.worker.id;
    runtime.cast(pool, (abandoned ? { pool: 'checkin', lease: lease.lease, worker, outcome, abandoned } : { pool: 'checkin', lease: lease.lease, worker, outcome }) satisfies PoolCast);
  } catch {
    // The pool is gone: nothing to give back.
  }
}

function outcomeOf(err: unknown): CheckinOutcome {
  if (err instanceof BridgeExitedError || err instanceof BridgeNotRunningError) return 'crashed';
  if (err instanceof TimeoutError) return 'error';
  return 'ok'; // a Python exception fails the call, not the worker
}

/** `Pool.run` without options. */
const noOptions: ValidRunOptions = Object.freeze({});

/**
 * `Pool.run` the general way: checkout through the manager when no worker is idle, sessions,
 * abort signals, telemetry, and every retry. With `breaker`, the operation was already admitted
 * by it (`probe`: what its `admit()` returned).
 */
function runThroughRecovery<R>(
  runtime: Runtime,
  pool: string,
  state: PoolState | undefined,
  op: string,
  args: unknown,
  o: ValidRunOptions,
  breaker?: BreakerCore,
  probe = false,
): Promise<R> {
  const recovery = state?.recovery;
  const once = attemptOnce<R>(runtime, pool, state, op, args, o);
  if (!recovery) return once(o.timeout);
  const deadline = deadlineOf(runtime, o);
  const attempt = attemptsOf(runtime, o, deadline, once);
  const run = { idempotent: o.idempotent === true, session: o.session, deadline, signal: o.signal };
  return breaker !== undefined ? recovery.runAdmitted(attempt, run, o.retry, breaker, probe) : recovery.run(attempt, run, o.retry);
}

/** One attempt of a run, with `timeout`: a checkout, the call, the check-in. */
function attemptOnce<R>(runtime: Runtime, pool: string, state: PoolState | undefined, op: string, args: unknown, o: ValidRunOptions) {
  return (timeout: number | 'infinity' | undefined): Promise<R> => {
    const callOptions =
      timeout === undefined && o.signal === undefined && o.session === undefined
        ? undefined
        : { ...(timeout !== undefined ? { timeout } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(o.session !== undefined ? { session: o.session } : {}) };
    return withLease(runtime, pool, state, o, (worker) =>
      listening(runtime, 'pool.call') ? timedCall<R>(runtime, pool, worker, op, args, o.session, callOptions) : callBridge<R>(runtime, worker, op, args, callOptions),
    );
  };
}

/** One deadline for the whole operation: every retry gets only what is left of it. */
function deadlineOf(runtime: Runtime, o: ValidRunOptions): number | undefined {
  return typeof o.timeout === 'number' && Number.isFinite(o.timeout) ? runtime.clock.now() + o.timeout : undefined;
}

/** Attempt `n` of a run: the first with the run's timeout, a retry with what is left of it. */
function attemptsOf<R>(runtime: Runtime, o: ValidRunOptions, deadline: number | undefined, once: (timeout: number | 'infinity' | undefined) => Promise<R>) {
  const clock = runtime.clock;
  return ({ attempt: n }: { attempt: number }) => once(n === 1 || deadline === undefined ? o.timeout : Math.max(0, Math.round(deadline - clock.now())));
}

/**
 * A `Pool.run` on the hot path, as the bridge's receiver of its answer: checks the worker in,
 * tells the breaker, and settles the caller's promise, with no promise of its own. A failure
 * goes to the recovery orchestrator as any first attempt's would (retries then take the general
 * path); only then are the retries' closures made.
 */
class OnLease<R> extends DirectReceiver {
  settle!: (value: R | PromiseLike<R>) => void;
  fail!: (error: unknown) => void;
  /** Clock time the operation's deadline ends at, read only when it has a finite timeout (for retries). */
  readonly #deadline: number | undefined;

  constructor(
    readonly runtime: Runtime,
    readonly pool: string,
    readonly state: PoolState,
    readonly lease: Lease,
    readonly op: string,
    readonly args: unknown,
    readonly o: ValidRunOptions,
    readonly breaker: BreakerCore | undefined,
    readonly probe: boolean,
  ) {
    super();
    this.#deadline = o.timeout === undefined ? undefined : deadlineOf(runtime, o);
  }

  resolve(value: unknown): void {
    try {
      checkin(this.runtime, this.pool, this.state, this.lease, 'ok', false);
      if (this.breaker !== undefined) this.breaker.succeeded(this.probe);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.settle(value as R);
  }

  reject(err: unknown): void {
    const { runtime, pool, state, o } = this;
    try {
      // The caller stopped waiting (timed out): Python may still be running the call.
      checkin(runtime, pool, state, this.lease, outcomeOf(err), err instanceof TimeoutError || err instanceof AbortError);
    } catch (thrown) {
      this.fail(thrown);
      return;
    }
    const recovery = state.recovery;
    if (recovery === undefined) {
      this.fail(err);
      return;
    }
    const deadline = this.#deadline;
    const once = attemptOnce<R>(runtime, pool, state, this.op, this.args, o);
    const run = { idempotent: o.idempotent === true, session: undefined, deadline, signal: undefined };
    recovery.recoverFirst<R>(err, attemptsOf(runtime, o, deadline, once), run, o.retry, this.breaker, this.probe).then(this.settle, this.fail);
  }
}

/**
 * The pool API. Calls run in the caller: the manager only hands workers out and takes them back,
 * so it never waits on Python.
 */
export const Pool = {
  /**
   * Runs `op` with `args` on a worker: checks one out (waiting FIFO up to the checkout timeout;
   * PoolBusyError when the queue is full), calls it, gives it back. With `session`, every call
   * of the session runs on the same worker.
   *
   * @throws CheckoutTimeoutError, PoolBusyError, SessionExpiredError, SessionLostError,
   *   SessionsDisabledError; PoolStartError (code `pool_start_failed`, the startup error as
   *   `cause`) at once while no worker is ready and the last start attempt failed, and for
   *   callers queued when that happens; PoolStoppedError (`pool_stopped`) for callers still
   *   waiting when the pool stops; NoProcessError when no pool runs under that name; and
   *   whatever the call throws (PythonError, TimeoutError — the worker is then handed out again
   *   only once Python answers, or replaced if its bridge ends wedged — BridgeExitedError when
   *   the worker crashed mid-call: it is then replaced).
   */
  run<R = unknown>(runtime: Runtime, pool: string, op: string, args?: unknown, options?: PoolRunOptions): Promise<R> {
    let o: ValidRunOptions;
    try {
      // No options (the common case) allocates nothing: not even a default `{}`.
      o = options === undefined ? noOptions : isEmptyOptions(options) ? (options as ValidRunOptions) : (validateOptions('Pool.run', options, runSchema) as ValidRunOptions);
    } catch (err) {
      return Promise.reject(err);
    }
    const state = poolStateOf(runtime, pool);
    if (state === undefined || o.session !== undefined || o.signal !== undefined || typeof op !== 'string' || op.length === 0 || listening(runtime, 'pool.checkout') || listening(runtime, 'pool.call')) {
      return runThroughRecovery<R>(runtime, pool, state, op, args, o);
    }
    // The hot path (DESIGN.md "Hot paths"): admitted by the breaker, an idle worker checked out
    // from the pool's tables, the call sent straight to its pipe, all in this turn; the reply
    // checks the worker in and tells the breaker from the bridge's data handler (OnLease), so
    // the caller's promise is the only one on the path, as on a direct call to the worker.
    const recovery = state.recovery;
    const breaker = recovery?.breaker;
    let probe = false;
    if (breaker !== undefined) {
      try {
        probe = breaker.admit();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const lease = state.checkoutNow();
    if (lease === undefined) return runThroughRecovery<R>(runtime, pool, state, op, args, o, breaker, probe);
    const call = new OnLease<R>(runtime, pool, state, lease, op, args, o, breaker, probe);
    const promise = new Promise<R>((resolve, reject) => {
      call.settle = resolve;
      call.fail = reject;
    });
    const timeout = o.timeout as number | undefined; // validated: a number (Infinity for 'infinity')
    if (!callBridgeWith(runtime, lease.worker, op, args, timeout, call)) {
      // Not ready for the direct path (an inspector attached, the bridge between events): the
      // kernel's path, settling the same receiver.
      callBridge(runtime, lease.worker, op, args, timeout === undefined ? undefined : { timeout }).then(
        (value) => call.resolve(value),
        (err: unknown) => call.reject(err),
      );
    }
    return promise;
  },

  /**
   * Exclusive use of one worker for the duration of `fn`. The worker is given back however
   * `fn` ends (returns, throws, or the caller aborts).
   */
  async checkout<R>(
    runtime: Runtime,
    pool: string,
    fn: (worker: Pid) => Promise<R>,
    options: { session?: string; checkoutTimeout?: number | 'infinity'; signal?: AbortSignal } = {},
  ): Promise<R> {
    if (typeof fn !== 'function') throw new InvalidOptionError('Pool.checkout.fn', 'a function (worker) => Promise', fn);
    const o = isEmptyOptions(options) ? options : validateOptions('Pool.checkout', options, { session: runSchema.session, checkoutTimeout: runSchema.checkoutTimeout, signal: runSchema.signal });
    return withLease(runtime, pool, poolStateOf(runtime, pool), o as { session?: string; checkoutTimeout?: number; signal?: AbortSignal }, fn);
  },

  /**
   * Resolves when every worker has finished its handshake (at once for lazy pools).
   *
   * @throws PoolStartError once a start attempt failed and none is under way (at once if that
   *   is already so): `cause` is the worker's startup error, with Python's type, message and
   *   traceback. The pool keeps retrying with backoff; call again to wait for the retry.
   *   PoolStoppedError if the pool stops meanwhile.
   */
  ready(runtime: Runtime, pool: string): Promise<PoolStatus> {
    return runtime.call<PoolStatus>(pool, { pool: 'ready' } satisfies PoolRequest, forever);
  },

  /** Workers, queue, counters; `sessions` and `health` only when the pool enables them. */
  status(runtime: Runtime, pool: string): Promise<PoolStatus> {
    return runtime.call<PoolStatus>(pool, { pool: 'status' } satisfies PoolRequest, forever);
  },

  /** `bound` (with its worker), `expired`, `lost` (its worker died) or `unknown`. */
  session(runtime: Runtime, pool: string, id: string): Promise<SessionState> {
    try {
      sessionId(id, 'Pool.session.id');
    } catch (err) {
      return Promise.reject(err);
    }
    return runtime.call<SessionState>(pool, { pool: 'session', id } satisfies PoolRequest, forever);
  },

  /** Forgets a session (it becomes `unknown`); returns whether it was bound. */
  endSession(runtime: Runtime, pool: string, id: string): Promise<boolean> {
    try {
      sessionId(id, 'Pool.endSession.id');
    } catch (err) {
      return Promise.reject(err);
    }
    return runtime.call<boolean>(pool, { pool: 'endSession', id } satisfies PoolRequest, forever);
  },
};
