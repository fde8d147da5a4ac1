import test from 'ava';
import { backoffDelay, isBackoff } from '../../src/recovery/backoff.js';
import { InvalidOptionError } from '../../src/runtime/errors.js';

const noJitter = (kind: string) => isBackoff({ kind, baseDelay: 100, maxDelay: 100_000, jitter: 0 }, 'backoff');
const delays = (kind: string, n: number) => Array.from({ length: n }, (_, i) => backoffDelay(noJitter(kind), i + 1, 0));

// The seed's RetryLogic test vectors (reference/seed-system.md §2.5: base 100, no jitter).
test('linear: 100, 200, 300, 400 (the seed vector)', (t) => {
  t.deepEqual(delays('linear', 4), [100, 200, 300, 400]);
});

test('exponential: 100, 200, 400, 800 (the seed vector)', (t) => {
  t.deepEqual(delays('exponential', 4), [100, 200, 400, 800]);
});

test('fibonacci: 100, 100, 200, 300, 500 (the seed vector)', (t) => {
  t.deepEqual(delays('fibonacci', 5), [100, 100, 200, 300, 500]);
});

test('constant: the base every time', (t) => {
  t.deepEqual(delays('constant', 3), [100, 100, 100]);
});

test('maxDelay caps every kind, exponential included at huge attempt numbers', (t) => {
  const p = isBackoff({ kind: 'exponential', baseDelay: 100, maxDelay: 1000, jitter: 0 }, 'b');
  t.deepEqual([5, 6, 2000].map((a) => backoffDelay(p, a, 0)), [1000, 1000, 1000]);
});

test('jitter spreads a delay by ±jitter of itself and never past maxDelay', (t) => {
  const p = isBackoff({ kind: 'constant', baseDelay: 1000, maxDelay: 5000, jitter: 0.25 }, 'b');
  t.is(backoffDelay(p, 1, 0, () => 0), 750);
  t.is(backoffDelay(p, 1, 0, () => 0.5), 1000);
  t.is(backoffDelay(p, 1, 0, () => 0.999999), 1250);
  const capped = isBackoff({ kind: 'constant', baseDelay: 1000, maxDelay: 1000, jitter: 0.25 }, 'b');
  t.is(backoffDelay(capped, 1, 0, () => 0.999999), 1000);
});

test('decorrelated jitter: between base and 3× the previous delay, capped', (t) => {
  const p = isBackoff({ kind: 'decorrelatedJitter', baseDelay: 100, maxDelay: 1000 }, 'b');
  t.is(backoffDelay(p, 1, 0, () => 0), 100);
  t.is(backoffDelay(p, 1, 0, () => 0.999999), 100); // no previous: upper bound is the base
  t.is(backoffDelay(p, 2, 200, () => 0.5), 350); // 100 + 0.5 × (600 − 100)
  t.is(backoffDelay(p, 3, 900, () => 0.999999), 1000); // 3 × 900 capped at 1000
});

test('a kind alone is accepted; bad shapes are refused naming the key', (t) => {
  t.is(isBackoff('fibonacci', 'retry.backoff').kind, 'fibonacci');
  const bad: Array<[unknown, string]> = [
    ['quadratic', 'retry.backoff'],
    [{ kind: 'linear', baseDelay: Number.NaN }, 'retry.backoff.baseDelay'],
    [{ baseDlay: 10 }, 'retry.backoff.baseDlay'],
    [{ jitter: 2 }, 'retry.backoff.jitter'],
    [{ baseDelay: 500, maxDelay: 100 }, 'retry.backoff.maxDelay'],
    [new Map([['kind', 'linear']]), 'retry.backoff'],
  ];
  for (const [value, key] of bad) {
    const err = t.throws(() => isBackoff(value, 'retry.backoff'), { instanceOf: InvalidOptionError });
    t.is(err?.key, key);
  }
});
