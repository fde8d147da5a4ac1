/**
 * Cluster names as the runtime's name service: `{ via: 'cluster', key }` (and plain names with
 * `nameRegistries: ['cluster']`) resolve synchronously, from the node's view of the bucket, to a
 * process of another node, and send, cast, call, monitor and stop reach it; the bucket's changes
 * reach the service's listeners as a registry's events. Two runtimes in this process, each with
 * its own connection to a real nats-server; every wait is on an event or on `sync()`.
 */
import test, { type ExecutionContext } from 'ava';
import { fromCallback } from 'xstate';
import { InvalidOptionError, NoProcessError, createRuntime, defineServer, silentLogger, type Pid, type RuntimeOptions } from '../../src/index.js';
import { clusterNames, connectNats, type ClusterNamesOptions } from '../../src/cluster/index.js';
import { natsServer, startNats } from './natsServer.js';

const natsTest = natsServer === undefined ? test.skip : test;
const lease = { leaseMs: 3000, renewMs: 500, marginMs: 300 };

async function node(t: ExecutionContext, url: string, name: string, options: ClusterNamesOptions = {}, runtimeOptions: Partial<RuntimeOptions> = {}) {
  const transport = await connectNats({ servers: url, cluster: 'svc', heartbeatMs: 100 });
  const runtime = createRuntime({ name, transport, logger: silentLogger, ...runtimeOptions });
  const names = await clusterNames(runtime, transport, { ...lease, ...options });
  t.teardown(async () => {
    await names.close();
    await runtime.shutdown();
  });
  return { runtime, names };
}

const greeter = defineServer<string[], undefined, string, string>({
  name: 'greeter',
  init: () => ({ state: [] }),
  handleCall: (who, _from, heard, ctx) => ({ reply: who === 'heard?' ? heard.join(',') : `hello ${who} from ${String(ctx.self)}`, state: heard }),
  handleCast: (note, heard) => ({ state: [...heard, String(note)] }),
  handleInfo: (msg, heard) => ({ state: [...heard, (msg as { type: string }).type] }),
});

natsTest('a cluster name resolves on another node: whereis, call, cast, send, monitor and stop by { via } and by plain name', async (t) => {
  t.timeout(30_000);
  const url = await startNats(t, natsServer!);
  const a = await node(t, url, 'a');
  const b = await node(t, url, 'b', {}, { nameRegistries: ['cluster'] });
  const pid = (await a.runtime.start(greeter)) as Pid;
  await a.names.register('greeter', pid);
  await b.names.sync();

  const via = { via: 'cluster', key: 'greeter' };
  t.is(String(b.runtime.whereis(via)), String(pid));
  t.is(String(b.runtime.whereis('greeter')), String(pid), 'plain names go through nameRegistries');
  t.deepEqual(b.runtime.resolve(via), { ok: true, pid: b.names.whereis('greeter') });
  t.is(await b.runtime.call(via, 'b'), `hello b from ${String(pid)}`);
  t.is(await b.runtime.call('greeter', 'b again'), `hello b again from ${String(pid)}`);
  b.runtime.cast(via, 'a note');
  b.runtime.send('greeter', { type: 'ping' });
  // Messages between two nodes arrive in order: a call after them sees them handled.
  t.is(await b.runtime.call(via, 'heard?'), 'a note,ping');

  const down = new Promise<unknown>((resolve) => b.runtime.monitor(via, (d) => resolve(d.reason)));
  // A call made after the monitor travels the same path, so the monitor is in place when it answers.
  await b.runtime.call(via, 'sync');
  t.is(await b.runtime.stop(via, 'shutdown'), 'ok');
  t.is(await down, 'shutdown');

  // The holder exited: its node deleted the name; once b's view has the delete, the name is unknown.
  await b.names.sync();
  t.is(b.runtime.whereis(via), undefined);
  const err = await t.throwsAsync(b.runtime.call(via, 'anyone?'), { instanceOf: NoProcessError });
  t.is(err?.code, 'noproc');
  t.throws(() => b.runtime.send(via, { type: 'x' }), { instanceOf: NoProcessError });
});

natsTest('cluster names cannot be given at spawn (registering waits for the bucket): InvalidOptionError says how', async (t) => {
  t.timeout(30_000);
  const url = await startNats(t, natsServer!);
  const a = await node(t, url, 'a');
  const before = a.runtime.processes().length;
  const err = t.throws(() => a.runtime.spawn(fromCallback(() => () => undefined), { name: { via: 'cluster', key: 'x' } }), { instanceOf: InvalidOptionError });
  t.regex(err!.message, /ClusterNames\.register/);
  t.is(a.runtime.processes().length, before, 'the spawn left nothing behind');
});

natsTest("the bucket's changes reach the service's listeners as registry events: register, takeover, unregister", async (t) => {
  t.timeout(30_000);
  const url = await startNats(t, natsServer!);
  const a = await node(t, url, 'a');
  const b = await node(t, url, 'b', { listeners: ['names-listener'] });
  const heard: unknown[] = [];
  let wake: (() => void) | undefined;
  b.runtime.spawn(
    fromCallback(({ receive }) =>
      receive((e) => {
        heard.push(e);
        wake?.();
      }),
    ),
    { name: 'names-listener' },
  );
  const heardCount = (n: number) =>
    new Promise<void>((resolve) => {
      wake = () => heard.length >= n && resolve();
      wake();
    });
  const p1 = a.runtime.spawn(greeter);
  await a.names.register('svc', p1);
  await heardCount(1);
  const p2 = a.runtime.spawn(greeter);
  // A claim for a name held by a live process waits; freeing it hands the name over at once.
  const claimed = a.names.claim('svc', p2);
  await a.names.unregister('svc');
  t.is((await claimed).replaced, undefined, 'freed, not taken over');
  await heardCount(3);
  t.is(String(b.names.whereis('svc')), String(p2));
  await a.runtime.stop(p2);
  await heardCount(4);
  t.deepEqual(heard, [
    { type: 'xotp.registry.register', registry: 'cluster', key: 'svc', pid: p1, value: undefined },
    { type: 'xotp.registry.unregister', registry: 'cluster', key: 'svc', pid: p1 },
    { type: 'xotp.registry.register', registry: 'cluster', key: 'svc', pid: p2, value: undefined },
    { type: 'xotp.registry.unregister', registry: 'cluster', key: 'svc', pid: p2 },
  ]);
});
