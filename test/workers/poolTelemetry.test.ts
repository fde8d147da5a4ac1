/**
 * Pool telemetry on the runtime's event bus (issue 12): checkout waits, call durations and
 * outcomes, worker starts and exits (restarts), sessions bound / expired / ended / lost and the
 * breaker's transitions — each emitted only while someone listens, with durations on the runtime
 * clock (simulated ms here, so exact).
 */
import test from 'ava';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import { Pool, createRuntime, pool, silentLogger, type RuntimeEventMap } from '../../src/index.js';
import { examples, rejectionOf } from '../helpers/bridge.js';
import { hold, nextEvent, osPidOf, startPool } from '../helpers/pool.js';

type Name = keyof RuntimeEventMap;

function record<K extends Name>(rt: TestRuntime, name: K): Array<RuntimeEventMap[K][0]> {
  const seen: Array<RuntimeEventMap[K][0]> = [];
  (rt.events.on as (n: K, fn: (e: RuntimeEventMap[K][0]) => void) => unknown)(name, (e) => seen.push(e));
  return seen;
}

test.serial('checkout wait and call duration and outcome, per call, on the runtime clock', async (t) => {
  await using rt = createTestRuntime();
  const { status } = await startPool(rt, { name: 'p', size: 1, sessions: { ttl: 10_000 } });
  const worker = status.workers[0]!.pid;
  const checkouts = record(rt, 'pool.checkout');
  const calls = record(rt, 'pool.call');
  const bound = record(rt, 'pool.sessionBound');
  await Pool.run(rt, 'p', 'echo', 1, { session: 's' });
  await t.throwsAsync(Pool.run(rt, 'p', 'raise', { type: 'ValueError' }));
  // A caller that waits 200 ms for the worker held by another.
  const h = hold(rt, 'p');
  await h.got;
  const waiting = Pool.run(rt, 'p', 'echo', 2);
  await rt.flush();
  await rt.advance(200);
  h.release();
  t.is(await waiting, 2);
  t.deepEqual(
    checkouts.map((e) => [e.pool, e.worker.id, e.session, e.waitMs]),
    [
      ['p', worker.id, 's', 0],
      ['p', worker.id, undefined, 0],
      ['p', worker.id, undefined, 0],
      ['p', worker.id, undefined, 200],
    ],
  );
  t.deepEqual(
    calls.map((e) => ({ ...e, worker: e.worker.id })),
    [
      { pool: 'p', worker: worker.id, op: 'echo', session: 's', durationMs: 0, outcome: 'ok' },
      { pool: 'p', worker: worker.id, op: 'raise', session: undefined, durationMs: 0, outcome: 'error', code: 'python_error' },
      { pool: 'p', worker: worker.id, op: 'echo', session: undefined, durationMs: 0, outcome: 'ok' },
    ],
  );
  t.deepEqual(bound.map((e) => [e.session, e.worker.id]), [['s', worker.id]]);
});

test.serial('a worker that crashes mid-call: the call reports bridge_exited, the worker its exit, its replacement its start; the session is lost', async (t) => {
  await using rt = createTestRuntime();
  const started = record(rt, 'pool.workerStarted');
  const { status } = await startPool(rt, { name: 'p', size: 1, sessions: { ttl: 10_000 }, breaker: false });
  t.deepEqual(started.map((e) => [e.pool, e.startupMs]), [['p', 0]]);
  const worker = status.workers[0]!.pid;
  await Pool.run(rt, 'p', 'echo', 1, { session: 's' });
  const calls = record(rt, 'pool.call');
  const exited = nextEvent(rt, 'pool.workerExited');
  const lost = nextEvent(rt, 'pool.sessionLost');
  const restarted = nextEvent(rt, 'pool.workerStarted');
  await rejectionOf(Pool.run(rt, 'p', 'hard_exit', { code: 3 }, { session: 's' }));
  t.like(await exited, { pool: 'p', ready: true, operations: 2 });
  t.is((await exited).worker.id, worker.id);
  t.like(await lost, { pool: 'p', session: 's' });
  t.regex((await lost).reason, /exited/);
  t.not((await restarted).worker.id, worker.id);
  t.deepEqual(calls.map((e) => [e.op, e.outcome, e.code]), [['hard_exit', 'error', 'bridge_exited']]);
});

test.serial("the breaker's transitions: closed → open at the threshold, open → halfOpen after resetTimeout, halfOpen → closed on a success", async (t) => {
  await using rt = createTestRuntime();
  const transitions = record(rt, 'breaker.transition');
  await startPool(rt, { name: 'p', size: 1, breaker: { failureThreshold: 1, resetTimeout: 500 } });
  const restarted = nextEvent(rt, 'pool.workerStarted');
  await rejectionOf(Pool.run(rt, 'p', 'hard_exit', { code: 3 }));
  await restarted;
  await rt.flush();
  t.deepEqual(transitions, [{ breaker: 'p.breaker', pool: 'p', from: 'closed', to: 'open' }]);
  await rt.advance(500);
  t.is(await Pool.run(rt, 'p', 'echo', 'probe'), 'probe');
  await rt.flush();
  t.deepEqual(
    transitions.map((e) => `${e.from}→${e.to}`),
    ['closed→open', 'open→halfOpen', 'halfOpen→closed'],
  );
});

test.serial('nothing is emitted while nobody listens', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: 100 } });
  const emitted: string[] = [];
  const emit = rt.events.emit.bind(rt.events);
  (rt.events as { emit: (name: Name, ...args: unknown[]) => boolean }).emit = (name: Name, ...args: unknown[]) => {
    emitted.push(String(name));
    return (emit as (name: Name, ...args: unknown[]) => boolean)(name, ...args);
  };
  await Pool.run(rt, 'p', 'echo', 1, { session: 's' });
  await Pool.run(rt, 'p', 'echo', 1);
  await rt.advance(2000); // the session expires in a sweep
  await Pool.endSession(rt, 'p', 'x');
  const pid = (await Pool.status(rt, 'p')).workers[0]!.pid;
  process.kill(await osPidOf(rt, pid), 'SIGKILL');
  await Pool.ready(rt, 'p').catch(() => undefined);
  t.deepEqual(
    emitted.filter((n) => n.startsWith('pool.') || n.startsWith('breaker.')),
    [],
  );
});

test.serial('regression: on a real clock a checkout that found an idle worker reported waitMs 0.01–0.3 — it is 0, as documented', async (t) => {
  const rt = createRuntime({ name: 'waitms', logger: silentLogger });
  try {
    await rt.start(pool({ name: 'p', size: 1, worker: examples() }));
    await Pool.ready(rt, 'p');
    const waits: number[] = [];
    rt.events.on('pool.checkout', (e) => void waits.push(e.waitMs));
    for (let i = 0; i < 5; i++) await Pool.run(rt, 'p', 'echo', i);
    t.deepEqual(waits, [0, 0, 0, 0, 0]);
  } finally {
    await rt.shutdown();
  }
});
