import test from 'ava';
import { RecoveryOrchestrator, AttemptFailure } from '../../src/recovery/recoveryOrchestrator.js';
import { isRetryPolicy, type RetryPolicy } from '../../src/recovery/retry.js';
import { BreakerCore, breakerSettings } from '../../src/recovery/breakerCore.js';
import { RecoveryCapacityExceededError, CircuitOpenError } from '../../src/recovery/recoveryErrors.js';
import { SimulatedClock } from '../../src/testing/simulatedClock.js';
import { AbortError, NoProcessError } from '../../src/runtime/errors.js';
import { BridgeExitedError, PythonError } from '../../src/bridge/bridgeErrors.js';

const policy = (o: object = {}) => isRetryPolicy({ maxAttempts: 3, backoff: { kind: 'constant', baseDelay: 100, jitter: 0 }, ...o }, 'retry') as RetryPolicy;
const crash = () => new BridgeExitedError('<t.1>', null, 'SIGKILL', []);
const gone = () => new NoProcessError('py');
const never = () => new Promise<never>(() => {});

function orchestrator(clock: SimulatedClock, maxConcurrent = 10, p: RetryPolicy | false = policy()) {
  return new RecoveryOrchestrator('py', clock, p, { maxConcurrent });
}

test('the happy path runs the operation once and counts nothing', async (t) => {
  const clock = new SimulatedClock();
  const o = orchestrator(clock);
  t.is(await o.run(async () => 'ok', { idempotent: false }), 'ok');
  t.like(o.status(), { active: 0, initiated: 0, retries: 0 });
});

test('capacity is checked before anything else about a failure (the seed error 20)', async (t) => {
  const clock = new SimulatedClock();
  const o = orchestrator(clock, 2);
  // Two recoveries in progress: each failed once and now waits for its retry, which never ends.
  let calls = 0;
  const stuck = () => o.run(async ({ attempt }) => { calls++; if (attempt === 1) throw gone(); return never(); }, { idempotent: true });
  void stuck();
  void stuck();
  await clock.advance(100); // both are on their second attempt, still in recovery
  t.is(o.status().active, 2);
  // A third failure, even one whose operation context would make it unrecoverable (a crash of a
  // call not declared idempotent), is refused for capacity first.
  const third = o.run(async () => { throw crash(); }, { idempotent: false });
  const err = await t.throwsAsync(third, { instanceOf: RecoveryCapacityExceededError });
  t.is(err?.code, 'recovery_capacity_exceeded');
  t.true(err?.cause instanceof BridgeExitedError);
  t.like(o.status(), { active: 2, initiated: 2, rejected: 1 });
  t.is(calls, 4);
  o.cancelAll();
  await clock.advance(0);
});

test('an answer that is not a fault (a Python exception) passes through untouched and uncounted', async (t) => {
  const clock = new SimulatedClock();
  const o = orchestrator(clock, 1);
  const py = new PythonError('op', 'ValueError', 'no', '');
  await t.throwsAsync(o.run(async () => { throw py; }, { idempotent: true }), { is: py });
  t.like(o.status(), { initiated: 0, rejected: 0 });
});

test('without a session, a crashed idempotent call is retried on another worker', async (t) => {
  const clock = new SimulatedClock();
  const o = orchestrator(clock);
  const seen: unknown[] = [];
  const result = o.run(async ({ attempt, avoid }) => {
    seen.push(avoid);
    if (attempt === 1) throw new AttemptFailure(crash(), 'worker-1');
    return 'ok';
  }, { idempotent: true });
  await clock.advance(100);
  t.is(await result, 'ok');
  t.deepEqual(seen, [undefined, 'worker-1']);
  t.like(o.status(), { initiated: 1, succeeded: 1, retries: 1 });
  t.is(o.status().strategies.retryOtherWorker, 1);
});

test('a session call is retried where it ran (retrySameWorker), never moved', async (t) => {
  const clock = new SimulatedClock();
  const o = orchestrator(clock);
  const seen: unknown[] = [];
  const result = o.run(async ({ attempt, avoid }) => {
    seen.push(avoid);
    if (attempt === 1) throw new AttemptFailure(gone(), 'worker-2');
    return 'ok';
  }, { idempotent: false, session: 's1' });
  await clock.advance(100);
  t.is(await result, 'ok');
  t.deepEqual(seen, [undefined, undefined]);
  t.is(o.status().strategies.retrySameWorker, 1);
});

test('abandon: not idempotent after a crash, or attempts used up; the last error is thrown', async (t) => {
  const clock = new SimulatedClock();
  const o = orchestrator(clock);
  await t.throwsAsync(o.run(async () => { throw crash(); }, { idempotent: false }), { instanceOf: BridgeExitedError });
  const last = gone();
  let n = 0;
  const settled = o.run(async () => { n++; throw n === 3 ? last : gone(); }, { idempotent: true }).catch((e: unknown) => e);
  await clock.advance(1000);
  t.is(await settled, last);
  t.like(o.status(), { initiated: 2, failed: 2, succeeded: 0 });
  t.is(o.status().strategies.abandon, 2);
});

test('the breaker counts operations after recovery: a retried success is a success, a final failure opens it', async (t) => {
  const clock = new SimulatedClock();
  const breaker = new BreakerCore('py', breakerSettings('breaker', { failureThreshold: 1 }), clock);
  breaker.send = (e) => breaker.entered(e.type === 'breaker.trip' ? 'open' : 'closed');
  const o = new RecoveryOrchestrator('py', clock, policy(), { maxConcurrent: 10 }, breaker);
  // A crash saved by a retry: the circuit stays closed.
  const saved = o.run(async ({ attempt }) => { if (attempt === 1) throw crash(); return 'ok'; }, { idempotent: true });
  await clock.advance(100);
  t.is(await saved, 'ok');
  t.is(breaker.state, 'closed');
  // An operation that fails however often it is tried opens it; the next call fails fast.
  const lost = o.run(async () => { throw gone(); }, { idempotent: true }).catch((e: unknown) => e);
  await clock.advance(1000);
  t.true((await lost) instanceof NoProcessError);
  t.is(breaker.state, 'open');
  let ran = false;
  await t.throwsAsync(o.run(async () => { ran = true; return 'x'; }, { idempotent: true }), { instanceOf: CircuitOpenError });
  t.false(ran);
});

test('breakCircuit: an operation waiting to be retried gives up once the circuit has opened', async (t) => {
  const clock = new SimulatedClock();
  const breaker = new BreakerCore('py', breakerSettings('breaker', { failureThreshold: 1 }), clock);
  breaker.send = (e) => breaker.entered(e.type === 'breaker.trip' ? 'open' : 'closed');
  const o = new RecoveryOrchestrator('py', clock, policy({ maxAttempts: 5 }), { maxConcurrent: 10 }, breaker);
  let attempts = 0;
  const waiting = o.run(async () => { attempts++; throw gone(); }, { idempotent: true }).catch((e: unknown) => e);
  await clock.advance(50); // it failed once and waits 100 ms for its retry
  await o.run(async () => { throw new PythonError('op', 'X', 'y', ''); }, { idempotent: true }).catch(() => undefined); // not a fault: still closed
  t.is(breaker.state, 'closed');
  breaker.failed(gone(), false); // another operation's final failure opens it
  t.is(breaker.state, 'open');
  await clock.advance(100);
  t.true((await waiting) instanceof NoProcessError);
  t.is(attempts, 1);
  t.is(o.status().strategies.breakCircuit, 1);
});

test('the deadline bounds the retries; the caller abort cancels a waiting recovery', async (t) => {
  const clock = new SimulatedClock();
  const o = orchestrator(clock, 10, policy({ maxAttempts: 10 }));
  let n = 0;
  const late = o.run(async () => { n++; throw gone(); }, { idempotent: true, deadline: 250 }).catch((e: unknown) => e);
  await clock.advance(1000);
  t.true((await late) instanceof NoProcessError);
  t.is(n, 3); // at 0, 100, 200; a fourth at 300 would pass 250

  const ac = new AbortController();
  const aborted = o.run(async () => { throw gone(); }, { idempotent: true, signal: ac.signal }).catch((e: unknown) => e);
  await clock.advance(50);
  ac.abort('bye');
  t.true((await aborted) instanceof AbortError);
  t.like(o.status(), { cancelled: 1, active: 0 });
  t.is(clock.pending, 0);
});

test('cancelAll ends every recovery in progress (the pool is stopping)', async (t) => {
  const clock = new SimulatedClock();
  const o = orchestrator(clock);
  const a = o.run(async () => { throw gone(); }, { idempotent: true }).catch((e: unknown) => e);
  const b = o.run(async () => { throw gone(); }, { idempotent: true }).catch((e: unknown) => e);
  await clock.advance(0);
  t.is(o.cancelAll('pool stopped'), 2);
  t.true((await a) instanceof AbortError);
  t.true((await b) instanceof AbortError);
  t.like(o.status(), { active: 0, cancelled: 2 });
});
