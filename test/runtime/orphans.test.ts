import test from 'ava';
import { setup, fromCallback } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';

function parentMachine(onChildStopped: () => void) {
  const child = fromCallback(() => () => onChildStopped());
  return setup({ actors: { child } }).createMachine({
    id: 'parent',
    invoke: { src: 'child', id: 'invoked' },
    on: {
      crash: {
        actions: () => {
          throw new Error('machine crashed');
        },
      },
      finish: '.done',
    },
    initial: 'running',
    states: { running: {}, done: { type: 'final' } },
  });
}

test('xstate #5153: a machine process that errors takes its invoked children with it', async (t) => {
  await using rt = createTestRuntime();
  let stopped = 0;
  const pid = rt.spawn(parentMachine(() => stopped++));
  rt.send(pid, { type: 'crash' });
  t.false(rt.isAlive(pid));
  t.is(stopped, 1, 'the invoked child was stopped (its cleanup ran)');
  t.is((rt.trace.exits()[0]?.reason as Error).message, 'machine crashed');
});

test('a machine process that is killed or finishes also stops its children exactly once', async (t) => {
  await using rt = createTestRuntime();
  let stopped = 0;
  const a = rt.spawn(parentMachine(() => stopped++));
  const b = rt.spawn(parentMachine(() => stopped++));
  rt.exit(a, 'kill');
  rt.send(b, { type: 'finish' });
  t.is(stopped, 2);
  t.deepEqual(rt.trace.exits().map((e) => e.reason), ['killed', 'normal']);
});
