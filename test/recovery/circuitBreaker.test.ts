import test from 'ava';
import { createMachine } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { circuitBreaker, Circuit } from '../../src/recovery/circuitBreaker.js';
import { CircuitOpenError } from '../../src/recovery/recoveryErrors.js';
import { NoProcessError, InvalidOptionError } from '../../src/runtime/errors.js';
import { PythonError } from '../../src/bridge/bridgeErrors.js';

const fail = () => Promise.reject(new NoProcessError('svc'));
const ok = () => Promise.resolve('ok');
const python = () => Promise.reject(new PythonError('embed', 'ValueError', 'bad input', ''));

async function failTimes(runtime: Parameters<typeof Circuit.run>[0], n: number) {
  for (let i = 0; i < n; i++) await Circuit.run(runtime, 'cb', fail).catch(() => undefined);
}

function stateOf(rt: ReturnType<typeof createTestRuntime>) {
  return rt.actorOf('cb')!.getSnapshot().value;
}

test('closed → open after failureThreshold failures within the window; open refuses at once', async (t) => {
  await using rt = createTestRuntime();
  rt.spawn(circuitBreaker({ name: 'svc', failureThreshold: 3, window: 1000, resetTimeout: 5000 }), { name: 'cb' });
  await failTimes(rt, 2);
  t.is(stateOf(rt), 'closed');
  await failTimes(rt, 1);
  await rt.flush();
  t.is(stateOf(rt), 'open');
  let ran = false;
  const err = await t.throwsAsync(Circuit.run(rt, 'cb', async () => { ran = true; }), { instanceOf: CircuitOpenError });
  t.false(ran);
  t.is(err?.code, 'circuit_open');
  t.is(err?.retryIn, 5000);
  t.like(Circuit.status(rt, 'cb'), { name: 'svc', state: 'open', opened: 1, rejected: 1 });
});

test('failures older than the window do not count', async (t) => {
  await using rt = createTestRuntime();
  rt.spawn(circuitBreaker({ name: 'svc', failureThreshold: 3, window: 1000 }), { name: 'cb' });
  await failTimes(rt, 2);
  await rt.advance(1000);
  await failTimes(rt, 2);
  await rt.flush();
  t.is(stateOf(rt), 'closed');
  t.is(Circuit.status(rt, 'cb').failures, 2);
});

test('failures count only in a row: a success in between starts the count again', async (t) => {
  await using rt = createTestRuntime();
  rt.spawn(circuitBreaker({ name: 'svc', failureThreshold: 3 }), { name: 'cb' });
  await failTimes(rt, 2);
  await Circuit.run(rt, 'cb', ok);
  await failTimes(rt, 2);
  await rt.flush();
  t.is(stateOf(rt), 'closed');
  t.is(Circuit.status(rt, 'cb').failures, 2);
  await failTimes(rt, 1);
  await rt.flush();
  t.is(stateOf(rt), 'open');
});

test('errors that say nothing about the service (a Python exception) do not count', async (t) => {
  await using rt = createTestRuntime();
  rt.spawn(circuitBreaker({ name: 'svc', failureThreshold: 1 }), { name: 'cb' });
  await Circuit.run(rt, 'cb', python).catch(() => undefined);
  await Circuit.run(rt, 'cb', () => Promise.reject(new Error('not xotp'))).catch(() => undefined);
  await rt.flush();
  t.is(stateOf(rt), 'closed');
});

test('open → halfOpen after resetTimeout on the runtime clock; a probe success closes it', async (t) => {
  await using rt = createTestRuntime();
  rt.spawn(circuitBreaker({ name: 'svc', failureThreshold: 1, resetTimeout: 2000 }), { name: 'cb' });
  await failTimes(rt, 1);
  await rt.advance(1999);
  t.is(stateOf(rt), 'open');
  t.is(Circuit.status(rt, 'cb').retryIn, 1);
  await rt.advance(1);
  t.is(stateOf(rt), 'halfOpen');
  t.is(await Circuit.run(rt, 'cb', ok), 'ok');
  await rt.flush();
  t.is(stateOf(rt), 'closed');
});

test('halfOpen lets halfOpenMax probes through at once and refuses the rest', async (t) => {
  await using rt = createTestRuntime();
  rt.spawn(circuitBreaker({ name: 'svc', failureThreshold: 1, resetTimeout: 10, halfOpenMax: 2, successThreshold: 2 }), { name: 'cb' });
  await failTimes(rt, 1);
  await rt.advance(10);
  const releases: Array<() => void> = [];
  const slow = () => new Promise<string>((resolve) => releases.push(() => resolve('ok')));
  const p1 = Circuit.run(rt, 'cb', slow);
  const p2 = Circuit.run(rt, 'cb', slow);
  const third = await t.throwsAsync(Circuit.run(rt, 'cb', ok), { instanceOf: CircuitOpenError });
  t.regex(third!.message, /half-open/);
  t.is(Circuit.status(rt, 'cb').probes, 2);
  releases[0]!();
  await p1;
  await rt.flush();
  t.is(stateOf(rt), 'halfOpen'); // one success of the two needed
  releases[1]!();
  await p2;
  await rt.flush();
  t.is(stateOf(rt), 'closed');
});

test('any probe failure opens the circuit again, with a fresh reset timer', async (t) => {
  await using rt = createTestRuntime();
  rt.spawn(circuitBreaker({ name: 'svc', failureThreshold: 1, resetTimeout: 100 }), { name: 'cb' });
  await failTimes(rt, 1);
  await rt.advance(100);
  t.is(stateOf(rt), 'halfOpen');
  await failTimes(rt, 1);
  await rt.flush();
  t.is(stateOf(rt), 'open');
  t.is(Circuit.status(rt, 'cb').opened, 2);
  t.is(Circuit.status(rt, 'cb').retryIn, 100);
});

test('reset closes an open circuit at once (an operator override)', async (t) => {
  await using rt = createTestRuntime();
  rt.spawn(circuitBreaker({ name: 'svc', failureThreshold: 1, resetTimeout: 60_000 }), { name: 'cb' });
  await failTimes(rt, 1);
  await rt.flush();
  Circuit.reset(rt, 'cb');
  await rt.flush();
  t.is(stateOf(rt), 'closed');
  t.is(await Circuit.run(rt, 'cb', ok), 'ok');
});

test('bad breaker options are refused naming the key', (t) => {
  t.is(t.throws(() => circuitBreaker({ name: 'x', failureThreshold: Number.NaN }), { instanceOf: InvalidOptionError })?.key, 'circuitBreaker.failureThreshold');
  t.is(t.throws(() => circuitBreaker({ name: 'x', resetTimout: 5 } as never), { instanceOf: InvalidOptionError })?.key, 'circuitBreaker.resetTimout');
  const map = t.throws(() => circuitBreaker(new Map() as never), { instanceOf: InvalidOptionError });
  t.is(map?.key, 'circuitBreaker');
  t.regex(map?.message ?? '', /got a Map/);
});

test('regression: a Map, an array or a class instance with a name passed as breaker options — refused as any options are', (t) => {
  for (const options of [Object.assign(new Map(), { name: 'x' }), Object.assign([], { name: 'x' }), Object.assign(new Date(), { name: 'x' })]) {
    t.is(t.throws(() => circuitBreaker(options as never), { instanceOf: InvalidOptionError })?.key, 'circuitBreaker');
  }
});

test('regression: Circuit.* on a breaker that is not running threw InvalidOptionError — NoProcessError, as Pool.* does; a non-function fn is refused', async (t) => {
  await using rt = createTestRuntime();
  t.throws(() => Circuit.status(rt, 'nope'), { instanceOf: NoProcessError });
  t.throws(() => Circuit.reset(rt, 'nope'), { instanceOf: NoProcessError });
  await t.throwsAsync(Circuit.run(rt, 'nope', ok), { instanceOf: NoProcessError });
  rt.spawn(createMachine({}), { name: 'other' });
  t.regex(t.throws(() => Circuit.status(rt, 'other'), { instanceOf: NoProcessError })?.message ?? '', /not a circuit breaker/);
  await rt.start(circuitBreaker({ name: 'svc' }), { name: 'cb' });
  t.is((await t.throwsAsync(Circuit.run(rt, 'cb', 5 as never), { instanceOf: InvalidOptionError }))?.key, 'Circuit.run.fn');
});

test('regression: every circuitBreaker() call built its own machine; breakers share one, each with its own name and settings', async (t) => {
  const strict = circuitBreaker({ name: 'strict', failureThreshold: 1 });
  const lenient = circuitBreaker({ name: 'lenient', failureThreshold: 3 });
  // Compared as a boolean: ava would render a diff of two whole machines.
  t.true(strict.root === lenient.root);
  await using rt = createTestRuntime();
  rt.spawn(strict, { name: 's' });
  rt.spawn(lenient, { name: 'l' });
  await Circuit.run(rt, 's', fail).catch(() => undefined);
  await Circuit.run(rt, 'l', fail).catch(() => undefined);
  await rt.flush();
  t.like(Circuit.status(rt, 's'), { name: 'strict', state: 'open' });
  t.like(Circuit.status(rt, 'l'), { name: 'lenient', state: 'closed' });
});
