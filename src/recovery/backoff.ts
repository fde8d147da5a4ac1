import { InvalidOptionError } from '../runtime/errors.js';
import { integer, oneOf, optional, validateOptions, type Check } from '../runtime/validate.js';

/**
 * How long to wait before each retry. The formulas are the seed system's RetryLogic
 * (reference/seed-system.md §2.5), with its test vectors (base 100, no jitter): linear
 * 100, 200, 300, 400; exponential 100, 200, 400, 800; fibonacci 100, 100, 200, 300, 500.
 * `decorrelatedJitter` is AWS's "decorrelated jitter": each delay is random between `baseDelay`
 * and three times the previous one, which spreads a crowd of retrying callers apart by itself.
 */
export type BackoffKind = 'exponential' | 'linear' | 'fibonacci' | 'decorrelatedJitter' | 'constant';

export interface BackoffOptions {
  /** Default `'exponential'`. */
  kind?: BackoffKind;
  /** The first delay, in ms. Default 50. */
  baseDelay?: number;
  /** No delay is longer than this, in ms. Default 2000. */
  maxDelay?: number;
  /**
   * Spread each delay by ±`jitter` of itself (0..1), so callers that failed together do not all
   * come back in the same millisecond. Default 0.25 (the seed's ±25 %); 0 turns it off.
   * Ignored by `decorrelatedJitter`, which is random already.
   */
  jitter?: number;
}

/** A validated backoff policy. @internal */
export interface Backoff {
  readonly kind: BackoffKind;
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly jitter: number;
}

export const defaultBackoff: Backoff = Object.freeze({ kind: 'exponential', baseDelay: 50, maxDelay: 2000, jitter: 0.25 });

const fraction: Check<number> = (value, key) => {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new InvalidOptionError(key, 'a number in 0..1', value);
  }
  return value;
};

/** @internal */
export const isBackoff: Check<Backoff> = (value, key) => {
  if (typeof value === 'string') return { ...defaultBackoff, kind: kindCheck(value, key) };
  const o = validateOptions(key, value, {
    kind: optional(kindCheck, defaultBackoff.kind),
    baseDelay: optional(integer(0), defaultBackoff.baseDelay),
    maxDelay: optional(integer(0), defaultBackoff.maxDelay),
    jitter: optional(fraction, defaultBackoff.jitter),
  });
  if (o.maxDelay < o.baseDelay) {
    throw new InvalidOptionError(`${key}.maxDelay`, `a delay ≥ baseDelay (${o.baseDelay})`, o.maxDelay);
  }
  return o;
};

const kindCheck = oneOf('exponential', 'linear', 'fibonacci', 'decorrelatedJitter', 'constant');

function fib(n: number): number {
  let a = 1;
  let b = 1;
  for (let i = 2; i < n; i++) [a, b] = [b, a + b];
  return n <= 2 ? 1 : b;
}

/**
 * The delay before retry number `attempt` (1 = the first retry). `previous` is the delay used
 * before the last retry (0 before the first); `random` returns [0, 1).
 */
export function backoffDelay(policy: Backoff, attempt: number, previous: number, random: () => number = Math.random): number {
  const { baseDelay: base, maxDelay: max } = policy;
  let delay: number;
  switch (policy.kind) {
    case 'constant':
      delay = base;
      break;
    case 'linear':
      delay = attempt * base;
      break;
    case 'exponential':
      // 2^(attempt-1) overflows to Infinity long before it matters; the cap below handles it.
      delay = 2 ** (attempt - 1) * base;
      break;
    case 'fibonacci':
      delay = fib(attempt) * base;
      break;
    case 'decorrelatedJitter': {
      const upper = Math.min(max, Math.max(base, previous * 3));
      return Math.round(base + random() * (upper - base));
    }
  }
  delay = Math.min(delay, max);
  if (policy.jitter > 0) delay += (random() * 2 - 1) * policy.jitter * delay;
  return Math.max(0, Math.min(max, Math.round(delay)));
}
