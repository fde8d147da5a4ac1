/**
 * A pool is a supervision subtree (supervisor → dynamic supervisor of workers + the manager,
 * registered under the pool's name). Workers warm up in parallel (at most `startConcurrency` at
 * once); Pool.ready resolves once every worker finished its handshake. Lazy pools start workers
 * only for callers. Stopping the subtree ends every Python process.
 *
 * Workers held before their handshake use test/fixtures/xotp_bridge_pool_worker.py with its start gate:
 * the process exists but says `ready` only once the test creates a file, so "spawned" and
 * "ready" can be told apart without timing anything.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, pool, supervisor, whichChildren, countChildren, type Pid } from '../../src/index.js';
import { track } from '../helpers/bridge.js';
import { examples, fixtureDir, fixtureWorker, flagOff, flagOn, pythonChildren, startPool, until, workerIds, workerOsPids } from '../helpers/pool.js';

test.serial('a pool is a supervisor of its circuit breaker, a dynamic supervisor of workers and a manager registered under its name', async (t) => {
  await using rt = createTestRuntime();
  const { sup, status } = await startPool(rt, { name: 'py', size: 3 });
  const children = await whichChildren(rt, sup);
  t.deepEqual(
    children.map((c) => [c.id, c.type]).sort(),
    [
      ['breaker', 'worker'],
      ['manager', 'worker'],
      ['workers', 'supervisor'],
    ],
  );
  t.is(rt.whereis('py.breaker')?.id, (children.find((c) => c.id === 'breaker')!.pid as Pid).id, 'the circuit breaker is registered as <pool>.breaker');
  const manager = children.find((c) => c.id === 'manager')!.pid as Pid;
  t.is(rt.whereis('py')?.id, manager.id, 'the manager is registered under the pool name');
  const workersSup = children.find((c) => c.id === 'workers')!.pid as Pid;
  t.is(rt.whereis('py.workers')?.id, workersSup.id);
  const workers = await whichChildren(rt, workersSup);
  t.deepEqual(
    workers.map((w) => (w.pid as Pid).id).sort((a, b) => a - b),
    workerIds(status),
    'the workers are the dynamic supervisor’s children',
  );
  t.deepEqual((await countChildren(rt, workersSup)).active, 3);
  t.is(status.size, 3);
  t.is(status.ready, 3);
  t.is(status.starting, 0);
  t.is(status.idle, 3);
  t.is(pythonChildren().size, 3, 'one Python process per worker');
  t.is(rt.parentOf(manager)?.id, sup.id);
});

test.serial("a pool started as a child of the application's supervisor (type 'supervisor'); stopping the tree ends its Python processes", async (t) => {
  await using rt = createTestRuntime();
  const app = await rt.start(
    supervisor({
      strategy: 'one_for_one',
      children: [{ id: 'py', start: pool({ name: 'py', size: 2, worker: examples() }), type: 'supervisor' }],
    }),
    { name: 'app' },
  );
  await Pool.ready(rt, 'py');
  const osPids = [...(await workerOsPids(rt, 'py')).values()];
  t.is(osPids.length, 2);
  t.deepEqual(new Set(osPids), pythonChildren());
  t.is(await Pool.run(rt, 'py', 'echo', 'hi'), 'hi');
  await rt.stop(app as Pid);
  t.is(rt.whereis('py'), undefined, 'the pool name is free again');
  await until(() => pythonChildren().size === 0, 5000, 'Python processes gone');
  t.is(pythonChildren().size, 0);
});

test.serial('workers warm up in parallel: all are spawned before any has finished its handshake; Pool.ready waits for every handshake', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 4, worker: fixtureWorker(dir, { startGate: true }) }));
  const ready = track(Pool.ready(rt, 'p'));
  await until(() => pythonChildren().size === 4, 10_000, 'four Python processes spawned');
  await rt.flush();
  const st = await Pool.status(rt, 'p');
  t.is(st.ready, 0, 'no handshake yet');
  t.is(st.starting, 4, 'all four are starting at once');
  t.is(ready.state, 'pending', 'Pool.ready waits');
  flagOn(dir, 'start-gate');
  await ready.promise;
  t.is(ready.state, 'resolved');
  const status = ready.value!;
  t.is(status.ready, 4);
  t.is(status.starting, 0);
  t.is(status.idle, 4);
  t.is(status.stats.started, 4);
});

test.serial('startConcurrency bounds how many workers start at once', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 4, startConcurrency: 2, worker: fixtureWorker(dir, { startGate: true }) }));
  const ready = track(Pool.ready(rt, 'p'));
  await until(() => pythonChildren().size === 2, 10_000, 'two Python processes spawned');
  await rt.flush();
  const st = await Pool.status(rt, 'p');
  t.is(st.starting, 2);
  t.is(st.workers.length, 2, 'the other two are not spawned yet');
  t.is(pythonChildren().size, 2);
  t.is(ready.state, 'pending');
  flagOn(dir, 'start-gate');
  await ready.promise;
  t.is(ready.value!.ready, 4);
  t.is(pythonChildren().size, 4);
});

test.serial('Pool.ready on a ready pool resolves at once with its status; calls made before ready wait for a worker', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 2, worker: fixtureWorker(dir, { startGate: true }) }));
  const early = track(Pool.run(rt, 'p', 'echo', 'early'));
  await until(() => pythonChildren().size === 2, 10_000, 'two Python processes spawned');
  await rt.flush();
  t.is(early.state, 'pending');
  t.is((await Pool.status(rt, 'p')).queued, 1, 'the early caller is queued, not failed');
  flagOn(dir, 'start-gate');
  await early.promise;
  t.is(early.value, 'early');
  const st = await Pool.ready(rt, 'p');
  t.is(st.ready, 2);
  t.is((await Pool.ready(rt, 'p')).ready, 2);
});

test.serial('lazy: no worker runs until a caller needs one', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 3, worker: examples(), lazy: true }));
  const st = await Pool.ready(rt, 'p');
  t.is(st.ready, 0, 'Pool.ready resolves at once for a lazy pool');
  await rt.flush();
  const idle = await Pool.status(rt, 'p');
  // Regression: a lazy pool used to start one worker at init, a Python process spawned for
  // nobody. PoolState.fill now starts workers of a lazy pool only for waiting callers.
  t.is(idle.ready + idle.starting, 0, `ready ${idle.ready}, starting ${idle.starting}`);
  t.is(await Pool.run(rt, 'p', 'echo', 'first'), 'first');
  const after = await Pool.status(rt, 'p');
  t.is(after.workers.length, 1, 'one caller, one worker');
  t.is(pythonChildren().size, 1);
});

test.serial('lazy: one waiting caller starts one worker, not the whole pool', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 4, lazy: true, worker: fixtureWorker(dir, { startGate: true }) }));
  await Pool.ready(rt, 'p');
  const call = track(Pool.run(rt, 'p', 'echo', 'one'));
  await rt.flush();
  const st = await Pool.status(rt, 'p');
  t.is(st.queued, 1);
  // Regression: while any caller waited, a lazy pool used to start workers towards `size`
  // (3 here for one caller). PoolState.fill now starts one per waiting caller that no starting
  // worker will serve.
  t.is(st.ready + st.starting, 1, `ready ${st.ready}, starting ${st.starting}`);
  flagOn(dir, 'start-gate');
  await call.promise;
  t.is(call.value, 'one');
});

test.serial('lazy: concurrent callers get up to size workers, never more', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 2, worker: examples(), lazy: true }));
  await Pool.ready(rt, 'p');
  const calls = Array.from({ length: 6 }, (_, i) => track(Pool.run(rt, 'p', 'echo', i)));
  await Promise.all(calls.map((c) => c.promise));
  t.deepEqual(
    calls.map((c) => c.value),
    [0, 1, 2, 3, 4, 5],
  );
  const st = await Pool.status(rt, 'p');
  // Six callers at once, before any worker is up: one worker per waiting caller, capped at size.
  t.is(st.workers.length, 2, `size workers: ${st.workers.length}`);
  t.is(pythonChildren().size, 2);
});

test.serial('two workers dying while a replacement is still starting: both are replaced at once', async (t) => {
  const dir = fixtureDir(t);
  flagOn(dir, 'start-gate');
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 3, worker: fixtureWorker(dir, { startGate: true }) }));
  const first = await Pool.ready(rt, 'p');
  const [a, b] = first.workers.map((w) => w.pid);
  const osPids = await workerOsPids(rt, 'p');
  // Replacements from now on are held before their handshake.
  flagOff(dir, 'start-gate');
  const aExited = rt.exited(a!);
  process.kill(osPids.get(a!.id)!, 'SIGKILL');
  await aExited;
  await until(() => pythonChildren().size === 3, 10_000, "a's replacement spawned");
  await rt.flush();
  let st = await Pool.status(rt, 'p');
  t.is(st.ready, 2);
  t.is(st.starting, 1, "a's replacement is starting");
  const bExited = rt.exited(b!);
  process.kill(osPids.get(b!.id)!, 'SIGKILL');
  await bExited;
  await rt.flush();
  st = await Pool.status(rt, 'p');
  t.is(st.ready, 1);
  // Regression: PoolState.fill used to count a spawned-but-not-ready worker twice (in `workers`
  // and in `starting`), so b's replacement waited for a's handshake (starting 1 here).
  t.is(st.starting, 2, `starting ${st.starting}, workers ${st.workers.length}`);
  flagOn(dir, 'start-gate');
  const after = await Pool.ready(rt, 'p');
  t.is(after.ready, 3, 'the pool is whole again in the end');
});

test.serial('stopping the pool ends its manager, its workers and every Python process; the name is free', async (t) => {
  await using rt = createTestRuntime();
  const { sup } = await startPool(rt, { name: 'p', size: 3, sessions: { ttl: 1000 }, health: { interval: 500 } });
  t.is(pythonChildren().size, 3);
  await rt.stop(sup);
  t.false(rt.isAlive(sup));
  t.is(rt.whereis('p'), undefined);
  await until(() => pythonChildren().size === 0, 5000, 'Python processes gone');
  t.is(rt.clock.pending, 0, 'no sweep or health timer left behind');
  // A new pool can take the name.
  await startPool(rt, { name: 'p', size: 1 });
  t.is(await Pool.run(rt, 'p', 'echo', 'again'), 'again');
});
