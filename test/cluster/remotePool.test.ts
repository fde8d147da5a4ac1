/**
 * Pools reachable from other nodes, on the in-memory transport: runtimes on one `MemoryNetwork`,
 * each on its own simulated clock, serving real Python pools (`servePool`) to a node without
 * one (`remotePool`). Nodes serving the same pool share its calls through the queue group; a
 * session's calls go to the node that bound it; a departed node fails its sessions with
 * SessionLostError; nobody serving gives PoolUnreachableError at once.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { InvalidOptionError, MemoryNetwork, PythonError, SessionExpiredError, SessionLostError, SessionsDisabledError, TimeoutError, NotSerializableError } from '../../src/index.js';
import { remotePool, servePool, PoolUnreachableError, type PoolService } from '../../src/cluster/index.js';
import { startPool, workerOsPids } from '../helpers/pool.js';
import { distributionOf } from '../../src/runtime/distribution.js';

/** A call's outcome, readable before it settles. */
function watch<T>(promise: Promise<T>) {
  const w: { settled: boolean; error: unknown; done: Promise<unknown> } = { settled: false, error: undefined, done: Promise.resolve() };
  w.done = promise.then(
    () => (w.settled = true),
    (err: unknown) => {
      w.settled = true;
      w.error = err;
    },
  );
  return w;
}

type Ops = { pid: [null, number]; echo: [unknown, unknown]; raise: [{ type: string; message: string }, never]; async_gate: [{ name: string; value?: string }, string] };

/** A client node `a` and serving nodes `b` and `c`, each with a pool 'py' of one worker and sessions. */
async function cluster(t: { teardown: (fn: () => Promise<void>) => void }) {
  const net = new MemoryNetwork();
  const a = createTestRuntime({ name: 'a', transport: net });
  const b = createTestRuntime({ name: 'b', transport: net });
  const c = createTestRuntime({ name: 'c', transport: net });
  t.teardown(async () => {
    for (const rt of [a, b, c]) await rt[Symbol.asyncDispose]();
  });
  const osPid = new Map<string, number>();
  const services = new Map<string, PoolService>();
  for (const rt of [b, c]) {
    await startPool(rt, { name: 'py', size: 1, sessions: { ttl: 60_000 } });
    osPid.set(rt.name, [...(await workerOsPids(rt, 'py')).values()][0]!);
    services.set(rt.name, servePool(rt, 'py'));
  }
  return { net, a, b, c, osPid, services, nodeOf: (os: number) => [...osPid].find(([, p]) => p === os)?.[0] };
}

test.serial('two nodes serving one pool share its calls through the queue group; results and typed errors come back as from Pool.run', async (t) => {
  const { a, nodeOf } = await cluster(t);
  const py = remotePool<Ops>(a, 'py');
  const served: Array<string | undefined> = [];
  for (let i = 0; i < 4; i++) served.push(nodeOf(await py.run('pid', null)));
  t.deepEqual(served, ['b', 'c', 'b', 'c']);
  t.deepEqual(await py.run('echo', { list: [1, 'two', null] }), { list: [1, 'two', null] });
  const err = await t.throwsAsync(py.run('raise', { type: 'KeyError', message: 'nope' }), { instanceOf: PythonError });
  t.is(err?.code, 'python_error');
  t.is(err?.type, 'KeyError');
  t.is((err as unknown as { node: string }).node, 'c');
  await t.throwsAsync(py.run('echo', { when: new Date(0) }), { instanceOf: NotSerializableError });
});

test.serial("a session's first call goes through the queue group; every later one goes to the node that bound it; when that node leaves its calls fail with SessionLostError", async (t) => {
  const { net, a, osPid } = await cluster(t);
  const py = remotePool<Ops>(a, 'py');
  const first = await py.run('pid', null, { session: 's1' });
  const home = py.sessionNode('s1')!;
  t.is(osPid.get(home), first);
  const other = home === 'b' ? 'c' : 'b';
  const seen = new Set<number>();
  for (let i = 0; i < 4; i++) {
    seen.add(await py.run('pid', null, { session: 's1' }));
    await py.run('pid', null); // calls without a session rotate over both nodes meanwhile
  }
  t.deepEqual([...seen], [first]);

  // A session call in flight when its node goes, and one made after.
  const gated = watch(py.run('async_gate', { name: 'g' }, { session: 's1' }));
  await a.flush();
  net.disconnect(home);
  await gated.done;
  t.true(gated.error instanceof SessionLostError);
  t.regex((gated.error as Error).message, new RegExp(`its node '${home}' is gone`));
  await t.throwsAsync(py.run('pid', null, { session: 's1' }), { instanceOf: SessionLostError });
  // Not silently moved: the surviving node never saw the session; other calls go there.
  t.is(await py.run('pid', null), osPid.get(other)!);
  t.is(py.sessionNode('s1'), home);
  t.false(await py.endSession('s1'));
  t.is(await py.run('pid', null, { session: 's1' }), osPid.get(other)!, 'an ended session binds afresh');
});

test.serial('concurrent first calls of one session all land on the node that binds it', async (t) => {
  const { a, osPid } = await cluster(t);
  const py = remotePool<Ops>(a, 'py');
  const pids = await Promise.all([1, 2, 3, 4].map(() => py.run('pid', null, { session: 'together' })));
  t.deepEqual(new Set(pids), new Set([osPid.get(py.sessionNode('together')!)]));
  t.true(await py.endSession('together'));
});

test.serial('no node serving the pool: PoolUnreachableError at once, without advancing any clock; a closed service stops taking calls', async (t) => {
  const { a, c, osPid, services } = await cluster(t);
  const err = await t.throwsAsync(remotePool(a, 'nobody').run('pid', null), { instanceOf: PoolUnreachableError });
  t.is(err?.code, 'pool_unreachable');
  t.true(err?.retryable);
  const py = remotePool<Ops>(a, 'py');
  services.get('b')!.close();
  services.get('b')!.close();
  t.is(await py.run('pid', null), osPid.get('c')!);
  t.is(await py.run('pid', null), osPid.get('c')!, 'only c serves now');
  services.get('c')!.close();
  await t.throwsAsync(py.run('pid', null), { instanceOf: PoolUnreachableError });
  servePool(c, 'py');
  t.is(await py.run('pid', null), osPid.get('c')!);
});

test.serial("a pool's own errors travel typed: SessionsDisabledError from a pool without sessions", async (t) => {
  const net = new MemoryNetwork();
  await using a = createTestRuntime({ name: 'a', transport: net });
  await using b = createTestRuntime({ name: 'b', transport: net });
  await startPool(b, { name: 'plain', size: 1 });
  servePool(b, 'plain');
  const plain = remotePool(a, 'plain');
  const err = await t.throwsAsync(plain.run('pid', null, { session: 's' }), { instanceOf: SessionsDisabledError });
  t.is(err?.code, 'sessions_disabled');
  t.is(plain.sessionNode('s'), 'b', 'the answer named the node, as for any session call');
});

test.serial("a call without a session whose node goes mid-call fails with TimeoutError once the run's timeout and checkout timeout (plus a second) pass on the caller's clock", async (t) => {
  const { net, a, b } = await cluster(t);
  const py = remotePool<Ops>(a, 'py', { checkoutTimeout: 2000 });
  const gated = watch(py.run('async_gate', { name: 'h' }, { timeout: 10_000 }));
  await a.flush();
  net.disconnect('b');
  await a.advance(12_999);
  t.false(gated.settled);
  await a.advance(1);
  await gated.done;
  t.true(gated.error instanceof TimeoutError);
  t.is((gated.error as TimeoutError).timeout, 13_000);
  t.is(b.name, 'b');
});

test('servePool and remotePool refuse a runtime without a transport and a pool name that cannot be a subject', async (t) => {
  await using rt = createTestRuntime();
  t.throws(() => servePool(rt, 'py'), { instanceOf: InvalidOptionError });
  t.throws(() => remotePool(rt, 'py'), { instanceOf: InvalidOptionError });
  const net = new MemoryNetwork();
  await using a = createTestRuntime({ name: 'a', transport: net });
  t.throws(() => remotePool(a, 'py.*'), { instanceOf: InvalidOptionError });
  t.throws(() => servePool(a, ''), { instanceOf: InvalidOptionError });
});

test.serial("a session that expired on its node keeps failing there with SessionExpiredError: its retired route still routes, it never binds afresh on another node", async (t) => {
  const { a, b, c } = await cluster(t);
  const py = remotePool<Ops>(a, 'py');
  await py.run('pid', null, { session: 'idle' });
  const home = py.sessionNode('idle')!;
  // Past the TTL (60 s) and the sweep after it, on the serving nodes' clocks.
  await b.advance(121_000);
  await c.advance(121_000);
  for (let i = 0; i < 2; i++) {
    const err = await t.throwsAsync(py.run('pid', null, { session: 'idle' }), { instanceOf: SessionExpiredError });
    t.is((err as unknown as { node: string }).node, home);
  }
  t.is(py.sessionNode('idle'), home);
  t.false(await py.endSession('idle'));
});

test.serial("servePool's answer to a session's call carries the pool's session TTL (what the caller's routes follow); a call without a session gets none", async (t) => {
  const { a } = await cluster(t);
  const endpoint = distributionOf(a)!.endpoint;
  const ask = async (session?: string) =>
    JSON.parse(await endpoint.request('pool.py', JSON.stringify({ op: 'echo', args: 1, timeout: 5000, checkoutTimeout: 5000, ...(session ? { session } : {}) }), { timeout: 5000 })) as { ok: boolean; ttl?: number };
  const withSession = await ask('w');
  t.true(withSession.ok);
  t.is(withSession.ttl, 60_000);
  t.is((await ask()).ttl, undefined);
});
