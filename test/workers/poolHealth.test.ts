/**
 * Worker lifecycle with health checks: states starting, ready, busy, degraded, unhealthy,
 * terminating, with a transition history in `status.workers[].history`; pings every
 * `health.interval` on the simulated clock; consecutive failures (failed or timed-out pings,
 * error check-ins) degrade a worker, then replace it at `maxFailures`.
 *
 * Pings are made to fail deterministically by test/fixtures/xotp_bridge_pool_worker.py: a file
 * `ping-fail-<pid>` makes that worker's `xotp.ping` raise; `ping-block-<pid>` makes it hold
 * Python's main thread (so it answers nothing) until the file is removed. Ping timeouts and
 * intervals run on the simulated clock.
 */
import test from 'ava';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import {
  Pool,
  pool,
  callBridge,
  BridgeExitedError,
  SessionLostError,
  TimeoutError,
  WorkerLifecycle,
  InvalidTransitionError,
  type Pid,
  type PoolStatus,
  type PoolWorkerStatus,
} from '../../src/index.js';
import { rejectionOf, track } from '../helpers/bridge.js';
import { fixtureDir, fixtureWorker, flagOff, flagOn, hold, nextSettled, osPidOf, pythonChildren, until, workerIds } from '../helpers/pool.js';

const INTERVAL = 1000;

async function startHealthPool(rt: TestRuntime, dir: string, size: number, health: { interval: number; timeout?: number; maxFailures?: number }, extra: Record<string, unknown> = {}) {
  await rt.start(pool({ name: 'p', size, worker: fixtureWorker(dir), health, ...extra }));
  return Pool.ready(rt, 'p');
}

/** How many pings the worker got; once it answers, every earlier ping's reply has been handled. */
async function settle(rt: TestRuntime, worker: Pid): Promise<number> {
  const n = await callBridge<number>(rt, worker, 'ping_count');
  await rt.flush();
  return n;
}

function row(status: PoolStatus, worker: Pid): PoolWorkerStatus {
  const r = status.workers.find((w) => w.pid.id === worker.id);
  if (!r) throw new Error(`worker ${worker.id} is not in the pool`);
  return r;
}

function path(r: PoolWorkerStatus): string[] {
  return (r.history ?? []).map((h) => `${h.from}→${h.to}`);
}

test('WorkerLifecycle: the transition table, refused transitions change nothing, history records reason and time', async (t) => {
  await using rt = createTestRuntime();
  const lc = new WorkerLifecycle();
  t.is(rt.clock.now(), 0);
  t.is(lc.state, 'starting');
  t.false(lc.available);
  t.throws(() => lc.go('busy', 'checkout', 1), { instanceOf: InvalidTransitionError, message: /no transition starting → busy/ }, 'starting → busy is refused, loudly');
  t.is(lc.state, 'starting');
  t.deepEqual(lc.history, []);
  const steps: Array<[Parameters<WorkerLifecycle['go']>[0], string]> = [
    ['ready', 'handshake'],
    ['busy', 'checkout'],
    ['ready', 'checkin'],
    ['degraded', 'health check failed'],
    ['busy', 'checkout'],
    ['degraded', 'checkin error'],
    ['ready', 'health_restored'],
    ['unhealthy', 'health check failed'],
    ['terminating', 'replace'],
  ];
  steps.forEach(([to, reason], i) => t.notThrows(() => lc.go(to, reason, (i + 1) * 10), `→ ${to}`));
  t.is(lc.history.length, steps.length, 'one entry per transition (seed error 18 counted one short)');
  t.deepEqual(lc.history[0], { from: 'starting', to: 'ready', reason: 'handshake', at: 10 });
  t.deepEqual(lc.history.at(-1), { from: 'unhealthy', to: 'terminating', reason: 'replace', at: 90 });
  for (const to of ['starting', 'ready', 'busy', 'degraded', 'unhealthy', 'terminating'] as const) {
    t.throws(() => lc.go(to, 'x', 100), { instanceOf: InvalidTransitionError }, `terminating → ${to} is refused`);
  }
  t.is(lc.state, 'terminating');
  t.is(lc.history.length, steps.length);
  const unhealthy = new WorkerLifecycle();
  unhealthy.go('ready', 'handshake', 0);
  unhealthy.go('unhealthy', 'x', 0);
  t.throws(() => unhealthy.go('ready', 'x', 0), { instanceOf: InvalidTransitionError }, 'unhealthy only goes to terminating');
  t.false(unhealthy.available);
  const bounded = new WorkerLifecycle(4);
  bounded.go('ready', 'handshake', 0);
  for (let i = 0; i < 10; i++) bounded.go(i % 2 ? 'ready' : 'busy', 'x', i);
  t.is(bounded.history.length, 4, 'the history keeps the latest maxHistory transitions');
  t.is(bounded.history.at(-1)!.at, 9);
});

test.serial('with health on, each worker has a state and a history: starting→ready at the handshake, busy while checked out', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const ready = await startHealthPool(rt, dir, 2, { interval: 1_000_000 });
  t.deepEqual(ready.health, { interval: 1_000_000, maxFailures: 3, degraded: 0, unhealthy: 0, replaced: 0 });
  for (const w of ready.workers) {
    t.is(w.state, 'ready');
    t.is(w.failures, 0);
    t.deepEqual(w.history, [{ from: 'starting', to: 'ready', reason: 'handshake', at: 0 }]);
  }
  await rt.advance(250);
  const h = hold(rt, 'p');
  const worker = await h.got;
  t.is(row(await Pool.status(rt, 'p'), worker).state, 'busy');
  await rt.advance(100);
  h.release();
  await h.done.promise;
  await rt.flush();
  const r = row(await Pool.status(rt, 'p'), worker);
  t.is(r.state, 'ready');
  t.deepEqual(r.history, [
    { from: 'starting', to: 'ready', reason: 'handshake', at: 0 },
    { from: 'ready', to: 'busy', reason: 'checkout', at: 250 },
    { from: 'busy', to: 'ready', reason: 'checkin', at: 350 },
  ]);
});

test.serial("a worker is 'starting' (no history yet) until its handshake, then 'ready'", async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 2, worker: fixtureWorker(dir, { startGate: true }), health: { interval: INTERVAL } }));
  await until(() => pythonChildren().size === 2, 10_000, 'two Python processes spawned');
  await rt.flush();
  const st = await Pool.status(rt, 'p');
  t.is(st.workers.length, 2);
  for (const w of st.workers) t.like(w, { state: 'starting', failures: 0, history: [] });
  await rt.advance(INTERVAL);
  t.deepEqual(
    (await Pool.status(rt, 'p')).workers.map((w) => w.state),
    ['starting', 'starting'],
    'starting workers are not pinged (nor failed)',
  );
  flagOn(dir, 'start-gate');
  const ready = await Pool.ready(rt, 'p');
  for (const w of ready.workers) {
    t.is(w.state, 'ready');
    t.deepEqual(w.history, [{ from: 'starting', to: 'ready', reason: 'handshake', at: INTERVAL }]);
  }
});

test.serial('pings go out every health.interval (simulated), to idle workers only', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, 2, { interval: INTERVAL });
  const [a, b] = st.workers.map((w) => w.pid) as [Pid, Pid];
  t.is(await settle(rt, a), 0);
  await rt.advance(INTERVAL - 1);
  t.is(await settle(rt, a), 0, 'no ping before the interval');
  await rt.advance(1);
  t.is(await settle(rt, a), 1);
  t.is(await settle(rt, b), 1);
  for (let i = 2; i <= 4; i++) {
    await rt.advance(INTERVAL);
    t.is(await settle(rt, a), i);
    t.is(await settle(rt, b), i);
  }
  // A checked-out worker is not pinged (a ping would queue behind the caller's work).
  const h = hold(rt, 'p');
  const held = await h.got;
  const other = held.id === a.id ? b : a;
  await rt.advance(INTERVAL);
  t.is(await settle(rt, other), 5);
  t.is(await settle(rt, held), 4, 'the busy worker was skipped');
  h.release();
  await h.done.promise;
  await rt.advance(INTERVAL);
  t.is(await settle(rt, held), 5, 'pinged again once idle');
  const final = await Pool.status(rt, 'p');
  for (const w of final.workers) {
    t.is(w.state, 'ready');
    t.is(w.failures, 0);
  }
});

test.serial('consecutive failed pings degrade a worker, then replace it at maxFailures; the others are untouched', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, 2, { interval: INTERVAL, maxFailures: 3 });
  const [sick, well] = st.workers.map((w) => w.pid) as [Pid, Pid];
  const sickOs = await osPidOf(rt, sick);
  flagOn(dir, `ping-fail-${sickOs}`);
  await rt.advance(INTERVAL);
  await settle(rt, sick);
  await settle(rt, well);
  let status = await Pool.status(rt, 'p');
  t.like(row(status, sick), { state: 'degraded', failures: 1 });
  t.like(row(status, well), { state: 'ready', failures: 0 });
  t.deepEqual(path(row(status, sick)), ['starting→ready', 'ready→degraded']);
  t.regex(row(status, sick).history!.at(-1)!.reason, /health check failed: .*ping failing on demand/);
  t.is(row(status, sick).history!.at(-1)!.at, INTERVAL);
  t.like(status.health, { degraded: 1, unhealthy: 0, replaced: 0 });
  t.is(await Pool.run(rt, 'p', 'echo', 'degraded still serves', { checkoutTimeout: 0 }), 'degraded still serves');
  await rt.advance(INTERVAL);
  await settle(rt, sick);
  status = await Pool.status(rt, 'p');
  t.like(row(status, sick), { state: 'degraded', failures: 2 });
  const exited = rt.exited(sick);
  await rt.advance(INTERVAL);
  await exited;
  await rt.flush();
  const after = await Pool.ready(rt, 'p');
  t.is(after.workers.length, 2, 'pool size restored');
  t.false(workerIds(after).includes(sick.id), 'the sick worker is gone');
  t.true(workerIds(after).includes(well.id), 'the healthy one stays');
  t.like(after.health, { degraded: 0, unhealthy: 0, replaced: 1 });
  const fresh = after.workers.find((w) => w.pid.id !== well.id)!;
  t.is(fresh.state, 'ready');
  t.deepEqual(path(fresh), ['starting→ready']);
  t.is(fresh.history![0]!.at, 3 * INTERVAL);
  await until(() => !pythonChildren().has(sickOs), 5000, 'the sick Python process exits');
  t.not(await osPidOf(rt, fresh.pid), sickOs);
});

test.serial('a degraded worker whose ping succeeds again is ready again (health_restored) and its failures reset', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, 1, { interval: INTERVAL, maxFailures: 2 });
  const [w] = st.workers.map((x) => x.pid) as [Pid];
  const os = await osPidOf(rt, w);
  flagOn(dir, `ping-fail-${os}`);
  await rt.advance(INTERVAL);
  await settle(rt, w);
  t.like(row(await Pool.status(rt, 'p'), w), { state: 'degraded', failures: 1 });
  flagOff(dir, `ping-fail-${os}`);
  await rt.advance(INTERVAL);
  await settle(rt, w);
  const r = row(await Pool.status(rt, 'p'), w);
  t.like(r, { state: 'ready', failures: 0 });
  t.deepEqual(r.history!.at(-1), { from: 'degraded', to: 'ready', reason: 'health_restored', at: 2 * INTERVAL });
  // One more failure is again only one: the count is of consecutive failures.
  flagOn(dir, `ping-fail-${os}`);
  await rt.advance(INTERVAL);
  await settle(rt, w);
  t.like(row(await Pool.status(rt, 'p'), w), { state: 'degraded', failures: 1 });
  flagOff(dir, `ping-fail-${os}`);
  await rt.advance(INTERVAL);
  await settle(rt, w);
  t.like(row(await Pool.status(rt, 'p'), w), { state: 'ready', failures: 0 });
  t.is((await Pool.status(rt, 'p')).stats.workerExits, 0);
});

test.serial('a ping that does not answer within health.timeout (simulated) is a failure; at maxFailures the worker goes unhealthy → terminating and is replaced', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, 2, { interval: INTERVAL, timeout: 200, maxFailures: 2 }, { sessions: { ttl: 1_000_000 } });
  const [stuck, well] = st.workers.map((w) => w.pid) as [Pid, Pid];
  const stuckOs = await osPidOf(rt, stuck);
  // A session bound to the worker that will hang.
  let session = '';
  for (let i = 0; !session; i++) {
    await Pool.run(rt, 'p', 'echo', i, { session: `s${i}` });
    const s = await Pool.session(rt, 'p', `s${i}`);
    if (s.state === 'bound' && s.worker.id === stuck.id) session = `s${i}`;
  }
  flagOn(dir, `ping-block-${stuckOs}`);
  await rt.advance(INTERVAL);
  await settle(rt, well);
  await rt.advance(199);
  t.like(row(await Pool.status(rt, 'p'), stuck), { state: 'ready', failures: 0 }, 'not failed before the timeout');
  await rt.advance(1);
  let r = row(await Pool.status(rt, 'p'), stuck);
  t.like(r, { state: 'degraded', failures: 1 });
  t.regex(r.history!.at(-1)!.reason, /^health check failed: TimeoutError: bridge call 'xotp.ping'.* timed out after 200 ms/);
  await rt.advance(INTERVAL - 200);
  await settle(rt, well);
  await rt.advance(200);
  const status = await Pool.status(rt, 'p');
  r = row(status, stuck);
  // The hung Python process cannot read its shutdown frame: the worker is seen terminating.
  t.is(r.state, 'terminating');
  t.deepEqual(path(r), ['starting→ready', 'ready→busy', 'busy→ready', 'ready→degraded', 'degraded→unhealthy', 'unhealthy→terminating']);
  t.deepEqual(
    r.history!.slice(-2).map((h) => [h.to, h.at]),
    [
      ['unhealthy', 2 * INTERVAL + 200],
      ['terminating', 2 * INTERVAL + 200],
    ],
  );
  t.like(status.health, { unhealthy: 1 });
  // Regression: its replacement waited for the hung worker's exit, which takes the bridge's
  // SIGTERM and SIGKILL steps (up to 2 × shutdownTimeout): it starts as soon as it is condemned.
  t.is(status.starting, 1, 'the replacement is already starting');
  // Its session's next call must not be sent to the worker being replaced.
  const call = track(Pool.run(rt, 'p', 'echo', 'to a dying worker', { session }));
  await rt.flush();
  // Let the hung process go: it answers its pings late, reads the shutdown frame and exits.
  const exited = rt.exited(stuck);
  flagOff(dir, `ping-block-${stuckOs}`);
  await exited;
  await call.promise;
  // Regression: a session bound to a worker being replaced (`terminating`, still `ready` and
  // idle until its DOWN) used to be granted that worker, and its call failed with
  // BridgeNotRunningError from the stopping bridge. PoolState.checkout now answers
  // SessionLostError for a session whose worker is on its way out.
  t.true(call.error instanceof SessionLostError, `${call.state}: ${String(call.error ?? call.value)}`);
  await rt.flush();
  t.is((await Pool.session(rt, 'p', session)).state, 'lost');
  const after = await Pool.ready(rt, 'p');
  t.is(after.workers.length, 2);
  t.false(workerIds(after).includes(stuck.id));
  t.like(after.health, { replaced: 1, unhealthy: 0 });
});

test.serial('a ping that fails while its worker has meanwhile been checked out: no fictitious check-in, and the worker stays degraded after the real one', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, 1, { interval: INTERVAL, timeout: 200, maxFailures: 3 });
  const [w] = st.workers.map((x) => x.pid) as [Pid];
  const os = await osPidOf(rt, w);
  flagOn(dir, `ping-block-${os}`);
  await rt.advance(INTERVAL); // the ping is sent to the idle worker, and hangs in Python
  const h = hold(rt, 'p'); // meanwhile a caller checks the worker out
  t.is((await h.got).id, w.id);
  await rt.advance(200); // the ping times out while the worker is checked out
  const during = row(await Pool.status(rt, 'p'), w);
  t.true(during.busy);
  t.is(during.failures, 1);
  h.release();
  await h.done.promise;
  await rt.flush();
  const after = row(await Pool.status(rt, 'p'), w);
  flagOff(dir, `ping-block-${os}`);
  // Regression: a failure that arrived while the worker was checked out used to record a
  // check-in nobody made (busy → ready → degraded), and the caller's real check-in then wiped
  // the degradation (degraded → ready) without any good health check. PoolState.#failure now
  // keeps a busy worker busy and applies the failure at its real check-in.
  t.is(during.state, 'busy', `while held: ${during.state}, history ${path(during).join(', ')}`);
  t.is(after.state, 'degraded', `after the check-in: ${after.state}, history ${path(after).join(', ')}`);
});

test.serial('error check-ins (calls that time out) count as failures: degraded, then replaced at maxFailures', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, 1, { interval: 1_000_000, maxFailures: 2 });
  const [w] = st.workers.map((x) => x.pid) as [Pid];
  const slow = track(Pool.run(rt, 'p', 'async_gate', { name: 'never1' }, { timeout: 100 }));
  const settled = nextSettled(rt, 'p', w);
  await rt.advance(100);
  await slow.promise;
  t.true(slow.error instanceof TimeoutError, String(slow.error));
  // Back in service once Python answers the pool's probe (the async handler honours the cancel).
  await settled;
  let r = row(await Pool.status(rt, 'p'), w);
  t.like(r, { state: 'degraded', failures: 1 });
  t.deepEqual(path(r).slice(-3), ['ready→busy', 'busy→ready', 'ready→degraded']);
  t.is(r.history!.at(-1)!.reason, 'checkin error');
  const exited = rt.exited(w);
  const slow2 = track(Pool.run(rt, 'p', 'async_gate', { name: 'never2' }, { timeout: 100 }));
  await rt.advance(100);
  await slow2.promise;
  t.true(slow2.error instanceof TimeoutError, String(slow2.error));
  await exited;
  await rt.flush();
  const after = await Pool.ready(rt, 'p');
  t.is(after.workers.length, 1);
  t.not(after.workers[0]!.pid.id, w.id, 'replaced');
  t.like(after.health, { replaced: 1 });
  r = after.workers[0]!;
  t.like(r, { state: 'ready', failures: 0 });
});

test.serial('failures are consecutive: a successful call between two error check-ins resets the count', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, 1, { interval: 1_000_000, maxFailures: 2 });
  const [w] = st.workers.map((x) => x.pid) as [Pid];
  const timeOut = async (name: string) => {
    const c = track(Pool.run(rt, 'p', 'async_gate', { name }, { timeout: 100 }));
    const settled = nextSettled(rt, 'p', w);
    await rt.advance(100);
    await c.promise;
    t.true(c.error instanceof TimeoutError, String(c.error));
    await settled;
  };
  await timeOut('a');
  t.like(row(await Pool.status(rt, 'p'), w), { state: 'degraded', failures: 1 });
  t.is(await Pool.run(rt, 'p', 'echo', 'fine'), 'fine');
  await rt.flush();
  const between = row(await Pool.status(rt, 'p'), w);
  await timeOut('b');
  const status = await Pool.status(rt, 'p');
  // Regression: an 'ok' check-in used to leave `failures` as it was (only a good ping reset
  // it), so a worker that failed, served a call fine and failed again was replaced as if the
  // failures were consecutive. PoolState.checkin now ends a streak of failed calls.
  t.is(between.failures, 0, `after a successful call: state ${between.state}, failures ${between.failures}`);
  t.like(row(status, w), { state: 'degraded', failures: 1 }, 'the worker is kept, not replaced');
});

test.serial('a worker crashing mid-call with health on: the call fails with BridgeExitedError, the worker is replaced, replaced counts it', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  const st = await startHealthPool(rt, dir, 2, { interval: INTERVAL });
  const err = await rejectionOf(Pool.run(rt, 'p', 'hard_exit', { code: 3 }));
  t.true(err instanceof BridgeExitedError, String(err));
  await rt.flush();
  const after = await Pool.ready(rt, 'p');
  t.is(after.workers.length, 2);
  t.is(workerIds(after).filter((id) => !workerIds(st).includes(id)).length, 1);
  t.like(after.health, { replaced: 1, degraded: 0, unhealthy: 0 });
  for (const w of after.workers) t.is(w.state, 'ready');
  // Pings keep going to both, the new one included: the first health tick pings each once.
  await rt.advance(INTERVAL);
  for (const w of after.workers) t.is(await settle(rt, w.pid), 1);
});
