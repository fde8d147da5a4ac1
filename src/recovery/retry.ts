import type { RuntimeClock } from '../runtime/clock.js';
import { AbortError, InvalidOptionError, XotpError } from '../runtime/errors.js';
import { instanceOf, integer, isBoolean, isFunction, optional, validateOptions, type Check } from '../runtime/validate.js';
import { backoffDelay, defaultBackoff, isBackoff, type Backoff, type BackoffKind, type BackoffOptions } from './backoff.js';

/** Options of a retry policy (`pool({ retry })`, `Pool.run(..., { retry })`, `retry()`). */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** The delay between attempts: a kind or full backoff options. Default exponential, 50 ms base, ≤ 2 s, ±25 % jitter. */
  backoff?: BackoffKind | BackoffOptions;
  /**
   * Whether to retry this error (after the built-in checks passed). Default: always. The built-in
   * checks come first: only `XotpError`s that say `retryable`, and after a failure that may have
   * run the operation (`crashed`, `timeout`), only idempotent operations.
   */
  retryOn?: (error: unknown, attempt: number) => boolean;
}

/** A validated retry policy. @internal */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  readonly retryOn: ((error: unknown, attempt: number) => boolean) | undefined;
}

export const defaultRetryPolicy: RetryPolicy = Object.freeze({ maxAttempts: 3, backoff: defaultBackoff, retryOn: undefined });

const isRetryOn: Check<(error: unknown, attempt: number) => boolean> = (value, key) => {
  if (typeof value !== 'function') throw new InvalidOptionError(key, 'a function (error, attempt) => boolean', value);
  return value as (error: unknown, attempt: number) => boolean;
};

/**
 * `true` → the default policy, `false` → none, options → a policy.
 * @internal
 */
export const isRetryPolicy: Check<RetryPolicy | false> = (value, key) => {
  if (value === false) return false;
  if (value === true) return defaultRetryPolicy;
  return validateOptions(key, value, {
    maxAttempts: optional(integer(1, 100), defaultRetryPolicy.maxAttempts),
    backoff: optional(isBackoff, defaultBackoff),
    retryOn: optional(isRetryOn),
  });
};

/**
 * Whether a failed operation may be tried again: an `XotpError` that says it is retryable, and,
 * when the failure may have let the operation run (the worker crashed mid-call, or no answer
 * came in time), only an operation declared idempotent.
 */
export function isRetryable(error: unknown, idempotent: boolean): boolean {
  if (!(error instanceof XotpError) || !error.retryable) return false;
  const category = error.category;
  return idempotent || (category !== 'crashed' && category !== 'timeout');
}

/** What `retry` tells `onRetry` before each wait. */
export interface RetryAttempt {
  /** The attempt that just failed (1 = the first). */
  readonly attempt: number;
  readonly error: unknown;
  /** The wait before the next attempt, in ms. */
  readonly delay: number;
}

/** Per-run settings of `retry`. */
export interface RetryRun {
  /** Whether the operation is safe to run twice. Default false. */
  idempotent?: boolean;
  /** No attempt starts after this clock time (ms, `clock.now()` scale); a wait that would pass it is not made. */
  deadline?: number;
  /** Ends the retries (and any wait) with `AbortError`. */
  signal?: AbortSignal;
  /** Called before each wait (telemetry, counters). */
  onRetry?: (attempt: RetryAttempt) => void;
  /** [0, 1) source for jitter; tests pass a fixed one. Default `Math.random`. */
  random?: () => number;
}

/**
 * Runs `operation` until it succeeds, the policy says stop, the deadline would pass, or the
 * signal aborts; then throws the last error (or `AbortError`). Every wait is a timer on `clock`,
 * so under a `SimulatedClock` retries take no real time.
 *
 * @example
 * ```ts
 * const value = await retry(runtime.clock, (attempt) => fetchThing(attempt), { maxAttempts: 5, backoff: 'fibonacci' }, { idempotent: true });
 * ```
 */
export function retry<T>(
  clock: RuntimeClock,
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
  run: RetryRun = {},
): Promise<T> {
  let policy: RetryPolicy;
  try {
    if (typeof operation !== 'function') throw new InvalidOptionError('retry.operation', 'a function returning a promise', operation);
    policy = isRetryPolicy(options, 'retry') || { ...defaultRetryPolicy, maxAttempts: 1 };
    validateOptions('retry.run', run, runSchema);
  } catch (err) {
    return Promise.reject(err);
  }
  return retryWith(clock, operation, policy, run);
}

/** `retry`'s fourth argument: checked like any options (a Map, a typo or a NaN deadline is refused). */
const runSchema = {
  idempotent: optional(isBoolean),
  deadline: optional<number>((value, key) => {
    if (typeof value !== 'number' || Number.isNaN(value)) throw new InvalidOptionError(key, 'a clock time in ms (a number, Infinity for none)', value);
    return value;
  }),
  signal: optional(instanceOf(AbortSignal, 'an AbortSignal')),
  onRetry: optional(isFunction),
  random: optional(isFunction),
};

/** `retry` with an already validated policy. @internal */
export async function retryWith<T>(clock: RuntimeClock, operation: (attempt: number) => Promise<T>, policy: RetryPolicy, run: RetryRun): Promise<T> {
  let previous = 0;
  for (let attempt = 1; ; attempt++) {
    if (run.signal?.aborted) throw new AbortError('retry', run.signal.reason);
    try {
      return await operation(attempt);
    } catch (error) {
      const delay = nextDelay(policy, attempt, previous, error, run, clock);
      if (delay === undefined) throw error;
      previous = delay;
      run.onRetry?.({ attempt, error, delay });
      await sleep(clock, delay, run.signal);
    }
  }
}

/**
 * The wait before the attempt after `attempt`, or undefined when the error must be thrown (not
 * retryable, attempts used up, the deadline would pass).
 * @internal
 */
export function nextDelay(p: RetryPolicy, attempt: number, previous: number, error: unknown, run: RetryRun, clock: RuntimeClock): number | undefined {
  if (attempt >= p.maxAttempts || !isRetryable(error, run.idempotent ?? false)) return undefined;
  if (p.retryOn && !p.retryOn(error, attempt)) return undefined;
  const delay = backoffDelay(p.backoff, attempt, previous, run.random);
  if (run.deadline !== undefined && clock.now() + delay >= run.deadline) return undefined;
  return delay;
}

/** Waits `ms` on the clock; an abort ends the wait at once with `AbortError`. @internal */
export function sleep(clock: RuntimeClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError('retry', signal.reason));
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(new AbortError('retry', signal!.reason));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
