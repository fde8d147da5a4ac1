/**
 * Duplicate keys across nodes (cluster groups) on a real nats-server: members of several nodes
 * under one key, each leased by its own node; a member that exits is removed at once, a node
 * that goes silent loses its members when their lease runs out (and another node deletes them
 * after the margin); listeners hear it all as a registry's events. Two runtimes in this process,
 * each with its own connection; every wait is on an event or on `sync()`.
 */
import test, { type ExecutionContext } from 'ava';
import { fromCallback } from 'xstate';
import { RegistryKindError, createRuntime, silentLogger, type Pid } from '../../src/index.js';
import { clusterGroups, connectNats, type ClusterGroupsOptions } from '../../src/cluster/index.js';
import { natsServer, startNats } from './natsServer.js';

const natsTest = natsServer === undefined ? test.skip : test;
const idle = fromCallback(() => () => undefined);
const lease = { leaseMs: 2000, renewMs: 400, marginMs: 300 };

async function node(t: ExecutionContext, url: string, name: string, options: ClusterGroupsOptions = {}) {
  const transport = await connectNats({ servers: url, cluster: 'groups', heartbeatMs: 100 });
  const runtime = createRuntime({ name, transport, logger: silentLogger });
  const groups = await clusterGroups(runtime, transport, { ...lease, ...options });
  t.teardown(async () => {
    await groups.close();
    await runtime.shutdown();
  });
  return { transport, runtime, groups };
}

/** A listener process; `heard(n)` resolves once it has received n events. */
function listener(runtime: ReturnType<typeof createRuntime>, name: string) {
  const events: unknown[] = [];
  const waiting: Array<{ n: number; resolve: () => void }> = [];
  runtime.spawn(
    fromCallback(({ receive }) =>
      receive((e) => {
        events.push(e);
        for (const w of [...waiting]) if (events.length >= w.n) waiting.splice(waiting.indexOf(w), 1), w.resolve();
      }),
    ),
    { name },
  );
  return {
    events,
    heard: (n: number) => new Promise<void>((resolve) => (events.length >= n ? resolve() : waiting.push({ n, resolve }))),
  };
}

const byPid = (entries: Array<{ pid: Pid; value: unknown }>) => entries.map((e) => ({ pid: String(e.pid), value: e.value })).sort((x, y) => x.pid.localeCompare(y.pid));

natsTest('members of two nodes under one key: both nodes see both; one that exits is removed at once; listeners hear each change', async (t) => {
  t.timeout(30_000);
  const url = await startNats(t, natsServer!);
  const a = await node(t, url, 'a');
  const b = await node(t, url, 'b', { listeners: ['group-listener'] });
  const heard = listener(b.runtime, 'group-listener');
  const p1 = a.runtime.spawn(idle);
  const p2 = b.runtime.spawn(idle);
  await a.groups.register('workers', p1, { gpu: 1 });
  await b.groups.register('workers', p2, { gpu: 2 });
  await Promise.all([a.groups.sync(), b.groups.sync()]);

  const both = [
    { pid: String(p1), value: { gpu: 1 } },
    { pid: String(p2), value: { gpu: 2 } },
  ];
  t.deepEqual(byPid(a.groups.lookup('workers')), both);
  t.deepEqual(byPid(b.groups.lookup('workers')), both);
  t.deepEqual(b.groups.keys(p1), ['workers']);
  t.is(b.groups.count(), 2);
  let dispatched = 0;
  b.groups.dispatch('workers', (entries) => (dispatched += entries.length));
  t.is(dispatched, 2);
  b.groups.dispatch('nobody', () => t.fail('never called for an empty group'));

  await heard.heard(2);
  await a.runtime.stop(p1);
  t.deepEqual(byPid(a.groups.lookup('workers')), [both[1]!], 'its own node forgets it at once');
  await heard.heard(3);
  t.deepEqual(byPid(b.groups.lookup('workers')), [both[1]!]);
  t.deepEqual(heard.events.map((e) => ({ ...(e as { type: string }), pid: String((e as { pid: Pid }).pid) })).sort((x, y) => x.type.localeCompare(y.type) || x.pid.localeCompare(y.pid)), [
    { type: 'xotp.registry.register', registry: 'cluster_groups', key: 'workers', pid: String(p1), value: { gpu: 1 } },
    { type: 'xotp.registry.register', registry: 'cluster_groups', key: 'workers', pid: String(p2), value: { gpu: 2 } },
    { type: 'xotp.registry.unregister', registry: 'cluster_groups', key: 'workers', pid: String(p1) },
  ]);
});

natsTest("a node that goes silent loses its members once their lease runs out; another node deletes them after the margin", async (t) => {
  t.timeout(30_000);
  const url = await startNats(t, natsServer!);
  const a = await node(t, url, 'a');
  const b = await node(t, url, 'b', { listeners: ['group-listener'] });
  const heard = listener(b.runtime, 'group-listener');
  const p1 = a.runtime.spawn(idle);
  await a.groups.register('workers', p1, null);
  await heard.heard(1);
  t.is(b.groups.lookup('workers').length, 1);
  // a loses the server (as a crashed or cut-off node would): it can neither renew nor delete.
  await a.transport.connection.close();
  await heard.heard(2);
  t.like(heard.events[1], { type: 'xotp.registry.unregister', key: 'workers' });
  t.is(b.groups.lookup('workers').length, 0);
  t.is(b.groups.count(), 0);
});

natsTest('a group is not a via name: it stands for many processes (RegistryKindError, as a duplicate Registry)', async (t) => {
  t.timeout(30_000);
  const url = await startNats(t, natsServer!);
  const a = await node(t, url, 'a');
  t.throws(() => a.runtime.whereis({ via: 'cluster_groups', key: 'workers' }), { instanceOf: RegistryKindError });
  t.throws(() => a.runtime.spawn(idle, { name: { via: 'cluster_groups', key: 'workers' } }), { instanceOf: RegistryKindError });
});
