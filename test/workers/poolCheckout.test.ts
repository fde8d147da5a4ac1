/**
 * Pool.run and Pool.checkout: a worker is checked out, used in the caller, and given back however
 * the caller ends (returns, throws, aborts). Waiting callers queue FIFO with a deadline on the
 * simulated clock (CheckoutTimeoutError), a full queue fails fast (PoolBusyError), and a worker
 * that crashes mid-call fails that call with BridgeExitedError and is replaced.
 *
 * Workers are held by the test itself (`hold`: a checkout whose function waits until released)
 * or by Python calls blocked on gates the test opens, never by durations.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  Pool,
  callBridge,
  bridgeInfo,
  AbortError,
  BridgeExitedError,
  CheckoutTimeoutError,
  InvalidOptionError,
  PoolBusyError,
  PythonError,
  TimeoutError,
  NoProcessError,
  type Pid,
} from '../../src/index.js';
import { osPidGone, rejectionOf, track } from '../helpers/bridge.js';
import { hold, nextSettled, osPidOf, pythonChildren, startPool, workerIds, workerOsPids } from '../helpers/pool.js';

test.serial('Pool.run checks a worker out, calls it and checks it back in', async (t) => {
  await using rt = createTestRuntime();
  const { status } = await startPool(rt, { name: 'p', size: 2 });
  t.deepEqual(await Pool.run(rt, 'p', 'echo', { hello: [1, 2] }), { hello: [1, 2] });
  const osPids = await workerOsPids(rt, 'p');
  const pid = await Pool.run<number>(rt, 'p', 'pid');
  t.true([...osPids.values()].includes(pid), 'the call ran on one of the pool workers');
  const after = await Pool.status(rt, 'p');
  t.is(after.busy, 0);
  t.is(after.idle, 2);
  t.is(after.queued, 0);
  t.is(after.stats.checkouts, 2);
  t.deepEqual(workerIds(after), workerIds(status));
});

test.serial('Pool.checkout gives exclusive use of one worker for the duration of fn and returns its result', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 2 });
  const osPids = await workerOsPids(rt, 'p');
  const result = await Pool.checkout(rt, 'p', async (worker: Pid) => {
    const st = await Pool.status(rt, 'p');
    t.is(st.busy, 1, 'checked out while fn runs');
    t.true(st.workers.find((w) => w.pid.id === worker.id)!.busy);
    const a = await callBridge<number>(rt, worker, 'pid');
    const b = await callBridge<number>(rt, worker, 'pid');
    t.is(a, b, 'every call in fn goes to the same worker');
    t.is(a, osPids.get(worker.id)!);
    return `done on ${a}`;
  });
  t.regex(result, /^done on \d+$/);
  const st = await Pool.status(rt, 'p');
  t.is(st.busy, 0);
  t.is(st.idle, 2);
});

test.serial('waiting callers are served FIFO', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  const h = hold(rt, 'p');
  const worker = await h.got;
  const order: number[] = [];
  const waiters = [];
  for (let i = 1; i <= 4; i++) {
    waiters.push(
      track(
        Pool.checkout(rt, 'p', async (w) => {
          order.push(i);
          t.is(w.id, worker.id);
          return i;
        }),
      ),
    );
    await rt.flush();
    t.is((await Pool.status(rt, 'p')).queued, i, `caller ${i} is queued`);
  }
  h.release();
  await Promise.all([h.done.promise, ...waiters.map((w) => w.promise)]);
  t.deepEqual(order, [1, 2, 3, 4]);
  t.deepEqual(
    waiters.map((w) => w.value),
    [1, 2, 3, 4],
  );
  t.is((await Pool.status(rt, 'p')).queued, 0);
});

test.serial('a waiting caller fails with CheckoutTimeoutError at the pool checkoutTimeout (simulated clock), and leaves the queue', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, checkoutTimeout: 1000 });
  const h = hold(rt, 'p');
  await h.got;
  const waiter = track(Pool.run(rt, 'p', 'echo', 'late'));
  await rt.advance(999);
  t.is(waiter.state, 'pending');
  t.is((await Pool.status(rt, 'p')).queued, 1);
  await rt.advance(1);
  await waiter.promise;
  t.true(waiter.error instanceof CheckoutTimeoutError, String(waiter.error));
  t.is((waiter.error as CheckoutTimeoutError).code, 'checkout_timeout');
  t.regex((waiter.error as Error).message, /pool 'p'.*1000 ms/);
  await rt.flush();
  t.is((await Pool.status(rt, 'p')).queued, 0, 'the timed-out caller left the queue');
  h.release();
  await h.done.promise;
  await rt.flush();
  const st = await Pool.status(rt, 'p');
  t.is(st.idle, 1, 'the worker was not handed to the caller that gave up');
  t.is(st.busy, 0);
  t.is(st.stats.checkouts, 1);
  t.is(await Pool.run(rt, 'p', 'echo', 'next'), 'next');
});

test.serial("a caller's own checkoutTimeout overrides the pool's; 'infinity' waits for ever", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, checkoutTimeout: 1000 });
  const h = hold(rt, 'p');
  await h.got;
  const short = track(Pool.run(rt, 'p', 'echo', 'short', { checkoutTimeout: 10 }));
  const forever = track(Pool.run(rt, 'p', 'echo', 'forever', { checkoutTimeout: 'infinity' }));
  await rt.advance(10);
  await short.promise;
  t.true(short.error instanceof CheckoutTimeoutError, String(short.error));
  await rt.advance(1_000_000);
  t.is(forever.state, 'pending');
  h.release();
  await forever.promise;
  t.is(forever.value, 'forever');
});

test.serial('a full queue fails fast with PoolBusyError (maxQueue), without waiting for the deadline', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, maxQueue: 2 });
  const h = hold(rt, 'p');
  await h.got;
  const queued = [track(Pool.run(rt, 'p', 'echo', 1)), track(Pool.run(rt, 'p', 'echo', 2))];
  await rt.flush();
  const err = await rejectionOf(Pool.run(rt, 'p', 'echo', 3));
  t.true(err instanceof PoolBusyError, String(err));
  t.is((err as PoolBusyError).code, 'pool_busy');
  t.regex((err as Error).message, /pool 'p': 2 callers are already waiting/);
  t.is(rt.clock.now(), 0, 'no simulated time passed');
  const st = await Pool.status(rt, 'p');
  t.is(st.queued, 2);
  t.is(st.stats.busyRejects, 1);
  h.release();
  await Promise.all(queued.map((q) => q.promise));
  t.deepEqual(
    queued.map((q) => q.value),
    [1, 2],
  );
});

test.serial('maxQueue 0: no waiting at all; a free worker is still handed out', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, maxQueue: 0 });
  const h = hold(rt, 'p');
  await h.got;
  t.true((await rejectionOf(Pool.run(rt, 'p', 'echo', 1))) instanceof PoolBusyError);
  h.release();
  await h.done.promise;
  t.is(await Pool.run(rt, 'p', 'echo', 2), 2);
});

test.serial("strategy 'fifo' hands out the longest-idle worker; 'lifo' the most recently used", async (t) => {
  for (const strategy of ['fifo', 'lifo'] as const) {
    await using rt = createTestRuntime();
    await startPool(rt, { name: 'p', size: 3, strategy });
    const seq: number[] = [];
    for (let i = 0; i < 6; i++) seq.push(await Pool.run<number>(rt, 'p', 'pid'));
    if (strategy === 'fifo') {
      t.is(new Set(seq).size, 3, `fifo rotates through all workers: ${seq}`);
      t.deepEqual(seq.slice(3), seq.slice(0, 3), 'in the same order each round');
    } else {
      t.is(new Set(seq).size, 1, `lifo keeps reusing the warm one: ${seq}`);
    }
  }
});

test.serial('a caller that aborts while waiting leaves the queue with AbortError; the worker is not lost', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  const h = hold(rt, 'p');
  await h.got;
  const ac = new AbortController();
  const waiter = track(Pool.run(rt, 'p', 'echo', 'x', { signal: ac.signal }));
  await rt.flush();
  t.is((await Pool.status(rt, 'p')).queued, 1);
  ac.abort(new Error('gave up'));
  await waiter.promise;
  t.true(waiter.error instanceof AbortError, String(waiter.error));
  await rt.flush();
  t.is((await Pool.status(rt, 'p')).queued, 0);
  h.release();
  await h.done.promise;
  await rt.flush();
  const st = await Pool.status(rt, 'p');
  t.is(st.idle, 1);
  t.is(st.busy, 0);
  t.is(await Pool.run(rt, 'p', 'echo', 'still works'), 'still works');
});

test.serial('a caller that aborts while holding a worker (call in flight) gives it back', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  const [worker] = (await Pool.status(rt, 'p')).workers.map((w) => w.pid);
  const ac = new AbortController();
  const call = track(Pool.run(rt, 'p', 'async_gate', { name: 'never' }, { signal: ac.signal }));
  await rt.flush(); // the pool call has been checked out and sent to Python
  t.is(await callBridge(rt, worker!, 'pending_tasks'), 1, 'the call is running in Python');
  t.is((await Pool.status(rt, 'p')).busy, 1);
  const settled = nextSettled(rt, 'p', worker);
  ac.abort();
  await call.promise;
  t.true(call.error instanceof AbortError, String(call.error));
  // Python may still be running an aborted call: the worker is idle again once Python answers.
  await settled;
  const st = await Pool.status(rt, 'p');
  t.is(st.busy, 0);
  t.is(st.idle, 1);
  t.is(await Pool.run(rt, 'p', 'echo', 'next'), 'next', 'the worker serves the next caller');
  t.is(await callBridge(rt, worker!, 'pending_tasks'), 0, 'and Python cancelled the aborted call');
});

test.serial('a checkout function that throws gives the worker back; its error reaches the caller unchanged', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  const boom = new Error('boom');
  const err = await rejectionOf(
    Pool.checkout(rt, 'p', async () => {
      throw boom;
    }),
  );
  t.is(err, boom);
  await rt.flush();
  const st = await Pool.status(rt, 'p');
  t.is(st.busy, 0);
  t.is(st.idle, 1);
  t.is(st.stats.workerExits, 0, 'a throwing caller does not cost the worker');
  t.is(await Pool.run(rt, 'p', 'echo', 1), 1);
});

test.serial('a Python exception fails the call with PythonError; the worker is kept', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  const before = await workerOsPids(rt, 'p');
  const err = await rejectionOf(Pool.run(rt, 'p', 'raise', { type: 'ValueError', message: 'bad input' }));
  t.true(err instanceof PythonError, String(err));
  t.is((err as PythonError).type, 'ValueError');
  await rt.flush();
  t.deepEqual(await workerOsPids(rt, 'p'), before, 'same worker, same Python process');
  t.is((await Pool.status(rt, 'p')).stats.workerExits, 0);
});

test.serial('a call past its timeout (simulated) fails with TimeoutError and the worker is given back', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  const [worker] = (await Pool.status(rt, 'p')).workers.map((w) => w.pid);
  const call = track(Pool.run(rt, 'p', 'async_gate', { name: 'slow' }, { timeout: 500 }));
  await rt.advance(499);
  t.is(call.state, 'pending');
  const settled = nextSettled(rt, 'p', worker);
  await rt.advance(1);
  await call.promise;
  t.true(call.error instanceof TimeoutError, String(call.error));
  t.is((call.error as TimeoutError).timeout, 500);
  // Python may still be running a timed-out call: the worker is idle again once Python answers
  // the pool's probe (at once here: the async handler honours the cancel).
  await settled;
  t.is((await Pool.status(rt, 'p')).idle, 1);
  t.is(await Pool.run(rt, 'p', 'echo', 'after'), 'after');
  t.is((await bridgeInfo(rt, worker!)).stats.timeouts, 1);
});

test.serial('a worker that crashes mid-call (hard_exit) fails that call with BridgeExitedError and is replaced', async (t) => {
  await using rt = createTestRuntime();
  const { status } = await startPool(rt, { name: 'p', size: 2 });
  const before = await workerOsPids(rt, 'p');
  const err = await rejectionOf(Pool.run(rt, 'p', 'hard_exit', { code: 3 }));
  t.true(err instanceof BridgeExitedError, String(err));
  t.is((err as BridgeExitedError).exitCode, 3);
  await rt.flush();
  const after = await Pool.ready(rt, 'p');
  t.is(after.workers.length, 2, 'pool size restored');
  t.is(after.ready, 2);
  t.is(after.stats.workerExits, 1);
  t.is(after.stats.started, 3);
  const newIds = workerIds(after).filter((id) => !workerIds(status).includes(id));
  t.is(newIds.length, 1, 'one worker has a new pid');
  const afterOs = await workerOsPids(rt, 'p');
  const newOs = [...afterOs.values()].filter((p) => ![...before.values()].includes(p));
  t.is(newOs.length, 1, 'and a new Python process');
  const deadOs = [...before.values()].filter((p) => ![...afterOs.values()].includes(p));
  t.is(deadOs.length, 1);
  t.false(pythonChildren().has(deadOs[0]!), 'the crashed Python process is gone');
  // Both workers serve: two calls held at once land on two different processes.
  const a = track(Pool.run(rt, 'p', 'async_gate', { name: 'a', value: 'A' }));
  const b = track(Pool.run(rt, 'p', 'async_gate', { name: 'b', value: 'B' }));
  await rt.flush();
  const busy = await Pool.status(rt, 'p');
  t.is(busy.busy, 2);
  for (const w of busy.workers) {
    await callBridge(rt, w.pid, 'open_async_gate', { name: 'a' });
    await callBridge(rt, w.pid, 'open_async_gate', { name: 'b' });
  }
  await Promise.all([a.promise, b.promise]);
  t.deepEqual([a.value, b.value], ['A', 'B']);
});

test.serial('a worker whose Python process is killed while idle is replaced; callers are not handed the dead one', async (t) => {
  await using rt = createTestRuntime();
  const { status } = await startPool(rt, { name: 'p', size: 1 });
  const [worker] = status.workers.map((w) => w.pid);
  const osPid = await osPidOf(rt, worker!);
  const exited = rt.exited(worker!);
  process.kill(osPid, 'SIGKILL');
  await exited;
  await rt.flush();
  const call = await Pool.run<number>(rt, 'p', 'pid');
  t.not(call, osPid);
  t.true(osPidGone(osPid) || !pythonChildren().has(osPid));
  const st = await Pool.ready(rt, 'p');
  t.is(st.workers.length, 1);
  t.not(st.workers[0]!.pid.id, worker!.id);
  t.is(st.stats.workerExits, 1);
});

test.serial('Pool.run options are validated: unknown keys and wrong types throw InvalidOptionError naming the key', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  const cases: Array<[unknown, string]> = [
    [{ pool_timeout: 1000 }, 'Pool.run.pool_timeout'],
    [{ timeout: '5s' }, 'Pool.run.timeout'],
    [{ timeout: -1 }, 'Pool.run.timeout'],
    [{ checkoutTimeout: 1.5 }, 'Pool.run.checkoutTimeout'],
    [{ session: 42 }, 'Pool.run.session'],
    [{ signal: {} }, 'Pool.run.signal'],
    [[['timeout', 1000]], 'Pool.run'],
    ['timeout=1000', 'Pool.run'],
  ];
  for (const [options, key] of cases) {
    const err = await rejectionOf(Pool.run(rt, 'p', 'echo', 1, options as never));
    t.true(err instanceof InvalidOptionError, `${JSON.stringify(options)}: ${String(err)}`);
    t.is((err as InvalidOptionError).key, key, JSON.stringify(options));
  }
  const notFn = await rejectionOf(Pool.checkout(rt, 'p', 'run this' as never));
  t.true(notFn instanceof InvalidOptionError);
  t.is((notFn as InvalidOptionError).key, 'Pool.checkout.fn');
  const badCheckout = await rejectionOf(Pool.checkout(rt, 'p', async () => 1, { timeout: 5 } as never));
  t.is((badCheckout as InvalidOptionError).key, 'Pool.checkout.timeout');
  t.is((await Pool.status(rt, 'p')).stats.checkouts, 0, 'nothing was checked out by a refused call');
});

test.serial('a call to a pool that does not exist fails with NoProcessError', async (t) => {
  await using rt = createTestRuntime();
  const err = await rejectionOf(Pool.run(rt, 'nope', 'echo', 1));
  t.true(err instanceof NoProcessError, String(err));
});

test.serial("a new pool under a previous pool's name gets its own checkoutTimeout", async (t) => {
  await using rt = createTestRuntime();
  const first = await startPool(rt, { name: 'p', size: 1, checkoutTimeout: 100 });
  t.is(await Pool.run(rt, 'p', 'echo', 1), 1);
  await rt.stop(first.sup);
  await startPool(rt, { name: 'p', size: 1, checkoutTimeout: 5000 });
  const h = hold(rt, 'p');
  await h.got;
  const waiter = track(Pool.run(rt, 'p', 'echo', 2));
  await rt.advance(100);
  // Regression: the checkoutTimeout used to be cached per runtime and pool *name*, so a pool
  // started again under that name kept the first one's timeout (CheckoutTimeoutError here at
  // 100 ms). It is now cached per manager process (poolClient.ts cachedCheckoutTimeout).
  t.is(waiter.state, 'pending', `at 100 ms: ${waiter.state} ${String(waiter.error ?? '')}`);
  await rt.advance(4900);
  await waiter.promise;
  t.true(waiter.error instanceof CheckoutTimeoutError, String(waiter.error));
  h.release();
  await h.done.promise;
});
