import { InvalidOptionError, XotpError } from '../runtime/errors.js';
import type { RuntimeClock } from '../runtime/clock.js';
import { integer, optional, validateOptions, type Check } from '../runtime/validate.js';
import { CircuitOpenError } from './recoveryErrors.js';

/** Options of a circuit breaker. */
export interface BreakerOptions {
  /** Failures in a row (no success between them) within `window` that open the circuit. Default 5. */
  failureThreshold?: number;
  /** The window over which failures are counted, in ms. Default 10 000. */
  window?: number;
  /** How long the circuit stays open before it lets probe calls through, in ms. Default 5000. */
  resetTimeout?: number;
  /** How many probe calls may be in flight while half-open. Default 1. */
  halfOpenMax?: number;
  /** Probe successes that close the circuit again. Default 1. */
  successThreshold?: number;
  /**
   * Which errors count as failures of the service behind the circuit. Default: xotp errors of
   * the categories `crashed`, `timeout`, `transient` and `permanent` (a worker that died, hung,
   * was not there, or cannot start). A Python exception, bad input, an overloaded queue, a
   * session's own state or an abort say nothing about the service's health and do not count.
   */
  isFailure?: (error: unknown) => boolean;
}

export type BreakerState = 'closed' | 'open' | 'halfOpen';

/** A breaker's state as `Pool.status` and `Circuit.status` report it. */
export interface BreakerStatus {
  readonly name: string;
  readonly state: BreakerState;
  /** Failures counted in the current window (closed) or since it opened. */
  readonly failures: number;
  /** Probe calls in flight (half-open). */
  readonly probes: number;
  /** ms until a probe is let through (open), else 0. */
  readonly retryIn: number;
  /** How many times it has opened. */
  readonly opened: number;
  /** Calls refused while open or half-open and full. */
  readonly rejected: number;
}

const failureCategories = new Set(['crashed', 'timeout', 'transient', 'permanent']);

/** The default failure test (see `BreakerOptions.isFailure`). */
export function countsAsFailure(error: unknown): boolean {
  return error instanceof XotpError && failureCategories.has(error.category);
}

/** @internal */
export interface BreakerSettings {
  readonly failureThreshold: number;
  readonly window: number;
  readonly resetTimeout: number;
  readonly halfOpenMax: number;
  readonly successThreshold: number;
  readonly isFailure: (error: unknown) => boolean;
}

const isPredicate: Check<(error: unknown) => boolean> = (value, key) => {
  if (typeof value !== 'function') throw new InvalidOptionError(key, 'a function (error) => boolean', value);
  return value as (error: unknown) => boolean;
};

/** @internal */
export function breakerSettings(where: string, options: unknown): BreakerSettings {
  return validateOptions(where, options, {
    failureThreshold: optional(integer(1), 5),
    window: optional(integer(1), 10_000),
    resetTimeout: optional(integer(0), 5000),
    halfOpenMax: optional(integer(1), 1),
    successThreshold: optional(integer(1), 1),
    isFailure: optional(isPredicate, countsAsFailure),
  });
}

/** The transitions a breaker asks its machine to take. @internal */
export type BreakerEvent = { type: 'breaker.trip' } | { type: 'breaker.close' } | { type: 'breaker.reset' };

/**
 * The counters and the decision of one circuit, shared by its machine and by every caller. A
 * call asks `admit()` and reports `succeeded()` / `failed()` synchronously in the caller, with
 * no message to the breaker process on the happy path (a closed circuit with no recent failure
 * does nothing at all); only a transition (trip, close) is an event to the machine, which owns
 * the states and the reset timer, so the inspector shows them.
 *
 * @internal
 */
export class BreakerCore {
  state: BreakerState = 'closed';
  readonly name: string;
  readonly s: BreakerSettings;
  readonly #clock: RuntimeClock;
  /** Times of the failures in the current window, oldest first (closed state). */
  #failures: number[] = [];
  #openedAt = 0;
  #probes = 0;
  #successes = 0;
  #opened = 0;
  #rejected = 0;
  /** Set by the machine when it starts: how the core asks for a transition. */
  send: (event: BreakerEvent) => void = () => {};

  constructor(name: string, settings: BreakerSettings, clock: RuntimeClock) {
    this.name = name;
    this.s = settings;
    this.#clock = clock;
  }

  /**
   * Lets a call through or throws `CircuitOpenError`. Returns whether the call is a half-open
   * probe (its outcome then decides the circuit).
   */
  admit(): boolean {
    if (this.state === 'closed') return false;
    if (this.state === 'halfOpen' && this.#probes < this.s.halfOpenMax) {
      this.#probes++;
      return true;
    }
    this.#rejected++;
    throw new CircuitOpenError(this.name, this.retryIn(), this.state);
  }

  /** A call that was admitted succeeded. */
  succeeded(probe: boolean): void {
    if (!probe) {
      // Failures open the circuit only in a row: one success in between starts the count again,
      // so a busy service that loses a call now and then (a worker killed under it) stays closed.
      if (this.#failures.length > 0) this.#failures = [];
      return;
    }
    this.#probes--;
    if (this.state === 'halfOpen' && ++this.#successes >= this.s.successThreshold) this.send({ type: 'breaker.close' });
  }

  /** A call that was admitted failed with `error`; returns whether it counted as a failure. */
  failed(error: unknown, probe: boolean): boolean {
    if (probe) this.#probes--;
    if (!this.s.isFailure(error)) {
      // A probe that failed for a reason that says nothing about the service frees its slot.
      return false;
    }
    if (this.state === 'halfOpen') {
      this.send({ type: 'breaker.trip' });
      return true;
    }
    if (this.state === 'open') return true;
    const now = this.#clock.now();
    const failures = this.#failures;
    failures.push(now);
    let drop = 0;
    while (drop < failures.length && failures[drop]! <= now - this.s.window) drop++;
    if (drop > 0) failures.splice(0, drop);
    if (failures.length >= this.s.failureThreshold) this.send({ type: 'breaker.trip' });
    return true;
  }

  /** ms until the open circuit lets a probe through. */
  retryIn(): number {
    return this.state === 'open' ? Math.max(0, this.#openedAt + this.s.resetTimeout - this.#clock.now()) : 0;
  }

  /** Called by the machine on entering each state. @internal */
  entered(state: BreakerState): void {
    this.state = state;
    if (state === 'open') {
      this.#openedAt = this.#clock.now();
      this.#opened++;
    }
    // Every state starts its own count: a closed circuit forgets the failures that opened it,
    // a half-open one counts its own probes.
    this.#failures = [];
    this.#probes = 0;
    this.#successes = 0;
  }

  status(): BreakerStatus {
    return {
      name: this.name,
      state: this.state,
      failures: this.#failures.length,
      probes: this.#probes,
      retryIn: this.retryIn(),
      opened: this.#opened,
      rejected: this.#rejected,
    };
  }
}
