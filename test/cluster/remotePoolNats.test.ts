/**
 * A pool of real Python workers in a child Node process, served over a real `nats-server`
 * (started here on 127.0.0.1), called from this process: results, typed Python errors, a
 * session bound to the child's node and worker, PoolUnreachableError for a pool nobody serves
 * (and noconnection for a monitor of a node nobody serves), and SessionLostError once the child
 * has gone. No Python process or server is left behind.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRuntime, Pool, pool, PythonError, pythonBridge, SessionLostError, silentLogger } from '../../src/index.js';
import { connectNats, remotePool, servePool, PoolUnreachableError } from '../../src/cluster/index.js';
import { exited, natsServer, startNats } from './natsServer.js';
import { ChildNode } from './childNode.js';

const fixture = fileURLToPath(new URL('./fixtures/poolNode.ts', import.meta.url));

const natsTest = natsServer === undefined ? test.skip : test;
if (natsServer === undefined) {
  console.log('test/cluster/remotePoolNats.test.ts: nats-server is not installed (apt-get install nats-server; .ci/run does): skipped');
}

natsTest('over NATS: a child node serves a Python pool; calls, a typed PythonError and a session work from this node; once it has gone the session is lost', async (t) => {
  t.timeout(60_000);
  const url = await startNats(t, natsServer!);
  const node = new ChildNode<{ id?: number; ready?: { node: string; pythonPids: number[] } }>('gpu', fixture, ['gpu', url]);
  const child = node.child;
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  });
  const ready = (await node.next((l) => l.ready !== undefined)).ready!;
  t.is(ready.pythonPids.length, 2);

  const rt = createRuntime({ name: 'front', logger: silentLogger, transport: await connectNats({ servers: url, cluster: 'test', heartbeatMs: 100, missedHeartbeats: 3 }) });
  t.teardown(() => rt.shutdown());
  const py = remotePool<{ echo: [unknown, unknown]; pid: [null, number]; raise: [{ type: string; message: string }, never] }>(rt, 'py');

  t.deepEqual(await py.run('echo', { list: [1, 'two'] }, { timeout: 5000 }), { list: [1, 'two'] });
  const err = await t.throwsAsync(py.run('raise', { type: 'ValueError', message: 'bad input' }), { instanceOf: PythonError });
  t.is(err?.type, 'ValueError');
  t.is((err as unknown as { node: string }).node, 'gpu');

  const home = await py.run('pid', null, { session: 's' });
  t.true(ready.pythonPids.includes(home));
  t.is(py.sessionNode('s'), 'gpu');
  for (let i = 0; i < 4; i++) t.is(await py.run('pid', null, { session: 's' }), home);

  await t.throwsAsync(remotePool(rt, 'nobody').run('pid', null), { instanceOf: PoolUnreachableError });
  // A monitor of a pid on a node nobody serves: NATS says "no responders", the watcher hears noconnection.
  const down = await new Promise<unknown>((resolve) => rt.monitor({ node: 'ghost', id: 1 }, (d) => resolve(d.reason)));
  t.is(down, 'noconnection');

  child.stdin!.write('quit\n');
  await exited(child);
  t.is(child.exitCode, 0);
  await t.throwsAsync(py.run('pid', null, { session: 's' }), { instanceOf: SessionLostError });
  await t.throwsAsync(py.run('pid', null), { instanceOf: PoolUnreachableError });
  t.deepEqual(ready.pythonPids.filter((pid) => existsSync(`/proc/${pid}`)), [], "the child's Python workers are gone");
});

natsTest('servePool(...).ready resolves once the server delivers calls to the node: a call made right after it is served, round after round', async (t) => {
  t.timeout(60_000);
  const url = await startNats(t, natsServer!);
  const serverTransport = await connectNats({ servers: url });
  const server = createRuntime({ name: 'server', transport: serverTransport, logger: silentLogger });
  const caller = createRuntime({ name: 'caller', transport: await connectNats({ servers: url }), logger: silentLogger });
  t.teardown(async () => {
    await caller.shutdown();
    await server.shutdown();
  });
  await server.start(pool({ name: 'py', size: 1, worker: pythonBridge({ module: 'xotp_bridge.examples' }) }));
  await Pool.ready(server, 'py');
  const py = remotePool(caller, 'py');
  // Each round serves afresh and calls at once from the other connection: without waiting for
  // `ready` the request can reach the server before the subscription does.
  for (let round = 0; round < 20; round++) {
    const service = servePool(server, 'py');
    await service.ready;
    t.is(await py.run('echo', round, { timeout: 5000 }), round);
    service.close();
    await serverTransport.connection.flush(); // the unsubscribe is at the server before the next round
  }
});
