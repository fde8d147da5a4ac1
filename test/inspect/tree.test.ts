import test from 'ava';
import type { InspectionEvent } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { formatTree } from '../../src/inspect/index.js';
import { defineServer } from '../../src/index.js';
import { idle } from '../helpers/actors.js';

const parent = defineServer<null>({
  name: 'pool',
  init: (_args, ctx) => {
    ctx.spawnLink(idle, { id: 'worker-1' });
    ctx.spawnLink(idle, { id: 'worker-2' });
    return { state: null };
  },
});

test('the xstate inspector sees every process, under readable ids that show its place in the tree', async (t) => {
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ name: 'app', inspect: (e) => events.push(e) });
  rt.spawn(parent, { name: 'pool' });
  const actorIds = events.filter((e) => e.type === '@xstate.actor').map((e) => (e.actorRef as unknown as { id: string }).id);
  t.deepEqual(actorIds, ['app', 'app/pool', 'app/pool/worker-1', 'app/pool/worker-2']);
  const parents = events
    .filter((e) => e.type === '@xstate.actor')
    .map((e) => (e.actorRef as unknown as { _parent?: { id: string } })._parent?.id);
  t.deepEqual(parents, [undefined, 'app', 'app/pool', 'app/pool']);
});

test('tree() and formatTree show the live tree with pids and names', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  const pool = rt.spawn(parent, { name: 'pool' });
  rt.spawn(idle, { name: 'registry' });
  t.is(
    formatTree(rt.tree()),
    [
      'app <app.0>',
      '├─ app/pool <app.1> name=pool',
      '│  ├─ app/pool/worker-1 <app.2>',
      '│  └─ app/pool/worker-2 <app.3>',
      '└─ app/registry <app.4> name=registry',
    ].join('\n'),
  );
  rt.exit(pool, 'kill');
  t.is(formatTree(rt.tree()), ['app <app.0>', '└─ app/registry <app.4> name=registry'].join('\n'));
});
