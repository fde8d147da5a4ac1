/**
 * Cluster names on JetStream KV against a real nats-server: one winner per unique name; an
 * owner that cannot renew stops its process before another node may take the name.
 * Two runtimes in this process, each with its own NATS connection (real time: leases are
 * short, and the assertions compare the order of events, never durations). A lease is 2 s, not
 * less: with 600 ms, a test process starved for a second on a loaded machine let leases run out
 * where the test did not mean them to (both racers won, a standby won at its first try).
 */
import test, { type ExecutionContext } from 'ava';
import { fromCallback } from 'xstate';
import { AlreadyRegisteredError, createRuntime, silentLogger } from '../../src/index.js';
import { createTestRuntime } from '../../src/testing/index.js';
import { clusterGroups, clusterNames, connectNats, type ClusterNamesOptions } from '../../src/cluster/index.js';
import { natsServer, startNats } from './natsServer.js';

const idle = fromCallback(() => () => undefined);
const natsTest = natsServer === undefined ? test.skip : test;

async function node(t: ExecutionContext, url: string, name: string, lease: ClusterNamesOptions = { leaseMs: 2000, renewMs: 400, marginMs: 300 }) {
  const transport = await connectNats({ servers: url, cluster: 'names', heartbeatMs: 100 });
  const runtime = createRuntime({ name, transport, logger: silentLogger });
  const names = await clusterNames(runtime, transport, lease);
  t.teardown(async () => {
    await names.close().catch(() => undefined);
    await runtime.shutdown();
  });
  return { transport, runtime, names };
}

natsTest('a race for one unique name across two nodes has exactly one winner; both see it', async (t) => {
  t.timeout(30_000);
  const url = await startNats(t, natsServer!);
  const a = await node(t, url, 'a');
  const b = await node(t, url, 'b');
  const pa = a.runtime.spawn(idle);
  const pb = b.runtime.spawn(idle);
  const outcomes = await Promise.allSettled([a.names.register('leader', pa), b.names.register('leader', pb)]);
  const won = outcomes.filter((o) => o.status === 'fulfilled');
  const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  t.is(won.length, 1);
  t.is(lost.length, 1);
  t.true(lost[0]!.reason instanceof AlreadyRegisteredError);
  const winner = outcomes[0]!.status === 'fulfilled' ? pa : pb;
  t.is(String((lost[0]!.reason as AlreadyRegisteredError).owner), String(winner));
  // Each node answers from its watcher's view: wait until it has seen the write.
  await Promise.all([a.names.sync(), b.names.sync()]);
  t.is(String(a.names.whereis('leader')), String(winner));
  t.is(String(b.names.whereis('leader')), String(winner));
});

natsTest('an owner that cannot renew stops its process before the other node can take the name; the owner dying frees it at once', async (t) => {
  t.timeout(30_000);
  const url = await startNats(t, natsServer!);
  const a = await node(t, url, 'a');
  const b = await node(t, url, 'b');
  const pa = a.runtime.spawn(idle);
  await a.names.register('leader', pa);
  const order: string[] = [];
  a.runtime.events.on('process.exited', ({ pid }) => {
    if (String(pid) === String(pa)) order.push('old owner stopped');
  });
  // The owner's node loses the server: its renewals fail from now on.
  await a.transport.connection.close();
  const pb = b.runtime.spawn(idle);
  // claim waits for the lease beta's view saw to run out, then takes the name: no polling.
  const taken = await b.names.claim('leader', pb);
  order.push('taken over');
  t.deepEqual(taken.replaced?.pid, pa, "beta took over alpha's lease");
  t.true(taken.attempts > 1, 'the name was not free before the lease ran out');
  t.deepEqual(order, ['old owner stopped', 'taken over'], 'never two owners at once');
  t.is(String(b.names.whereis('leader')), String(pb));

  // The new owner's process exits: the name is freed without waiting for a lease, and a third
  // node's listener hears of it from the bucket's watcher.
  const c = await node(t, url, 'c', { leaseMs: 2000, renewMs: 400, marginMs: 300, listeners: ['listener'] });
  const heard = new Promise<unknown>((resolve) => {
    c.runtime.spawn(fromCallback(({ receive }) => receive((e) => e.type === 'xotp.registry.unregister' && resolve(e))), { name: 'listener' });
  });
  await b.runtime.stop(pb);
  t.deepEqual(await heard, { type: 'xotp.registry.unregister', registry: 'cluster', key: 'leader', pid: pb });
  t.is(c.names.whereis('leader'), undefined);
});

natsTest('regression: a name freed while a renewal is in flight is deleted, not left held until its lease runs out', async (t) => {
  t.timeout(30_000);
  const url = await startNats(t, natsServer!);
  const transport = await connectNats({ servers: url, cluster: 'names' });
  // Simulated time: the renewal tick fires exactly when the test says.
  const rt = createTestRuntime({ name: 'a', transport });
  const names = await clusterNames(rt, transport, { leaseMs: 60_000, renewMs: 1000, marginMs: 0 });
  t.teardown(async () => {
    await names.close();
    await rt.dispose();
  });
  const pid = rt.spawn(idle);
  await names.register('leader', pid);
  // The tick sends a renewal; it is in flight (it writes a new revision) while we unregister.
  await rt.advance(1000);
  t.true(await names.unregister('leader'));
  await names.sync();
  t.is(names.whereis('leader'), undefined, 'the delete named the revision the renewal wrote');
});

natsTest("regression: a runtime shut down without closing its cluster names and groups leaves no renewal timer behind (it kept the Node process alive)", async (t) => {
  t.timeout(30_000);
  const url = await startNats(t, natsServer!);
  const transport = await connectNats({ servers: url, cluster: 'names' });
  const rt = createTestRuntime({ name: 'a', transport });
  const names = await clusterNames(rt, transport, { leaseMs: 60_000, renewMs: 1000 });
  await clusterGroups(rt, transport, { leaseMs: 60_000, renewMs: 1000 });
  await names.register('leader', rt.spawn(idle));
  // dispose shuts the runtime down and fails with LeakError on any timer left over.
  await t.notThrowsAsync(rt.dispose());
});
