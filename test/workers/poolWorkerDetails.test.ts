/**
 * Worker lifecycle details (issue 12): each row of `Pool.status().workers` has its start time,
 * how many checkouts it served and the time it spent in each state (on the runtime clock), with
 * or without health checks; and with health checks a degraded worker gets new work only when no
 * healthy one is idle (`health.preferHealthy`, default true).
 */
import test from 'ava';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import { Pool, pool, callBridge, type Pid, type PoolStatus, type PoolWorkerStatus } from '../../src/index.js';
import { fixtureDir, fixtureWorker, flagOn, hold, osPidOf, startPool } from '../helpers/pool.js';

const INTERVAL = 1000;

function row(status: PoolStatus, worker: Pid): PoolWorkerStatus {
  const r = status.workers.find((w) => w.pid.id === worker.id);
  if (!r) throw new Error(`worker ${worker.id} is not in the pool`);
  return r;
}

test.serial('each worker row has its start time, its operation count and the time spent starting, ready and busy', async (t) => {
  await using rt = createTestRuntime();
  await rt.advance(40);
  const { status } = await startPool(rt, { name: 'p', size: 1 });
  const w = status.workers[0]!;
  t.like(w, { startedAt: 40, operations: 0 });
  t.deepEqual(w.timeInState, { starting: 0, ready: 0, busy: 0 });
  await Pool.run(rt, 'p', 'echo', 1);
  await Pool.run(rt, 'p', 'echo', 2);
  await rt.advance(100);
  const h = hold(rt, 'p');
  await h.got;
  await rt.advance(300);
  t.deepEqual(row(await Pool.status(rt, 'p'), w.pid).timeInState, { starting: 0, ready: 100, busy: 300 }, 'the current state counts up to now');
  h.release();
  await h.done.promise;
  await rt.flush();
  await rt.advance(50);
  const r = row(await Pool.status(rt, 'p'), w.pid);
  t.like(r, { startedAt: 40, operations: 3 });
  t.deepEqual(r.timeInState, { starting: 0, ready: 150, busy: 300 });
});

async function startHealthPool(rt: TestRuntime, dir: string, health: Record<string, unknown>) {
  await rt.start(pool({ name: 'p', size: 2, worker: fixtureWorker(dir), health: { interval: INTERVAL, maxFailures: 5, ...health } }));
  return Pool.ready(rt, 'p');
}

/** Degrades `worker` by failing its next ping (test/fixtures/xotp_bridge_pool_worker.py). */
async function degrade(rt: TestRuntime, dir: string, worker: Pid): Promise<void> {
  flagOn(dir, `ping-fail-${await osPidOf(rt, worker)}`);
  await rt.advance(INTERVAL);
  for (const w of (await Pool.status(rt, 'p')).workers) await callBridge(rt, w.pid, 'ping_count');
  await rt.flush();
  if (row(await Pool.status(rt, 'p'), worker).state !== 'degraded') throw new Error('the worker did not degrade');
}

test.serial('with health checks, time in state follows the lifecycle: ready, busy and degraded', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, { interval: INTERVAL });
  const [sick] = st.workers.map((w) => w.pid) as [Pid, Pid];
  await degrade(rt, dir, sick); // degraded at INTERVAL
  await rt.advance(250);
  const r = row(await Pool.status(rt, 'p'), sick);
  t.like(r, { startedAt: 0, state: 'degraded' });
  t.deepEqual(r.timeInState, { starting: 0, ready: INTERVAL, degraded: 250 });
});

test.serial('regression: a degraded worker gets new work while a healthy one is idle', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, {});
  const [sick, well] = st.workers.map((w) => w.pid) as [Pid, Pid];
  await degrade(rt, dir, sick);
  const wellOs = await osPidOf(rt, well);
  const ran: number[] = [];
  for (let i = 0; i < 4; i++) ran.push(await Pool.run<number>(rt, 'p', 'pid'));
  t.deepEqual(ran, [wellOs, wellOs, wellOs, wellOs], 'every call on the healthy worker (fifo alone would alternate)');
  // With the healthy one busy, the degraded one still serves: no call waits for health.
  const h = hold(rt, 'p');
  t.is((await h.got).id, well.id);
  t.is(await Pool.run<number>(rt, 'p', 'pid', null, { checkoutTimeout: 0 }), await osPidOf(rt, sick));
  h.release();
  await h.done.promise;
  t.like(row(await Pool.status(rt, 'p'), sick), { state: 'degraded', operations: 1 });
});

test.serial('health.preferHealthy: false hands idle workers out by strategy alone, degraded or not', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, { preferHealthy: false });
  const [sick, well] = st.workers.map((w) => w.pid) as [Pid, Pid];
  await degrade(rt, dir, sick);
  const ran = new Set<number>();
  for (let i = 0; i < 4; i++) ran.add(await Pool.run<number>(rt, 'p', 'pid'));
  t.deepEqual([...ran].sort(), [await osPidOf(rt, sick), await osPidOf(rt, well)].sort());
});
