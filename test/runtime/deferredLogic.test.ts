/**
 * `deferredLogic`: a logic built on first use, so that the first xstate machine of a Node process
 * is compiled after its `prepare` began (the Python bridge spawns Python there), not before.
 * Until then the checks made of any logic must not build it; once built it reads as the built
 * machine, for xstate, inspectors and users.
 */
import test from 'ava';
import { types } from 'node:util';
import { setup, StateMachine } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { processMachine, pythonBridge, supervisor, type Pid } from '../../src/index.js';
import { deferredLogic } from '../../src/runtime/deferredLogic.js';
import { supervisorMarker } from '../../src/supervisor/supervisorMarker.js';

/** A process machine that acks its start, built by `deferredLogic`; `log` records the build and the prepare. */
function deferredWorker(log: string[]) {
  const proc = processMachine({
    init: 'w.init',
    label: 'w',
    gracefulStop: false,
    prepare: (input) => {
      log.push(`prepare ${JSON.stringify(input)}`);
      return undefined;
    },
  });
  const logic = deferredLogic(() => {
    log.push('build');
    return setup({ types: {} as { context: { n: number }; events: { type: 'w.init' } | { type: 'inc' } } }).createMachine({
      id: 'w',
      context: () => ({ n: 0 }),
      entry: proc.entry,
      initial: 'starting',
      states: {
        starting: { on: { 'w.init': { target: 'running', actions: ({ self }) => proc.ack(self, { ok: true }) } } },
        running: { on: { inc: { actions: ({ context }) => void context.n++ } } },
      },
    });
  });
  return proc.mark(logic);
}

test('a deferred logic is not built by defining it, checking it, or naming it as a child', (t) => {
  const log: string[] = [];
  const logic = deferredWorker(log);
  t.is(typeof logic.transition, 'function');
  t.is(typeof logic.getInitialSnapshot, 'function');
  t.false(supervisorMarker in logic);
  t.is((logic as unknown as Record<symbol, unknown>)[supervisorMarker], undefined);
  supervisor({ children: [{ id: 'w', start: logic }] });
  t.deepEqual(log, []);
});

test('a deferred logic is built once, when its first process spawns, after that process was prepared', async (t) => {
  await using rt = createTestRuntime();
  const log: string[] = [];
  const logic = deferredWorker(log);
  const a = (await rt.start(logic, { input: { k: 1 } })) as Pid;
  const b = (await rt.start(logic, { input: { k: 2 } })) as Pid;
  t.deepEqual(log, ['prepare {"k":1}', 'build', 'prepare {"k":2}']);
  rt.send(a, { type: 'inc' });
  rt.send(a, { type: 'inc' });
  rt.send(b, { type: 'inc' });
  await rt.flush();
  t.is((rt.actorOf(a)?.getSnapshot() as { context: { n: number } }).context.n, 2);
  t.is((rt.actorOf(b)?.getSnapshot() as { context: { n: number } }).context.n, 1);
  await rt.stop(a);
  await rt.stop(b);
});

test('once built, a deferred logic reads as the machine it built: config, id, instanceof, provide', async (t) => {
  await using rt = createTestRuntime();
  const logic = deferredWorker([]);
  const pid = (await rt.start(logic)) as Pid;
  const machine = (rt.actorOf(pid)?.getSnapshot() as { machine: { config: unknown } }).machine;
  t.is(logic.config as unknown, machine.config);
  t.is(logic.id, 'w');
  t.true(logic instanceof StateMachine);
  t.true(logic.provide({}) instanceof StateMachine);
  await rt.stop(pid);
});

test('reading a machine member before any spawn builds the logic, and it then works as usual', async (t) => {
  await using rt = createTestRuntime();
  const log: string[] = [];
  const logic = deferredWorker(log);
  t.is(logic.id, 'w');
  t.deepEqual(log, ['build']);
  const pid = (await rt.start(logic)) as Pid;
  t.deepEqual(log, ['build', 'prepare undefined']);
  await rt.stop(pid);
});

/**
 * Whether a builder still stands in `logic`'s prototype chain (the first read of a machine member
 * replaces it). Looked at without calling the builder's traps, which would build it.
 */
function unbuilt(logic: object): boolean {
  for (let p: object | null = Object.getPrototypeOf(logic); p !== null; p = Object.getPrototypeOf(p)) if (types.isProxy(p)) return true;
  return false;
}

test('pythonBridge defers building its machine past its definition and a child spec naming it', (t) => {
  const py = pythonBridge({ module: 'xotp_bridge.examples' });
  supervisor({ children: [{ id: 'py', start: py }] });
  t.true(unbuilt(py));
  t.is(py.id, 'bridge');
  t.false(unbuilt(py));
  // The machine is one for every definition of these timeouts: the next is built already.
  t.false(unbuilt(pythonBridge({ module: 'other' })));
  t.true(pythonBridge({ module: 'other' }).root === py.root);
});
