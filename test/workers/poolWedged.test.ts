/**
 * A worker whose call timed out (issue 9, fault 2, the pool's side). A synchronous handler that
 * never returns holds Python's main thread: the bridge's cancel is never read, and every later
 * call on that worker would queue behind it. The pool therefore does not hand the worker out
 * until Python answers again (a probe queued behind the abandoned call); the bridge, seeing its
 * cancel unacknowledged for `cancelGrace`, ends wedged (BridgeWedgedError), and the pool replaces
 * it — with or without health checks. A handler that honours the cancel keeps its worker.
 *
 * The never-returning handler is `wait_file` on a path nobody creates. Call deadlines and the
 * cancel grace run on the simulated clock; the worker's exit is a real event.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, TimeoutError, type Pid, type PoolOptions, type XotpError } from '../../src/index.js';
import { track } from '../helpers/bridge.js';
import { examples, fixtureDir, nextSettled, startPool } from '../helpers/pool.js';

const GRACE = 1000;

test.serial('regression: a timed-out call wedges its worker for good — the worker whose call still runs in Python is not handed out; it is back once the call ends', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const { status } = await startPool(rt, { name: 'p', size: 2 });
  const release = join(dir, 'release');
  const stuck = track(Pool.run(rt, 'p', 'wait_file', { path: release, value: 'late' }, { timeout: 100 }));
  await rt.flush();
  const busy = (await Pool.status(rt, 'p')).workers.filter((w) => w.busy);
  t.is(busy.length, 1);
  const held = busy[0]!.pid;
  const other = status.workers.find((w) => w.pid.id !== held.id)!.pid;
  await rt.advance(100);
  await stuck.promise;
  t.true(stuck.error instanceof TimeoutError, String(stuck.error));
  // FIFO would alternate between the two workers; the held one is skipped.
  for (let i = 0; i < 4; i++) {
    const got = await Pool.checkout(rt, 'p', async (w: Pid) => w);
    if (!t.is(got.id, other.id, `checkout ${i} got the worker whose call is still running in Python`)) return;
  }
  for (let i = 0; i < 6; i++) t.is(await Pool.run(rt, 'p', 'echo', i, { timeout: 100 }), i);
  const st = await Pool.status(rt, 'p');
  t.like(st.workers.find((w) => w.pid.id === held.id), { busy: false, settling: true });
  t.like(st, { idle: 1, busy: 0 });
  // The handler returns at last (its late reply is dropped): Python answers the probe, and the
  // worker is back in service, not replaced.
  const settled = nextSettled(rt, 'p', held);
  writeFileSync(release, '');
  await settled;
  const after = await Pool.status(rt, 'p');
  t.like(after, { idle: 2, stats: { workerExits: 0 } });
  t.is(after.workers.find((w) => w.pid.id === held.id)!.settling, undefined);
});

for (const health of [undefined, { interval: 1_000_000 }] as Array<PoolOptions['health']>) {
  const how = health ? 'with health checks' : 'without health checks';
  test.serial(`regression: a timed-out call wedges its worker for good — ${how}, a call that never ends gets its worker replaced after cancelGrace; later calls all succeed`, async (t) => {
    const dir = fixtureDir(t);
    await using rt = createTestRuntime();
    const { status } = await startPool(rt, { name: 'p', size: 2, worker: examples({ cancelGrace: GRACE }), ...(health ? { health } : {}) });
    const stuck = track(Pool.run(rt, 'p', 'wait_file', { path: join(dir, 'never') }, { timeout: 100 }));
    await rt.flush();
    const busy = (await Pool.status(rt, 'p')).workers.filter((w) => w.busy);
    t.is(busy.length, 1);
    const wedged = busy[0]!.pid;
    const other = status.workers.find((w) => w.pid.id !== wedged.id)!.pid;
    const exit = rt.exited(wedged);
    await rt.advance(100);
    await stuck.promise;
    t.true(stuck.error instanceof TimeoutError, String(stuck.error));

    // Before the bridge gives up on it, the worker is held out of service: every checkout gets
    // the other one (FIFO would alternate between the two).
    for (let i = 0; i < 4; i++) {
      const got = await Pool.checkout(rt, 'p', async (w: Pid) => w);
      if (!t.is(got.id, other.id, `checkout ${i} got the worker whose call is still running in Python`)) return;
    }
    for (let i = 0; i < 6; i++) t.is(await Pool.run(rt, 'p', 'echo', i, { timeout: 100 }), i);
    const held = (await Pool.status(rt, 'p')).workers.find((w) => w.pid.id === wedged.id)!;
    t.like(held, { busy: false, settling: true });

    // Python never lets go of the call: past the grace the bridge ends wedged and is replaced.
    await rt.advance(GRACE);
    const reason = await exit;
    t.is((reason as XotpError).code, 'bridge_wedged', String(reason));
    const after = await Pool.ready(rt, 'p');
    t.is(after.ready, 2);
    t.false(after.workers.some((w) => w.pid.id === wedged.id), 'the wedged worker is gone');
    t.true(after.workers.some((w) => w.pid.id === other.id), 'the other worker is kept');
    t.like(after.stats, { workerExits: 1, started: 3 });
    if (health) t.is(after.health!.replaced, 1);
    for (let i = 0; i < 6; i++) t.is(await Pool.run(rt, 'p', 'echo', i, { timeout: 100 }), i);
  });
}

test.serial('a timed-out call whose handler honours the cancel keeps its worker: back in service once Python answers, not replaced after the grace', async (t) => {
  await using rt = createTestRuntime();
  const { status } = await startPool(rt, { name: 'p', size: 1, worker: examples({ cancelGrace: GRACE }) });
  const [worker] = status.workers.map((w) => w.pid) as [Pid];
  const settled = nextSettled(rt, 'p', worker);
  const call = track(Pool.run(rt, 'p', 'async_gate', { name: 'never' }, { timeout: 100 }));
  await rt.flush();
  await rt.advance(100);
  await call.promise;
  t.true(call.error instanceof TimeoutError, String(call.error));
  await settled;
  // Answered once the cancelled coroutine has ended, so its acknowledgement came before.
  t.is(await Pool.run(rt, 'p', 'pending_tasks'), 0, 'Python has let go of the cancelled call');
  await rt.advance(GRACE);
  t.is(await Pool.run(rt, 'p', 'echo', 'kept'), 'kept');
  const after = await Pool.status(rt, 'p');
  t.deepEqual(after.workers.map((w) => w.pid.id), [worker.id]);
  t.is(after.stats.workerExits, 0);
  t.is(after.workers[0]!.settling, undefined);
});
