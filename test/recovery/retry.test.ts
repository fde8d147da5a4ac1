import test from 'ava';
import { retry, isRetryable } from '../../src/recovery/retry.js';
import { SimulatedClock } from '../../src/testing/simulatedClock.js';
import { AbortError, InvalidOptionError, NoProcessError, TimeoutError } from '../../src/runtime/errors.js';
import { BridgeExitedError, PythonError } from '../../src/bridge/bridgeErrors.js';

const fixed = () => 0.5; // jitter ±0: the delays are exact

/** An operation failing with the given errors in turn, then answering 'ok'; records attempt times. */
function script(clock: SimulatedClock, errors: unknown[]) {
  const times: number[] = [];
  const op = async () => {
    times.push(clock.now());
    const e = errors.shift();
    if (e !== undefined) throw e;
    return 'ok';
  };
  return { op, times };
}

const crash = () => new BridgeExitedError('<t.1>', null, 'SIGKILL', []);
const notThere = () => new NoProcessError('py');

test('a retryable failure is tried again after the backoff delays, on the clock', async (t) => {
  const clock = new SimulatedClock();
  const { op, times } = script(clock, [notThere(), notThere()]);
  const result = retry(clock, op, { maxAttempts: 3, backoff: { kind: 'exponential', baseDelay: 100 } }, { random: fixed });
  await clock.advance(1000);
  t.is(await result, 'ok');
  t.deepEqual(times, [0, 100, 300]);
  t.is(clock.pending, 0);
});

test('attempts are bounded: the last error is thrown after maxAttempts', async (t) => {
  const clock = new SimulatedClock();
  const errors = [notThere(), notThere(), notThere()];
  const last = errors[2];
  const { op, times } = script(clock, errors);
  const result = retry(clock, op, { maxAttempts: 3, backoff: 'constant' }, { random: fixed });
  const settled = result.catch((e: unknown) => e);
  await clock.advance(10_000);
  t.is(await settled, last);
  t.is(times.length, 3);
});

test('an error that is not retryable is thrown at once, without waiting', async (t) => {
  const clock = new SimulatedClock();
  const py = new PythonError('embed', 'ValueError', 'bad text', '');
  const { op, times } = script(clock, [py]);
  await t.throwsAsync(retry(clock, op, { maxAttempts: 5 }), { is: py });
  t.deepEqual(times, [0]);
  t.is(clock.pending, 0);
});

test('after a worker crashed mid-call, only an idempotent operation is retried', async (t) => {
  const clock = new SimulatedClock();
  const once = script(clock, [crash()]);
  await t.throwsAsync(retry(clock, once.op, { maxAttempts: 3 }), { instanceOf: BridgeExitedError });
  t.is(once.times.length, 1);

  const twice = script(clock, [crash()]);
  const result = retry(clock, twice.op, { maxAttempts: 3, backoff: 'constant' }, { idempotent: true, random: fixed });
  await clock.advance(1000);
  t.is(await result, 'ok');
  t.is(twice.times.length, 2);
});

test('isRetryable: the taxonomy decides, and idempotency gates the ones that may have run', (t) => {
  t.true(isRetryable(notThere(), false));
  t.false(isRetryable(crash(), false));
  t.true(isRetryable(crash(), true));
  t.false(isRetryable(new TimeoutError('call', 10), false));
  t.true(isRetryable(new TimeoutError('call', 10), true));
  t.false(isRetryable(new PythonError('op', 'KeyError', 'x', ''), true));
  t.false(isRetryable(new Error('plain'), true));
  t.false(isRetryable(new AbortError('call', 'stop'), true));
});

test('a retried call never outlives its deadline: no wait that would pass it is started', async (t) => {
  const clock = new SimulatedClock();
  const { op, times } = script(clock, [notThere(), notThere(), notThere()]);
  const settled = retry(clock, op, { maxAttempts: 10, backoff: { kind: 'constant', baseDelay: 400 } }, { deadline: 1000, random: fixed }).catch((e: unknown) => e);
  await clock.advance(5000);
  t.true((await settled) instanceof NoProcessError);
  t.deepEqual(times, [0, 400, 800]); // a fourth attempt at 800 + 400 = 1200 would pass 1000
});

test('an abort during a wait ends the retries at once with AbortError and clears the timer', async (t) => {
  const clock = new SimulatedClock();
  const ac = new AbortController();
  const { op, times } = script(clock, [notThere(), notThere()]);
  const settled = retry(clock, op, { maxAttempts: 3, backoff: { kind: 'constant', baseDelay: 500 } }, { signal: ac.signal, random: fixed }).catch((e: unknown) => e);
  await clock.advance(100);
  ac.abort('user left');
  const err = await settled;
  t.true(err instanceof AbortError);
  t.is((err as AbortError).cause, 'user left');
  t.deepEqual(times, [0]);
  t.is(clock.pending, 0);
});

test('retryOn narrows what is retried; onRetry sees each wait', async (t) => {
  const clock = new SimulatedClock();
  const seen: Array<[number, number]> = [];
  const { op, times } = script(clock, [notThere(), notThere()]);
  const settled = retry(clock, op, { maxAttempts: 5, backoff: { kind: 'linear', baseDelay: 10 }, retryOn: (_e, attempt) => attempt < 2 }, { random: fixed, onRetry: (a) => seen.push([a.attempt, a.delay]) }).catch((e: unknown) => e);
  await clock.advance(1000);
  t.true((await settled) instanceof NoProcessError);
  t.deepEqual(times, [0, 10]);
  t.deepEqual(seen, [[1, 10]]);
});

test('retry options of the wrong shape are refused naming the key', async (t) => {
  const clock = new SimulatedClock();
  const op = async () => 'ok';
  for (const [options, key] of [
    [{ maxAttempts: Number.NaN }, 'retry.maxAttempts'],
    [{ maxAttempt: 3 }, 'retry.maxAttempt'],
    [new Map([['maxAttempts', 3]]), 'retry'],
    [[3], 'retry'],
  ] as const) {
    const err = await t.throwsAsync(retry(clock, op, options as never), { instanceOf: InvalidOptionError });
    t.is(err?.key, key);
  }
});

test('regression: retry() took any fourth argument and any operation — the run settings and the operation are checked too, naming the key', async (t) => {
  const clock = new SimulatedClock();
  let ran = 0;
  const op = async () => {
    ran++;
    return 'ok';
  };
  for (const [run, key] of [
    [new Map(), 'retry.run'],
    [[], 'retry.run'],
    [{ idempotnt: true }, 'retry.run.idempotnt'],
    [{ deadline: Number.NaN }, 'retry.run.deadline'],
    [{ signal: {} }, 'retry.run.signal'],
    [{ onRetry: 'log' }, 'retry.run.onRetry'],
  ] as const) {
    const err = await t.throwsAsync(retry(clock, op, {}, run as never), { instanceOf: InvalidOptionError });
    t.is(err?.key, key);
  }
  t.is(ran, 0, 'nothing ran');
  const err = await t.throwsAsync(retry(clock, 5 as never), { instanceOf: InvalidOptionError });
  t.is(err?.key, 'retry.operation');
  t.is(await retry(clock, op, {}, { idempotent: true, deadline: Infinity }), 'ok', 'well-shaped settings still run');
});
