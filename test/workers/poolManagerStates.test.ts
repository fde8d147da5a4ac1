import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { pool, Pool, pythonBridge, type Pid } from '../../src/index.js';

test.serial('the pool manager is a machine whose state says where the pool is: warming, ready, warming again while a worker is replaced', async (t) => {
  await using rt = createTestRuntime();
  const sup = (await rt.start(pool({ name: 'p', size: 2, worker: pythonBridge({ module: 'xotp_bridge.examples' }) }))) as Pid;
  const manager = rt.actorOf('p')!;
  const values: string[] = [];
  const sub = manager.subscribe((s) => {
    const v = String((s as { value: unknown }).value);
    if (values.at(-1) !== v) values.push(v);
  });
  t.is(String(manager.getSnapshot().value), 'warming');
  const status = await Pool.ready(rt, 'p');
  await rt.flush();
  t.is(String(manager.getSnapshot().value), 'ready');
  const victim = status.workers[0]!.pid;
  rt.exit(victim, 'kill');
  t.is(String(manager.getSnapshot().value), 'warming', 'a worker short: warming while its replacement starts');
  await Pool.ready(rt, 'p');
  await rt.flush();
  t.is(String(manager.getSnapshot().value), 'ready');
  t.deepEqual(values, ['warming', 'ready', 'warming', 'ready']);
  sub.unsubscribe();
  await rt.stop(sup, 'shutdown');
  t.deepEqual(rt.trace.exits().filter((e) => e.id.endsWith('/manager')).map((e) => e.reason), ['shutdown']);
});
