/**
 * Supervisor definitions over one shared machine: `supervisor()` and `dynamicSupervisor()` built
 * an xstate machine per call (about 1 ms and 53 KB kept per definition; `pool()`, which defines
 * two and a manager, 1.1 ms and 80 KB). Each definition is now a small object over one machine
 * per mode, handing the machine its own flags and label.
 */
import test from 'ava';
import { StateMachine, type InspectionEvent } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { dynamicSupervisor, startChild, supervisor, whichChildren, type Pid } from '../../src/index.js';
import { poolManagerMachine } from '../../src/workers/poolManager.js';
import { startSup, workerSpec } from '../helpers/otpSupervisorHelpers.js';

test('regression: every supervisor() call built its own xstate machine; definitions now share one, each with its own children', async (t) => {
  const a = supervisor({ label: 'alpha', children: [workerSpec('a1'), workerSpec('a2')] });
  const b = supervisor({ label: 'beta', strategy: 'one_for_all', children: [workerSpec('b1')] });
  // One state tree for both (two machines before: two roots). Compared as booleans: ava would
  // render a diff of two whole machines.
  t.true(a.root === b.root);
  t.false(a === b);
  t.true(a instanceof StateMachine);
  t.is(a.config.id, 'supervisor');

  await using rt = createTestRuntime();
  const pa = await startSup(rt, a, 'pa');
  const pb = await startSup(rt, b, 'pb');
  t.deepEqual((await whichChildren(rt, pa)).map((c) => c.id).sort(), ['a1', 'a2']);
  t.deepEqual((await whichChildren(rt, pb)).map((c) => c.id), ['b1']);
  // Each keeps its own strategy: a crash in beta restarts beta's children only, as one_for_all.
  const before = (await whichChildren(rt, pa)).map((c) => c.pid);
  const b1 = (await whichChildren(rt, pb))[0]!.pid as Pid;
  rt.cast(b1, 'crash');
  await rt.flush();
  t.deepEqual((await whichChildren(rt, pa)).map((c) => c.pid), before);
  const restarted = (await whichChildren(rt, pb))[0]!.pid as Pid;
  t.truthy(restarted);
  t.not(restarted.id, b1.id);
});

test('each definition keeps its label: unnamed supervisors are placed in the tree under it', async (t) => {
  await using rt = createTestRuntime();
  const one = rt.spawn(supervisor({ label: 'first', children: [] }));
  const two = rt.spawn(supervisor({ label: 'second', children: [] }));
  const dyn = rt.spawn(dynamicSupervisor({ label: 'third' }));
  await rt.flush();
  t.regex(rt.info(one)!.id, /\/first-\d+$/);
  t.regex(rt.info(two)!.id, /\/second-\d+$/);
  t.regex(rt.info(dyn)!.id, /\/third-\d+$/);
});

test('an init function gets the spawn input and may ignore, per definition', async (t) => {
  await using rt = createTestRuntime();
  const byInput = supervisor((input) => ((input as { skip?: boolean }).skip ? 'ignore' : { children: [workerSpec('w')] }));
  t.is(await rt.start(byInput, { input: { skip: true } }), 'ignore');
  const pid = (await rt.start(byInput, { input: { skip: false } })) as Pid;
  t.deepEqual((await whichChildren(rt, pid)).map((c) => c.id), ['w']);
});

test('dynamic supervisors share a machine of their own, with their own limits', async (t) => {
  const small = dynamicSupervisor({ maxChildren: 1 });
  const large = dynamicSupervisor({ maxChildren: 2 });
  t.true(small.root === large.root);
  t.false(small.root === supervisor({ children: [] }).root);
  await using rt = createTestRuntime();
  const s = (await rt.start(small)) as Pid;
  const l = (await rt.start(large)) as Pid;
  t.true((await startChild(rt, s, workerSpec('x'))).ok);
  t.false((await startChild(rt, s, workerSpec('y'))).ok);
  t.true((await startChild(rt, l, workerSpec('x'))).ok);
  t.true((await startChild(rt, l, workerSpec('y'))).ok);
});

test('an inspector sees each supervisor with the machine config, as before', async (t) => {
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  const sup = await startSup(rt, supervisor({ children: [workerSpec('a')] }), 'top');
  const actor = rt.actorOf(sup)!;
  const snapshot = events.find((e) => e.type === '@xstate.snapshot' && e.actorRef === actor);
  t.truthy(snapshot);
  t.is((actor as unknown as { logic: { config: { id: string } } }).logic.config.id, 'supervisor');
  t.deepEqual((await whichChildren(rt, sup)).map((c) => c.id), ['a']);
});

test('regression: every pool() call built its own manager machine; pools share one', (t) => {
  t.true(poolManagerMachine() === poolManagerMachine());
});

test('provide on a definition gives the same definition over the re-implemented machine', async (t) => {
  const sup = supervisor({ label: 'provided', children: [workerSpec('a')] }).provide({});
  await using rt = createTestRuntime();
  const top = await startSup(rt, supervisor({ children: [{ id: 'inner', start: sup }] }), 'top');
  const [inner] = await whichChildren(rt, top);
  // Still known as a supervisor (its marker came along), with its own children and label.
  t.is(inner!.type, 'supervisor');
  t.deepEqual((await whichChildren(rt, inner!.pid as Pid)).map((c) => c.id), ['a']);
  t.regex(rt.info(inner!.pid as Pid)!.id, /\/inner$/);
});
