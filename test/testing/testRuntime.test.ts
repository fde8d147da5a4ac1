import test from 'ava';
import { setup } from 'xstate';
import { createTestRuntime, SimulatedClock, TestRuntime } from '../../src/testing/index.js';
import { LeakError, defineServer } from '../../src/index.js';
import { idle } from '../helpers/actors.js';

test('SimulatedClock fires timers in due order, each seeing its own due time as now()', async (t) => {
  const clock = new SimulatedClock();
  const seen: Array<[string, number]> = [];
  clock.setTimeout(() => seen.push(['b', clock.now()]), 200);
  clock.setTimeout(() => {
    seen.push(['a', clock.now()]);
    clock.setTimeout(() => seen.push(['a2', clock.now()]), 50);
  }, 100);
  const cancelled = clock.setTimeout(() => seen.push(['x', clock.now()]), 120);
  clock.clearTimeout(cancelled);
  await clock.advance(160);
  t.deepEqual(seen, [
    ['a', 100],
    ['a2', 150],
  ]);
  t.is(clock.now(), 160);
  await clock.advance(1000);
  t.deepEqual(seen.at(-1), ['b', 200]);
  t.is(clock.pending, 0);
});

test('SimulatedClock: timers due at the same time fire in the order they were set', (t) => {
  const clock = new SimulatedClock();
  const order: number[] = [];
  for (let i = 0; i < 5; i++) clock.setTimeout(() => order.push(i), 10);
  clock.tick(10);
  t.deepEqual(order, [0, 1, 2, 3, 4]);
});

test('xstate `after` delays in a process run on the runtime clock', async (t) => {
  await using rt = createTestRuntime();
  const machine = setup({}).createMachine({
    id: 'delayed',
    initial: 'waiting',
    states: { waiting: { after: { 1000: 'done' } }, done: { type: 'final' } },
  });
  const pid = rt.spawn(machine);
  await rt.advance(999);
  t.true(rt.isAlive(pid));
  await rt.advance(1);
  t.false(rt.isAlive(pid));
  t.deepEqual(rt.trace.exits().map((e) => [e.reason, rt.trace.entries.find((x) => x.event === 'process.exited')?.t]), [['normal', 1000]]);
});

test('dispose stops every process, and two test runtimes never see each other', async (t) => {
  const a = createTestRuntime({ name: 'a' });
  const b = createTestRuntime({ name: 'b' });
  const pa = a.spawn(idle, { name: 'worker' });
  const pb = b.spawn(idle, { name: 'worker' });
  t.not(String(pa), String(pb));
  t.is(a.whereis('worker')?.node, 'a');
  t.false(b.isAlive(pa), 'a pid of runtime a means nothing in runtime b');
  await a.dispose();
  t.false(a.isAlive(pa));
  t.true(b.isAlive(pb));
  await b.dispose();
  t.deepEqual(TestRuntime.undisposed().filter((r) => r === a || r === b), []);
});

test('dispose fails with LeakError when a timer outlives the runtime', async (t) => {
  const rt = createTestRuntime();
  rt.clock.setTimeout(() => undefined, 60_000);
  const err = await t.throwsAsync(rt.dispose(), { instanceOf: LeakError });
  t.is(err?.leaks.length, 1);
  t.regex(err!.leaks[0]!, /timer due at 60000 ms, set at .*testRuntime\.test\.ts/);
});

test('dispose fails with LeakError when a tracked OS resource is still alive', async (t) => {
  const rt = createTestRuntime();
  let alive = true;
  rt.trackResource({ describe: () => 'python pid 4242', isAlive: () => alive });
  const err = await t.throwsAsync(rt.dispose(), { instanceOf: LeakError });
  t.deepEqual(err?.leaks, ['resource python pid 4242 is alive']);
  alive = false;
});

test('dispose moves simulated time so a slow terminate is waited for, then killed after the shutdown timeout', async (t) => {
  const rt = createTestRuntime({ shutdownTimeout: 300 });
  const stuck = defineServer({
    init: () => ({ state: null }),
    terminate: () => new Promise<void>(() => undefined),
  });
  rt.spawn(stuck);
  await rt.dispose();
  t.deepEqual(rt.trace.exits().map((e) => e.reason), ['killed']);
  t.is(rt.clock.now(), 300);
});

test('await using disposes at the end of the scope', async (t) => {
  let runtime: TestRuntime | undefined;
  {
    await using rt = createTestRuntime();
    runtime = rt;
    rt.spawn(idle);
  }
  t.is(runtime.stats().alive, 0);
  t.is(runtime.state, 'stopped');
});

test('the trace records lifecycle events with simulated times, and next() waits for one', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(idle, { name: 'w' });
  const exit = rt.trace.next('process.exited', (e) => e.pid.id === pid.id);
  await rt.advance(250);
  rt.exit(pid, 'bye');
  t.is((await exit).reason, 'bye');
  t.deepEqual(
    rt.trace.entries.map((e) => [e.event, e.t]),
    [
      ['process.spawned', 0],
      ['name.registered', 0],
      ['signal', 250],
      ['process.exited', 250],
      ['name.unregistered', 250],
    ],
  );
  t.regex(rt.trace.format(), /250ms process\.exited pid=<test\.1> id=test\/w reason=bye/);
});

test('flush returns while a handler waits on something outside the runtime', async (t) => {
  await using rt = createTestRuntime();
  let release!: () => void;
  const server = defineServer<null, undefined, unknown, unknown, 'wait'>({
    init: () => ({ state: null }),
    handleCast: () => new Promise<void>((r) => (release = r)),
  });
  const pid = rt.spawn(server);
  rt.cast(pid, 'wait');
  await rt.flush();
  t.is(rt.inflight, 1);
  release();
  await rt.flush();
  t.is(rt.inflight, 0);
  t.true(rt.isAlive(pid));
});
