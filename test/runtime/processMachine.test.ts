import test from 'ava';
import { assign, setup, type InspectionEvent } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { defineServer, type ExitReason, type Pid } from '../../src/index.js';
import { processMachine, type ProcessMachineEvent } from '../../src/runtime/processMachine.js';

type Events = ProcessMachineEvent<'demo.init'> | { type: 'demo.fail' };

/** A process machine built with the helper: it records what it saw, in order. */
function demo(log: string[]) {
  const proc = processMachine({ init: 'demo.init', label: 'demo' });
  const machine = proc.mark(
    setup({ types: {} as { context: { parent?: Pid; reason: ExitReason }; events: Events } }).createMachine({
      context: { reason: 'normal' },
      entry: proc.entry,
      initial: 'starting',
      states: {
        starting: {
          on: {
            'demo.init': {
              target: 'running',
              actions: [
                assign({ parent: ({ event }) => event.parent }),
                ({ self, event }) => {
                  log.push(`init ${String(event.self)} under ${String(event.parent)}`);
                  proc.ack(self, { ok: true });
                },
              ],
            },
            'demo.fail': {
              target: 'done',
              actions: [assign({ reason: 'failed' }), ({ self }) => proc.ack(self, { error: 'failed' })],
            },
          },
        },
        running: {
          on: {
            'xotp.exit': [
              { guard: proc.fromParent, target: 'done', actions: assign({ reason: ({ event }) => event.reason }) },
              { actions: ({ event }) => log.push(`exit from ${String(event.from)}: ${String(event.reason)}`) },
            ],
            'xotp.stop': { target: 'done', actions: assign({ reason: ({ event }) => event.reason }) },
          },
        },
        done: { type: 'final' },
      },
      output: ({ context }) => proc.exitWith(context.reason),
    }),
  );
  return machine;
}

test('processMachine: traps exits from the start, takes its first step from its init event, and start waits for its ack', async (t) => {
  await using rt = createTestRuntime();
  const log: string[] = [];
  const pid = await rt.start(demo(log));
  t.is(typeof pid, 'object');
  if (typeof pid !== 'object') return;
  t.deepEqual(log, [`init ${String(pid)} under ${String(rt.self)}`]);
  t.true(rt.info(pid)!.trapExit);
  t.is(rt.info(pid)!.id, `test/demo-${pid.id}`); // the label of its protocol
  // An exit signal from anyone but its parent is an ordinary event…
  const other = rt.spawn(defineServer({ init: () => ({ state: null }) }));
  rt.exit(pid, 'hello', other);
  t.deepEqual(log, [`init ${String(pid)} under ${String(rt.self)}`, `exit from ${String(other)}: hello`]);
  t.true(rt.isAlive(pid));
  // …one from its parent (the root, for a top-level process) stops it with that reason.
  const ended = rt.exited(pid);
  rt.exit(pid, { shutdown: 'parent says' });
  t.deepEqual(await ended, { shutdown: 'parent says' });
});

test('processMachine: stop sends xotp.stop and the machine ends with exitWith(reason)', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(demo([]));
  await rt.flush();
  const ended = rt.exited(pid);
  t.is(await rt.stop(pid, 'shutdown'), 'ok');
  t.is(await ended, 'shutdown');
});

test('processMachine: the init event is sent by the process to itself (as the inspector shows)', async (t) => {
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  const pid = rt.spawn(demo([]));
  await rt.flush();
  const init = events.find((e) => e.type === '@xstate.event' && e.event.type === 'demo.init');
  t.truthy(init);
  t.is(init?.type === '@xstate.event' ? init.sourceRef : undefined, rt.actorOf(pid));
  t.is(init?.actorRef, rt.actorOf(pid));
});
