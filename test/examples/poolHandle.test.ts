import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { PythonError, SessionsDisabledError, pool, poolHandle, pythonBridge, type PoolHandle } from '../../src/index.js';

/** Operations of python/xotp_bridge/examples.py used here, declared once. */
type ExampleOps = {
  echo: [{ n: number }, { n: number }];
  pid: [undefined, number];
  raise: [{ type: 'ValueError'; message: string }, never];
};

test('poolHandle: run, checkout (typed worker calls), status, ready, session and endSession on one pool, bound once to the runtime and the name', async (t) => {
  await using rt = createTestRuntime();
  const py = poolHandle<ExampleOps>(rt, 'p');
  t.is(py.name, 'p');
  await rt.start(pool({ name: 'p', size: 2, worker: pythonBridge({ module: 'xotp_bridge.examples' }), sessions: { ttl: 60_000 } }));
  t.is((await py.ready()).ready, 2);

  t.deepEqual(await py.run('echo', { n: 1 }), { n: 1 });
  const [a, b] = await py.checkout(async (worker) => [await worker.call('pid', undefined), await worker.call('pid', undefined)]);
  t.is(a, b, "a checkout's calls all run on its one worker");

  const first = await py.run('pid', undefined, { session: 's1' });
  t.is(await py.run('pid', undefined, { session: 's1' }), first);
  const bound = await py.session('s1');
  t.is(bound.state, 'bound');
  t.true(await py.endSession('s1'));
  t.deepEqual(await py.session('s1'), { state: 'unknown' });

  const status = await py.status();
  t.is(status.workers.length, 2);
  await t.throwsAsync(py.run('raise', { type: 'ValueError', message: 'no' }), { instanceOf: PythonError });
});

test('poolHandle: the handle throws what Pool does (a pool without sessions refuses a session)', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'q', size: 1, worker: pythonBridge({ module: 'xotp_bridge.examples' }) }));
  const q = poolHandle<ExampleOps>(rt, 'q');
  await q.ready();
  await t.throwsAsync(q.run('echo', { n: 2 }, { session: 's' }), { instanceOf: SessionsDisabledError });
});

test('poolHandle: a name that is not a non-empty string is refused', (t) => {
  const rt = createTestRuntime();
  t.throws(() => poolHandle(rt, ''), { code: 'invalid_option' });
  return rt.dispose();
});

// Type-level tests: `tsc --noEmit -p tsconfig.json` (npm test) fails if any of these compile,
// since an unused @ts-expect-error is itself an error. Never run.
export function typeChecks(py: PoolHandle<ExampleOps>) {
  // @ts-expect-error an op the pool does not declare
  void py.run('embed', { n: 1 });
  // @ts-expect-error the wrong argument type for echo
  void py.run('echo', { n: 'one' });
  // @ts-expect-error a missing argument field
  void py.run('echo', {});
  // @ts-expect-error the result is { n: number }, not a string
  const s: Promise<string> = py.run('echo', { n: 1 });
  void py.checkout(async (w) => {
    // @ts-expect-error a typed worker checks its calls too
    await w.call('echo', { n: true });
    const n: number = (await w.call('echo', { n: 1 })).n;
    return n;
  });
  // An interface works as the ops declaration, too.
  interface Ops {
    score: [{ text: string }, number];
  }
  const typed = {} as PoolHandle<Ops>;
  const score: Promise<number> = typed.run('score', { text: 'x' });
  return [s, score];
}
