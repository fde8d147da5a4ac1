import type { RuntimeClock } from '../runtime/clock.js';
import { AbortError, InvalidOptionError, XotpError } from '../runtime/errors.js';
import { integer, optional, validateOptions } from '../runtime/validate.js';
import type { BreakerCore } from './breakerCore.js';
import { RecoveryCapacityExceededError } from './recoveryErrors.js';
import { nextDelay, sleep, type RetryPolicy } from './retry.js';

/**
 * What the orchestrator does with a failed operation:
 * - `retrySameWorker`: try again where it ran (a session's calls must stay on their worker);
 * - `retryOtherWorker`: try again on any other worker (the one it ran on crashed, hung, or was
 *   not there);
 * - `breakCircuit`: the circuit opened while this operation waited to be retried (other
 *   operations kept failing): give up at once instead of retrying into it;
 * - `abandon`: give up with the error (not retryable, attempts used up, no time left).
 */
export type RecoveryStrategy = 'retrySameWorker' | 'retryOtherWorker' | 'breakCircuit' | 'abandon';

/** Options of a recovery orchestrator (`pool({ recovery })`). */
export interface RecoveryOptions {
  /** Failed operations being recovered at once; more fail with `RecoveryCapacityExceededError`. Default 10. */
  maxConcurrent?: number;
}

/** Counters of an orchestrator, as `Pool.status().recovery` shows them. */
export interface RecoveryStatus {
  readonly active: number;
  readonly maxConcurrent: number;
  /** Failures taken into recovery. */
  readonly initiated: number;
  /** Recoveries that ended with a success. */
  readonly succeeded: number;
  /** Recoveries that ended with an error (abandoned or broke the circuit). */
  readonly failed: number;
  /** Recoveries ended by an abort or by the pool stopping. */
  readonly cancelled: number;
  /** Failures refused because `maxConcurrent` recoveries were in progress. */
  readonly rejected: number;
  /** Retries made, all recoveries together. */
  readonly retries: number;
  /** How often each strategy was chosen. */
  readonly strategies: Readonly<Record<RecoveryStrategy, number>>;
}

/** What one attempt is told. */
export interface AttemptContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The worker (or whatever ran the last attempt) to avoid, for `retryOtherWorker`. */
  readonly avoid: unknown;
}

/** Per-operation settings. */
export interface RecoveryRun {
  readonly idempotent: boolean;
  /** A session's calls are retried where they ran, never moved. */
  readonly session?: string;
  /** Clock time after which no attempt starts (the caller's timeout). */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  /** Called before each wait. */
  readonly onRetry?: (info: { attempt: number; error: unknown; delay: number; strategy: RecoveryStrategy }) => void;
  readonly random?: () => number;
}

/** A failed attempt: its error, and what it ran on (for `retryOtherWorker`). */
export class AttemptFailure extends Error {
  constructor(readonly error: unknown, readonly ranOn: unknown) {
    super('attempt failed');
  }
}

/** @internal */
export function recoverySettings(where: string, options: unknown): { maxConcurrent: number } {
  return validateOptions(where, options, { maxConcurrent: optional(integer(1), 10) });
}

/**
 * Recovers failed operations: retries them by a policy on the runtime clock, on the same or
 * another worker, through a circuit breaker, within a bounded number of recoveries at once.
 *
 * The order of checks for a failure is fixed: **capacity first** (a full orchestrator refuses
 * with `RecoveryCapacityExceededError` before it looks at anything else — the seed system looked
 * at the operation first and so admitted one recovery too many, its error 20), then the breaker
 * (did other operations' failures open the circuit meanwhile?), then whether the error may be retried at all (retryable,
 * idempotent when it may have run, attempts left, time left before the deadline), then where.
 *
 * Failures that are not recoverable at all (not an `XotpError`, or one that says it is not
 * retryable, such as a Python exception or bad input) are the operation's answer, not a fault
 * to recover from: they pass through untouched and are not counted.
 *
 * The happy path costs nothing: the first attempt runs directly, and the orchestrator is
 * involved only once it failed.
 */
export class RecoveryOrchestrator {
  readonly name: string;
  readonly #clock: RuntimeClock;
  readonly #policy: RetryPolicy | false;
  readonly #maxConcurrent: number;
  breaker: BreakerCore | undefined;
  readonly #active = new Set<AbortController>();
  #initiated = 0;
  #succeeded = 0;
  #failed = 0;
  #cancelled = 0;
  #rejected = 0;
  #retries = 0;
  readonly #strategies: Record<RecoveryStrategy, number> = { retrySameWorker: 0, retryOtherWorker: 0, breakCircuit: 0, abandon: 0 };

  constructor(name: string, clock: RuntimeClock, policy: RetryPolicy | false, options: { maxConcurrent: number }, breaker?: BreakerCore) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      throw new InvalidOptionError(`${name}.recovery.maxConcurrent`, 'an integer ≥ 1', options.maxConcurrent);
    }
    this.name = name;
    this.#clock = clock;
    this.#policy = policy;
    this.#maxConcurrent = options.maxConcurrent;
    this.breaker = breaker;
  }

  /**
   * Runs `attempt` (through the breaker when there is one), and recovers it if it fails with
   * `AttemptFailure` or any error. `policy` overrides the orchestrator's own for this operation
   * (`false`: no retries; the breaker still applies).
   */
  run<T>(attempt: (ctx: AttemptContext) => Promise<T>, run: RecoveryRun, policy: RetryPolicy | false | undefined = undefined): Promise<T> {
    const breaker = this.breaker;
    let probe: boolean;
    try {
      probe = breaker ? breaker.admit() : false;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.runAdmitted(attempt, run, policy, breaker, probe);
  }

  /**
   * `run` for an operation that `breaker` (this orchestrator's, read when it was admitted)
   * already admitted, `probe` being what its `admit()` returned.
   */
  runAdmitted<T>(
    attempt: (ctx: AttemptContext) => Promise<T>,
    run: RecoveryRun,
    policy: RetryPolicy | false | undefined,
    breaker: BreakerCore | undefined,
    probe: boolean,
  ): Promise<T> {
    const first = attempt({ attempt: 1, avoid: undefined });
    // The breaker sees the operation's outcome after recovery, not each attempt: a call that a
    // retry saved (a worker killed under it) says nothing against the service, while a service
    // whose every operation fails (a module that cannot import) opens the circuit. The happy
    // path is one `then` on the attempt: no await, no allocation beyond its two callbacks.
    return first.then(
      (value) => {
        if (breaker) breaker.succeeded(probe);
        return value;
      },
      (thrown: unknown) => this.recoverFirst(thrown, attempt, run, policy, breaker, probe),
    );
  }

  /**
   * The first attempt of an admitted operation failed with `thrown`: recovers it (`attempt`
   * makes the retries) and reports the outcome to `breaker`. Also for a caller that ran the
   * first attempt itself and reports its success itself (a pool's run, on its hot path).
   */
  recoverFirst<T>(
    thrown: unknown,
    attempt: (ctx: AttemptContext) => Promise<T>,
    run: RecoveryRun,
    policy: RetryPolicy | false | undefined,
    breaker: BreakerCore | undefined,
    probe: boolean,
  ): Promise<T> {
    const { error, ranOn } = unwrap(thrown);
    const recovered = this.#recover(attempt, error, ranOn, run, policy === undefined ? this.#policy : policy);
    return breaker ? throughBreakerOutcome(breaker, probe, recovered) : recovered;
  }

  /** Decides what to do with a failure after `attempt` attempts (capacity is checked by the caller). */
  decide(error: unknown, attempt: number, previousDelay: number, run: RecoveryRun, policy: RetryPolicy | false): { strategy: RecoveryStrategy; delay: number } {
    // Other operations' failures opened the circuit meanwhile: stop retrying into it.
    if (this.breaker && this.breaker.state === 'open') return { strategy: 'breakCircuit', delay: 0 };
    const delay = policy ? nextDelay(policy, attempt, previousDelay, error, { idempotent: run.idempotent, deadline: run.deadline, random: run.random }, this.#clock) : undefined;
    if (delay === undefined) return { strategy: 'abandon', delay: 0 };
    return { strategy: run.session !== undefined ? 'retrySameWorker' : 'retryOtherWorker', delay };
  }

  async #recover<T>(
    attempt: (ctx: AttemptContext) => Promise<T>,
    firstError: unknown,
    firstRanOn: unknown,
    run: RecoveryRun,
    policy: RetryPolicy | false,
  ): Promise<T> {
    // An answer (a Python exception, bad input) is not a failure to recover from.
    if (!(firstError instanceof XotpError) || !firstError.retryable) throw firstError;
    // Capacity before anything else about this failure.
    if (this.#active.size >= this.#maxConcurrent) {
      this.#rejected++;
      throw new RecoveryCapacityExceededError(`pool '${this.name}'`, this.#maxConcurrent, firstError);
    }
    const cancel = new AbortController();
    this.#active.add(cancel);
    this.#initiated++;
    const onAbort = () => cancel.abort(run.signal!.reason);
    run.signal?.addEventListener('abort', onAbort, { once: true });
    let error: unknown = firstError;
    let ranOn = firstRanOn;
    let previous = 0;
    try {
      for (let n = 1; ; n++) {
        const { strategy, delay } = this.decide(error, n, previous, run, policy);
        this.#strategies[strategy]++;
        if (strategy === 'abandon' || strategy === 'breakCircuit') {
          this.#failed++;
          throw error;
        }
        run.onRetry?.({ attempt: n, error, delay, strategy });
        previous = delay;
        await sleep(this.#clock, delay, cancel.signal);
        if (this.breaker && this.breaker.state === 'open') {
          // The circuit opened while this operation waited: do not retry into it.
          this.#strategies.breakCircuit++;
          this.#failed++;
          throw error;
        }
        this.#retries++;
        try {
          const value = await attempt({ attempt: n + 1, avoid: strategy === 'retryOtherWorker' ? ranOn : undefined });
          this.#succeeded++;
          return value;
        } catch (thrown) {
          ({ error, ranOn } = unwrap(thrown));
        }
      }
    } catch (err) {
      if (err instanceof AbortError && cancel.signal.aborted) {
        this.#cancelled++;
        if (run.signal?.aborted) throw new AbortError('Pool.run', run.signal.reason);
        // cancelAll(error): the owner says why (the pool stopped) with an error of its own.
        throw cancel.signal.reason instanceof XotpError ? cancel.signal.reason : new AbortError(`recovery in pool '${this.name}'`, cancel.signal.reason);
      }
      throw err;
    } finally {
      this.#active.delete(cancel);
      run.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Ends every recovery in progress: with `reason` when it is an `XotpError` (the pool stopped), else `AbortError`. */
  cancelAll(reason: unknown = 'cancelled'): number {
    const n = this.#active.size;
    for (const c of [...this.#active]) c.abort(reason);
    return n;
  }

  status(): RecoveryStatus {
    return {
      active: this.#active.size,
      maxConcurrent: this.#maxConcurrent,
      initiated: this.#initiated,
      succeeded: this.#succeeded,
      failed: this.#failed,
      cancelled: this.#cancelled,
      rejected: this.#rejected,
      retries: this.#retries,
      strategies: { ...this.#strategies },
    };
  }
}

async function throughBreakerOutcome<T>(breaker: BreakerCore, probe: boolean, outcome: Promise<T>): Promise<T> {
  try {
    const value = await outcome;
    breaker.succeeded(probe);
    return value;
  } catch (err) {
    breaker.failed(err, probe);
    throw err;
  }
}

function unwrap(thrown: unknown): { error: unknown; ranOn: unknown } {
  return thrown instanceof AttemptFailure ? { error: thrown.error, ranOn: thrown.ranOn } : { error: thrown, ranOn: undefined };
}
