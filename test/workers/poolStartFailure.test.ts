/**
 * A pool whose workers cannot start (issue 9, fault 6): a module that cannot be imported makes
 * every worker's Python process exit before its ready handshake. The pool says why at once —
 * `PoolStartError` with the worker's startup error as `cause` and Python's type, message and
 * traceback — to `Pool.ready` and to `Pool.run` callers, retries with a backoff shown in
 * `Pool.status().backoff`, and writes no report of its own (the worker's exit is reported once
 * by its supervisor). Callers still waiting when a pool stops get `PoolStoppedError`.
 *
 * Every Python process here really starts and really fails to import; the tests wait on those
 * exits (runtime events), and move the backoff with the simulated clock.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import { BridgeStartupError, Pool, PoolStartError, PoolStoppedError, pool, pythonBridge, type Pid } from '../../src/index.js';
import { rejectionOf, track } from '../helpers/bridge.js';
import { fixtureDir, fixtureWorker, flagOn, hold, nextEvent, pythonChildren, startPool, until } from '../helpers/pool.js';

const MISSING = 'xotp_no_such_module';
const badWorker = () => pythonBridge({ module: MISSING });

/** Resolves once `n` more pool workers (bridges) have exited, as the runtime saw it. */
function workerExits(rt: TestRuntime, n: number): Promise<void> {
  let left = n;
  return new Promise((resolve) => {
    const listener = ({ id }: { id: string }) => {
      if (!id.includes('/workers/') || --left > 0) return;
      rt.events.off('process.exited', listener);
      resolve();
    };
    rt.events.on('process.exited', listener);
  });
}

function assertStartError(t: import('ava').ExecutionContext, err: unknown, failures: number, nextAttemptInMs: number | null, missing = MISSING): void {
  t.true(err instanceof PoolStartError, String(err));
  const e = err as PoolStartError;
  t.is(e.code, 'pool_start_failed');
  t.is(e.failures, failures);
  t.is(e.nextAttemptInMs, nextAttemptInMs);
  t.true(e.cause instanceof BridgeStartupError, `cause: ${String(e.cause)}`);
  t.is(e.pythonType, 'ModuleNotFoundError');
  t.is(e.pythonMessage, `No module named '${missing}'`);
  t.is(e.traceback!.split('\n')[0], 'Traceback (most recent call last):');
  t.is(e.traceback!.split('Traceback (most recent call last):').length, 2, 'the traceback once');
  t.is(e.traceback!.split('\n').at(-1), `ModuleNotFoundError: No module named '${missing}'`);
  t.false(e.message.includes('\n'), 'a one-line message; the traceback is in .traceback and in the cause');
  t.true(e.message.includes(`ModuleNotFoundError: No module named '${missing}'`), e.message);
}

test.serial('regression: a pool that cannot start hides why — Pool.ready rejects with the startup error once every attempt failed, not with BridgeExitedError after several', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 2, worker: badWorker() }));
  const ready = track(Pool.ready(rt, 'p'));
  await workerExits(rt, 2); // both workers' imports failed; no clock moved
  await rt.flush();
  t.is(ready.state, 'rejected', 'Pool.ready answered at the first round of failures');
  if (ready.state !== 'rejected') return;
  // Both attempts ran in parallel; the backoff was set by the first failure.
  assertStartError(t, ready.error, 2, 100);
});

test.serial('regression: a pool that cannot start hides why — Pool.run fails fast with the startup error instead of waiting its checkout timeout', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 1, worker: badWorker(), checkoutTimeout: 5000 }));
  const queued = track(Pool.run(rt, 'p', 'echo', 'x'));
  await workerExits(rt, 1);
  await rt.flush();
  t.is(queued.state, 'rejected', 'the queued caller learns why when the attempt fails, not at its checkout deadline');
  if (queued.state !== 'rejected') return;
  assertStartError(t, queued.error, 1, 100);
  // While the pool waits out its backoff, a new caller fails at once.
  const late = track(Pool.run(rt, 'p', 'echo', 'y'));
  await rt.flush();
  t.is(late.state, 'rejected');
  assertStartError(t, late.error, 1, 100);
  t.is(rt.clock.now(), 0, 'no simulated time passed');
});

test.serial('Pool.status shows the backoff: failures, the last error, when the next attempt comes; it doubles per failed attempt', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 1, worker: badWorker() }));
  t.is((await Pool.status(rt, 'p')).backoff, undefined, 'absent while nothing failed');
  assertStartError(t, await rejectionOf(Pool.ready(rt, 'p')), 1, 100);
  let st = await Pool.status(rt, 'p');
  t.like(st.backoff, { failures: 1, nextAttemptAt: 100, nextAttemptInMs: 100, reason: `ModuleNotFoundError: No module named '${MISSING}'` });
  t.true(st.backoff!.lastError instanceof BridgeStartupError);
  t.like(st, { ready: 0, starting: 0, queued: 0 });
  // Pool.ready during the backoff answers at once (nothing is under way).
  assertStartError(t, await rejectionOf(Pool.ready(rt, 'p')), 1, 100);

  await rt.advance(99);
  t.like((await Pool.status(rt, 'p')).backoff, { nextAttemptInMs: 1, nextAttemptAt: 100 });
  await rt.advance(1); // the retry starts a worker; Pool.ready waits for it
  st = await Pool.status(rt, 'p');
  t.is(st.starting, 1);
  t.like(st.backoff, { failures: 1, nextAttemptAt: null, nextAttemptInMs: null });
  assertStartError(t, await rejectionOf(Pool.ready(rt, 'p')), 2, 200);
  t.like((await Pool.status(rt, 'p')).backoff, { failures: 2, nextAttemptAt: 300, nextAttemptInMs: 200 });

  await rt.advance(200);
  assertStartError(t, await rejectionOf(Pool.ready(rt, 'p')), 3, 400);
  t.like((await Pool.status(rt, 'p')).backoff, { failures: 3, nextAttemptAt: 700, nextAttemptInMs: 400 });
  t.is((await Pool.status(rt, 'p')).stats.workerExits, 3);
});

test.serial('regression: a pool of 4 retried four attempts at a time and its backoff doubled per failed worker (100, 1600, 5000 ms) — one attempt at a time after the first round, 100 ms doubling per backoff', async (t) => {
  await using rt = createTestRuntime();
  const failed: Array<{ failures: number; nextAttemptInMs: number | null }> = [];
  rt.events.on('pool.startFailed', ({ failures, nextAttemptInMs }) => void failed.push({ failures, nextAttemptInMs }));
  await rt.start(pool({ name: 'p', size: 4, worker: badWorker() }));
  await workerExits(rt, 4); // the first round starts all four at once
  await rt.flush();
  t.deepEqual(failed.map((f) => f.nextAttemptInMs), [100, null, null, null]);
  for (const [i, backoff] of [100, 200, 400, 800].entries()) {
    await rt.advance(backoff);
    const st = await Pool.status(rt, 'p');
    t.is(st.starting, 1, `retry ${i + 1}: one attempt`);
    await workerExits(rt, 1);
    await rt.flush();
    t.deepEqual(failed.at(-1), { failures: 5 + i, nextAttemptInMs: backoff * 2 }, `retry ${i + 1} failed: the backoff doubles`);
  }
  t.is((await Pool.status(rt, 'p')).stats.workerExits, 8, 'eight Python starts in all, not 20');
});

test.serial('regression: a pool that cannot start hides why — no report of its own per failed start, one supervisor report each', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 1, worker: badWorker() }));
  const failures = 3;
  for (let i = 1; i <= failures; i++) {
    if (i > 1) await rt.advance((await Pool.status(rt, 'p')).backoff!.nextAttemptInMs!);
    const err = (await rejectionOf(Pool.ready(rt, 'p'))) as PoolStartError;
    t.is(err.failures, i);
  }
  const records = rt.logs.records;
  t.deepEqual(records.filter((r) => r.message.includes("pool 'p'")).map((r) => r.message), [], 'the pool writes no report of its own');
  t.is(records.filter((r) => r.message.includes('child_terminated')).length, failures, 'its supervisor reports each failed worker once');
});

test.serial('a lazy pool that cannot start: the caller that started an attempt fails when it fails; callers during the backoff fail at once; after it, a caller starts a new attempt', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 2, lazy: true, worker: badWorker() }));
  t.is((await Pool.ready(rt, 'p')).ready, 0);
  assertStartError(t, await rejectionOf(Pool.run(rt, 'p', 'echo', 1)), 1, 100);
  assertStartError(t, await rejectionOf(Pool.run(rt, 'p', 'echo', 2)), 1, 100);
  await rt.advance(100);
  t.is((await Pool.status(rt, 'p')).starting, 0, 'a lazy pool starts nothing for nobody');
  const failed = nextEvent(rt, 'pool.startFailed', (e) => e.pool === 'p');
  assertStartError(t, await rejectionOf(Pool.run(rt, 'p', 'echo', 3)), 2, 200);
  t.like(await failed, { failures: 2, nextAttemptInMs: 200 });
});

test.serial('a pool whose module becomes importable recovers at its next attempt: the backoff section goes away, Pool.ready resolves', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 2, worker: pythonBridge({ module: 'xotp_late_module', cwd: dir }) }));
  assertStartError(t, await rejectionOf(Pool.ready(rt, 'p')), 2, 100, 'xotp_late_module');
  writeFileSync(join(dir, 'xotp_late_module.py'), 'import xotp_bridge.examples  # noqa: F401\n');
  await rt.advance(100);
  const st = await Pool.ready(rt, 'p');
  t.is(st.ready, 2);
  t.is(st.backoff, undefined);
  t.is(await Pool.run(rt, 'p', 'echo', 'up'), 'up');
});

test.serial('regression: callers still queued when a pool stops get PoolStoppedError (not the runtime’s generic exit error); so does a waiting Pool.ready', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  // The worker is held before its handshake (start gate never opened): callers queue.
  const sup = (await rt.start(pool({ name: 'p', size: 1, worker: fixtureWorker(dir, { startGate: true }) }))) as Pid;
  const queued = track(Pool.run(rt, 'p', 'echo', 'x'));
  const ready = track(Pool.ready(rt, 'p'));
  await until(() => pythonChildren().size === 1, 10_000, 'the worker spawned');
  await rt.flush();
  t.is((await Pool.status(rt, 'p')).queued, 1);
  // The manager stops first (reverse start order), while the worker is still held.
  const stopped = rt.stop(sup, 'shutdown');
  await Promise.all([queued.promise, ready.promise]);
  for (const c of [queued, ready]) {
    t.true(c.error instanceof PoolStoppedError, String(c.error));
    t.is((c.error as PoolStoppedError).code, 'pool_stopped');
  }
  flagOn(dir, 'start-gate'); // the held worker can now take its shutdown frame
  await stopped;
});

test.serial('a caller waiting for a busy worker when the pool stops gets PoolStoppedError; the holder keeps its worker until the stop ends it', async (t) => {
  await using rt = createTestRuntime();
  const { sup } = await startPool(rt, { name: 'p', size: 1 });
  const h = hold(rt, 'p');
  await h.got;
  const waiting = track(Pool.run(rt, 'p', 'echo', 'x', { checkoutTimeout: 'infinity' }));
  await rt.flush();
  t.is((await Pool.status(rt, 'p')).queued, 1);
  const stopped = rt.stop(sup, 'shutdown');
  await waiting.promise;
  t.true(waiting.error instanceof PoolStoppedError, String(waiting.error));
  h.release();
  await stopped;
  await h.done.promise;
});
