import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { defineServer, dynamicSupervisor, startChild, supervisor, registry, circuitBreaker, type Pid } from '../../src/index.js';
import { formatTree, inspectTree, recordLifecycle, serializeReason, toMermaid, type InspectedNode } from '../../src/inspect/index.js';

const worker = defineServer<number, number | undefined, 'get', number, 'crash'>({
  name: 'worker',
  init: (n) => ({ state: n ?? 0 }),
  handleCall: (_req, _from, n) => ({ reply: n }),
  handleCast: () => {
    throw new Error('boom');
  },
});

const app = () =>
  supervisor({
    children: [
      { id: 'services', start: registry({ name: 'Services', keys: 'unique' }) },
      { id: 'jobs', name: 'jobs', start: dynamicSupervisor({ label: 'jobs' }) },
      { id: 'cache', start: worker, input: 7 },
    ],
  });

const find = (node: InspectedNode, id: string): InspectedNode | undefined =>
  node.id === id ? node : node.children.map((c) => find(c, id)).find((n) => n !== undefined);

test('inspectTree gives each node its kind, state, restart count and last exit reason as text', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  const log = recordLifecycle(rt);
  t.teardown(() => log.dispose());
  await rt.start(app(), { name: 'top' });
  const started = await startChild(rt, 'jobs', { start: worker, input: 1 });
  const pid = (started as { pid: Pid }).pid;
  const restarted = rt.trace.next('supervisor.childStarted', (e) => e.restart);
  rt.cast(pid, 'crash');
  const again = await restarted;

  const tree = inspectTree(rt, { log });
  t.is(tree.kind, 'runtime');
  const top = find(tree, 'app/top')!;
  t.like(top, { kind: 'supervisor', state: 'running', name: 'top', trapExit: true });
  t.deepEqual(top.supervisor, { strategy: 'one_for_one', restartsInWindow: 0, idleChildren: [] });
  t.like(find(tree, 'app/top/services'), { kind: 'registry', childId: 'services', restarts: 0 });
  t.like(find(tree, 'app/top/cache'), { kind: 'server', state: 'running', childId: 'cache', restarts: 0 });
  const w = find(tree, `app/top/jobs/worker-${pid.id}`)!;
  t.like(w, { kind: 'server', pid: String(again.pid), childId: `worker-${pid.id}`, restarts: 1, lastExit: 'Error: boom' });
  t.deepEqual(w.links, [String(rt.whereis('jobs'))]);
  t.deepEqual(
    w.recentExits!.map((e) => [e.pid, e.reason, e.data]),
    [[String(pid), 'Error: boom', { name: 'Error', message: 'boom' }]],
  );
  t.deepEqual(
    w.history!.map((h) => [h.event, h.pid, h.detail]),
    [
      ['spawned', String(pid), undefined],
      ['exited', String(pid), 'Error: boom'],
      ['spawned', String(again.pid), undefined],
      ['restarted', String(again.pid), `restart 1, replaces ${String(pid)}`],
    ],
  );
  t.is(JSON.parse(JSON.stringify(tree)).children[0].id, 'app/top', 'JSON-safe');
});

test('formatTree renders an inspected tree with kinds, states, restarts and reasons', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  await rt.start(app(), { name: 'top' });
  const started = (await startChild(rt, 'jobs', { start: worker })) as { pid: Pid };
  const restarted = rt.trace.next('supervisor.childStarted', (e) => e.restart);
  rt.cast(started.pid, 'crash');
  const again = await restarted;
  t.is(
    formatTree(inspectTree(rt)),
    [
      'app <app.0> [runtime running]',
      '└─ app/top <app.1> name=top [supervisor running]',
      '   ├─ app/top/services <app.2> [registry running]',
      '   │  └─ app/top/services/partition-0 <app.3> [server running]',
      '   ├─ app/top/jobs <app.4> name=jobs [supervisor running]',
      `   │  └─ app/top/jobs/worker-6 ${String(again.pid)} [server running] restarts=1 last exit: Error: boom`,
      '   └─ app/top/cache <app.5> [server running]',
    ].join('\n'),
  );
});

test('toMermaid exports the tree as a flowchart, coloured by state', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  await rt.start(supervisor({ children: [{ id: 'a', start: worker }] }), { name: 'top' });
  t.is(
    toMermaid(inspectTree(rt)),
    [
      'flowchart TD',
      '  p0["app #60;app.0#62;<br/>runtime · running"]',
      '  p0 --> p1',
      '  p1["top #60;app.1#62;<br/>supervisor · running"]',
      '  p1 --> p2',
      '  p2["a #60;app.2#62;<br/>server · running"]',
      '  classDef ok fill:#b7e4c7,stroke:#333,color:#111',
      '  class p0,p1,p2 ok',
    ].join('\n'),
  );
  t.is(toMermaid(rt.tree()).split('\n')[1], '  p0["app #60;app.0#62;"]', 'a plain tree() works too');
});

test('a circuit breaker shows as a breaker with its state', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  rt.spawn(circuitBreaker({ name: 'cb', failureThreshold: 2, resetTimeout: 1000 }), { name: 'cb' });
  const node = find(inspectTree(rt), 'app/cb')!;
  t.like(node, { kind: 'breaker', state: 'closed', breaker: { state: 'closed', failures: 0, opened: 0, rejected: 0 } });
});

test('serializeReason keeps what JSON loses: errors, codes, causes, pids, nested shutdown tuples', (t) => {
  class CodedError extends Error {
    code = 'E_X';
    detail = { n: 1 };
  }
  const err = new CodedError('bad', { cause: new TypeError('inner') });
  err.name = 'CodedError';
  t.deepEqual(serializeReason(err), { name: 'CodedError', message: 'bad', code: 'E_X', detail: { n: 1 }, cause: { name: 'TypeError', message: 'inner' } });
  t.deepEqual(serializeReason({ shutdown: new Error('drained') }), { shutdown: { name: 'Error', message: 'drained' } });
  t.is(serializeReason('shutdown'), 'shutdown');
  t.is(serializeReason({ node: 'app', id: 3 }), '<app.3>');
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  t.deepEqual(serializeReason(loop), { self: '[circular]' });
  t.regex((serializeReason(new Error('x'), { stack: true }) as { stack: string }).stack, /Error: x\n\s+at /);
});
