import test from 'ava';
import type { InspectionEvent } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { defineServer, dynamicSupervisor, startChild, supervisor, type Pid } from '../../src/index.js';

const worker = defineServer<number, number | undefined, 'get', number, 'crash'>({
  name: 'worker',
  init: (n) => ({ state: n ?? 0 }),
  handleCall: (_req, _from, n) => ({ reply: n }),
  handleCast: () => {
    throw new Error('boom');
  },
});

test('regression: a restarted dynamic child keeps its id (worker-6 came back as worker-8, events said id "")', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  await rt.start(dynamicSupervisor({ label: 'jobs' }), { name: 'jobs' });
  const first = await startChild(rt, 'jobs', { start: worker, input: 1 });
  const second = await startChild(rt, 'jobs', { start: worker, input: 2 });
  if (!first.ok || !second.ok || first.pid === undefined) return t.fail('start failed');
  const oldPid: Pid = first.pid;
  const path = rt.info(oldPid)!.id;
  t.is(path, `app/jobs/worker-${oldPid.id}`);

  const restarted = rt.trace.next('supervisor.childStarted', (e) => e.restart);
  rt.cast(oldPid, 'crash');
  const started = await restarted;

  t.is(rt.info(started.pid)?.id, path, 'the same readable actor id');
  t.is(started.id, `worker-${oldPid.id}`);
  t.is(started.restarts, 1);
  t.is(String(started.previousPid), String(oldPid), 'the new pid is linked to the one it replaces');
  const exited = rt.trace.of('supervisor.childExited');
  t.deepEqual(
    exited.map((e) => [e.id, String(e.pid)]),
    [[`worker-${oldPid.id}`, String(oldPid)]],
  );
  t.deepEqual(
    rt.trace.of('supervisor.childStarted').map((e) => [e.id, e.restarts]),
    [
      [`worker-${oldPid.id}`, 0],
      [`worker-${second.pid!.id}`, 0],
      [`worker-${oldPid.id}`, 1],
    ],
  );

  const again = rt.trace.next('supervisor.childStarted', (e) => e.restart && e.restarts === 2);
  rt.cast(started.pid, 'crash');
  const third = await again;
  t.is(rt.info(third.pid)?.id, path);
  t.is(String(third.previousPid), String(started.pid));
});

test('regression: starting a child spawns no helper actor carrying the child spec (17-31 KB per start)', async (t) => {
  const actors: string[] = [];
  let largest = 0;
  await using rt = createTestRuntime({
    name: 'app',
    inspect: (e: InspectionEvent) => {
      if (e.type !== '@xstate.actor') return;
      actors.push((e.actorRef as unknown as { id: string }).id);
      const input = (e.actorRef.getSnapshot() as { input?: unknown } | undefined)?.input;
      largest = Math.max(largest, JSON.stringify(input ?? null, (_k, v: unknown) => (typeof v === 'function' ? 'fn' : v))?.length ?? 0);
    },
  });
  await rt.start(
    supervisor({
      children: [
        { id: 'a', start: worker, input: 1 },
        { id: 'b', start: worker, input: 2 },
      ],
    }),
    { name: 'top' },
  );
  // Every actor an inspector is told about is a process of the tree.
  t.deepEqual(actors, ['app', 'app/top', 'app/top/a', 'app/top/b']);
  t.true(largest < 100, `no actor input carries a child spec (largest input: ${largest} characters)`);
});
