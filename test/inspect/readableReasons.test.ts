import test from 'ava';
import type { InspectionEvent } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { defineServer } from '../../src/index.js';
import { finisher } from '../helpers/actors.js';

const server = defineServer<null, undefined, unknown, unknown, 'crash'>({
  name: 'srv',
  init: () => ({ state: null }),
  handleCast: () => {
    throw new Error('boom');
  },
});

/** What an inspector that serialises (as every remote inspector does) makes of the events. */
function jsonInspector() {
  const got: Array<{ type: string; id: string; snapshot?: { status?: string; error?: unknown }; event?: { type: string; error?: unknown } }> = [];
  const inspect = (e: InspectionEvent) => {
    if (e.type !== '@xstate.snapshot' && e.type !== '@xstate.event') return;
    got.push({ type: e.type, id: (e.actorRef as unknown as { id: string }).id, ...JSON.parse(JSON.stringify({ snapshot: (e as { snapshot?: unknown }).snapshot, event: e.event })) });
  };
  return { got, inspect };
}

test('regression: crash reasons vanish (an Error serialised to {} in inspection snapshots)', async (t) => {
  const ins = jsonInspector();
  await using rt = createTestRuntime({ name: 'app', inspect: ins.inspect });
  const a = rt.spawn(server, { name: 'a' });
  const m = rt.spawn(finisher, { name: 'm' });
  const exits = rt.trace.next('process.exited', (e) => e.id === 'app/m');
  rt.cast(a, 'crash');
  rt.send(m, { type: 'crash' });
  await exits;
  await rt.flush();
  const errors = ins.got.filter((e) => e.snapshot?.status === 'error').map((e) => [e.id, e.snapshot!.error]);
  t.deepEqual(errors, [['app/a', { name: 'Error', message: 'boom' }]]);
  // A machine that throws has no error snapshot in xstate; its parent is told with an event.
  const told = ins.got.filter((e) => e.type === '@xstate.event' && e.event?.type.startsWith('xstate.error.actor.')).map((e) => [e.event!.type, e.event!.error]);
  t.deepEqual(told, [
    ['xstate.error.actor.app/a', { name: 'Error', message: 'boom' }],
    ['xstate.error.actor.app/m', { name: 'Error', message: 'crashed_on_demand' }],
  ]);
  // The bus keeps the reason itself: listeners in the process compare and rethrow it.
  t.true(rt.trace.exits().every((e) => e.reason instanceof Error));
});

test("regression: a server stopped with 'shutdown' showed as an error", async (t) => {
  const ins = jsonInspector();
  await using rt = createTestRuntime({ name: 'app', inspect: ins.inspect });
  const a = rt.spawn(server, { name: 'a' });
  const b = rt.spawn(server, { name: 'b' });
  await rt.stop(a, 'shutdown');
  await rt.stop(b, { shutdown: 'drained' });
  const ends = ins.got.filter((e) => e.type === '@xstate.snapshot' && e.snapshot?.status !== 'active').map((e) => [e.id, e.snapshot!.status]);
  t.deepEqual(ends, [
    ['app/a', 'done'],
    ['app/b', 'done'],
  ]);
  t.deepEqual(
    rt.trace.exits().map((e) => e.reason),
    ['shutdown', { shutdown: 'drained' }],
    'the exit reasons are unchanged',
  );
});
