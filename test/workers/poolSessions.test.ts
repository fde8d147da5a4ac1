/**
 * Session affinity: a session's first call binds it to a worker and every later call runs
 * there (checked by the Python process id each call reports). A session is `bound`, `expired`
 * (its TTL passed: the simulated clock is advanced), `lost` (its worker died) or `unknown`, and
 * Pool.session / the errors of Pool.run tell them apart. Use refreshes the TTL; the periodic
 * sweep (on the runtime clock) drops expired sessions but they still read as expired. A lost
 * session is never silently moved to another worker.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  Pool,
  callBridge,
  bridgeInfo,
  BridgeExitedError,
  CheckoutTimeoutError,
  SessionExpiredError,
  SessionLostError,
  SessionsDisabledError,
  InvalidOptionError,
  type Pid,
  type SessionState,
} from '../../src/index.js';
import { rejectionOf, track } from '../helpers/bridge.js';
import { hold, startPool, workerOsPids } from '../helpers/pool.js';

const TTL = 10_000;

function boundWorker(s: SessionState): number {
  if (s.state !== 'bound') throw new Error(`expected a bound session, got ${JSON.stringify(s)}`);
  return s.worker.id;
}

test.serial("a session's first call binds it to a worker; every later call runs on that worker's Python process", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 4, sessions: { ttl: TTL } });
  const osPids = await workerOsPids(rt, 'p');
  t.deepEqual(await Pool.session(rt, 'p', 's1'), { state: 'unknown' });
  const first = await Pool.run<number>(rt, 'p', 'pid', null, { session: 's1' });
  const st = await Pool.session(rt, 'p', 's1');
  t.is(osPids.get(boundWorker(st)), first, 'bound to the worker the first call ran on');
  t.like(st, { state: 'bound', lastUsed: 0, expiresAt: TTL });
  const seen = new Set<number>();
  for (let i = 0; i < 12; i++) {
    seen.add(await Pool.run<number>(rt, 'p', 'pid', null, { session: 's1' }));
    // Calls without a session rotate over the other workers meanwhile (fifo).
    await Pool.run(rt, 'p', 'pid');
  }
  t.deepEqual([...seen], [first]);
  const status = await Pool.status(rt, 'p');
  t.like(status.sessions, { ttl: TTL, bound: 1, expired: 0, lost: 0, workersWithSessions: 1 });
});

test.serial("a session's call waits for its own worker even when another worker is idle", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 2, sessions: { ttl: TTL } });
  const home = await Pool.run<number>(rt, 'p', 'pid', null, { session: 's' });
  const homeWorker = boundWorker(await Pool.session(rt, 'p', 's'));
  const worker = (await Pool.status(rt, 'p')).workers.find((w) => w.pid.id === homeWorker)!.pid;
  const busy = track(Pool.run(rt, 'p', 'async_gate', { name: 'g', value: 'first' }, { session: 's' }));
  await rt.flush(); // the pool call has been checked out and sent to Python
  t.is(await callBridge(rt, worker, 'pending_tasks'), 1, "the session's first call holds its worker");
  const second = track(Pool.run<number>(rt, 'p', 'pid', null, { session: 's' }));
  await rt.flush();
  const st = await Pool.status(rt, 'p');
  t.is(st.idle, 1, 'the other worker is idle...');
  t.is(st.queued, 1, '...and the second call of the session waits for its own');
  t.not(await Pool.run<number>(rt, 'p', 'pid'), home, 'a call without a session takes the idle one');
  t.is(second.state, 'pending');
  await callBridge(rt, worker, 'open_async_gate', { name: 'g' });
  await Promise.all([busy.promise, second.promise]);
  t.is(busy.value, 'first');
  t.is(second.value, home);
});

test.serial('seed error 2 shape: an unknown id gets a new binding; an expired one fails with SessionExpiredError', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 2, sessions: { ttl: TTL } });
  await Pool.run(rt, 'p', 'echo', 1, { session: 'old' });
  await rt.advance(TTL + 1);
  t.deepEqual(await Pool.session(rt, 'p', 'old'), { state: 'expired', expiredAt: TTL });
  const err = await rejectionOf(Pool.run(rt, 'p', 'echo', 2, { session: 'old' }));
  t.true(err instanceof SessionExpiredError, String(err));
  t.is((err as SessionExpiredError).code, 'session_expired');
  t.is((err as SessionExpiredError).session, 'old');
  t.deepEqual(await Pool.session(rt, 'p', 'new'), { state: 'unknown' });
  t.is(await Pool.run(rt, 'p', 'echo', 3, { session: 'new' }), 3, 'an unknown id is simply a new session');
  t.is((await Pool.session(rt, 'p', 'new')).state, 'bound');
  t.deepEqual(await Pool.session(rt, 'p', 'old'), { state: 'expired', expiredAt: TTL }, 'the failed call did not revive it');
});

test.serial('the TTL is measured from the last use: at exactly ttl a session is still bound, 1 ms later it is expired', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: TTL, sweepInterval: 1_000_000 } });
  await Pool.run(rt, 'p', 'echo', 1, { session: 's' });
  await rt.advance(TTL);
  t.is((await Pool.session(rt, 'p', 's')).state, 'bound');
  await rt.advance(1);
  t.is((await Pool.session(rt, 'p', 's')).state, 'expired');
});

test.serial('use refreshes the TTL', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 2, sessions: { ttl: TTL } });
  const pid = await Pool.run<number>(rt, 'p', 'pid', null, { session: 's' });
  for (let i = 1; i <= 5; i++) {
    await rt.advance(TTL - 1);
    t.is(await Pool.run<number>(rt, 'p', 'pid', null, { session: 's' }), pid, `use ${i} at ${rt.clock.now()} ms`);
  }
  const st = await Pool.session(rt, 'p', 's');
  t.like(st, { state: 'bound', lastUsed: 5 * (TTL - 1), expiresAt: 5 * (TTL - 1) + TTL });
  await rt.advance(TTL + 1);
  t.is((await Pool.session(rt, 'p', 's')).state, 'expired');
});

test.serial('the sweep on the runtime clock removes expired sessions; they still read as expired, not unknown', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 2, sessions: { ttl: 1000, sweepInterval: 5000 } });
  for (const s of ['a', 'b', 'c']) await Pool.run(rt, 'p', 'echo', s, { session: s });
  t.like((await Pool.status(rt, 'p')).sessions, { bound: 3, expired: 0 });
  await rt.advance(1001);
  t.like((await Pool.status(rt, 'p')).sessions, { bound: 3, expired: 0 }, 'past the TTL, before the sweep: not yet swept');
  await rt.advance(5000 - 1001);
  t.like((await Pool.status(rt, 'p')).sessions, { bound: 0, expired: 3, workersWithSessions: 0 }, 'the sweep at 5000 ms removed them');
  for (const s of ['a', 'b', 'c']) t.deepEqual(await Pool.session(rt, 'p', s), { state: 'expired', expiredAt: 1000 }, s);
  const err = await rejectionOf(Pool.run(rt, 'p', 'echo', 1, { session: 'b' }));
  t.true(err instanceof SessionExpiredError, String(err));
  await rt.advance(50_000);
  t.deepEqual(await Pool.session(rt, 'p', 'a'), { state: 'expired', expiredAt: 1000 }, 'later sweeps keep it known as expired');
});

test.serial('endSession forgets a session: it becomes unknown, and the id can start a new session', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: TTL } });
  await Pool.run(rt, 'p', 'echo', 1, { session: 's' });
  t.true(await Pool.endSession(rt, 'p', 's'));
  t.deepEqual(await Pool.session(rt, 'p', 's'), { state: 'unknown' });
  t.false(await Pool.endSession(rt, 'p', 's'), 'ending it again: it was not bound');
  t.false(await Pool.endSession(rt, 'p', 'never'));
  // An expired session can be ended too: then it is unknown, and usable again.
  await Pool.run(rt, 'p', 'echo', 1, { session: 'e' });
  await rt.advance(TTL + 1);
  t.is((await Pool.session(rt, 'p', 'e')).state, 'expired');
  await Pool.endSession(rt, 'p', 'e');
  t.deepEqual(await Pool.session(rt, 'p', 'e'), { state: 'unknown' });
  t.is(await Pool.run(rt, 'p', 'echo', 2, { session: 'e' }), 2);
  t.like((await Pool.status(rt, 'p')).sessions, { bound: 1 });
});

test.serial('when its worker dies the session is lost: SessionLostError, never moved to another worker', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 3, sessions: { ttl: TTL } });
  await Pool.run(rt, 'p', 'pid', null, { session: 's' });
  await Pool.run(rt, 'p', 'pid', null, { session: 'other' });
  const home = boundWorker(await Pool.session(rt, 'p', 's'));
  const otherHome = boundWorker(await Pool.session(rt, 'p', 'other'));
  t.not(otherHome, home, 'fifo: the second session went to another worker');
  const workers = (await Pool.status(rt, 'p')).workers.map((w) => w.pid);
  const homePid = workers.find((w) => w.id === home)!;
  const exited = rt.exited(homePid);
  t.true((await rejectionOf(callBridge(rt, homePid, 'hard_exit', { code: 9 }))) instanceof BridgeExitedError);
  await exited;
  await rt.flush();
  const st = await Pool.session(rt, 'p', 's');
  t.is(st.state, 'lost');
  t.regex((st as { reason: string }).reason, /exit code 9/);
  const survivors = (await Pool.ready(rt, 'p')).workers.map((w) => w.pid);
  const callsBefore = await Promise.all(survivors.map(async (w) => (await bridgeInfo(rt, w)).stats.calls));
  const err = await rejectionOf(Pool.run(rt, 'p', 'pid', null, { session: 's' }));
  t.true(err instanceof SessionLostError, String(err));
  t.is((err as SessionLostError).code, 'session_lost');
  t.is((err as SessionLostError).session, 's');
  const callsAfter = await Promise.all(survivors.map(async (w) => (await bridgeInfo(rt, w)).stats.calls));
  t.deepEqual(callsAfter, callsBefore, 'the call of the lost session ran nowhere');
  t.is((await Pool.session(rt, 'p', 's')).state, 'lost', 'still lost after the failed call');
  const status = await Pool.status(rt, 'p');
  t.like(status.sessions, { lost: 1 });
  t.is(boundWorker(await Pool.session(rt, 'p', 'other')), otherHome, 'a session on another worker is untouched');
  t.false(await Pool.endSession(rt, 'p', 's'), 'a lost session is not bound');
  t.deepEqual(await Pool.session(rt, 'p', 's'), { state: 'unknown' }, 'ending a lost session forgets it');
});

test.serial("a session's call that crashes its worker fails with BridgeExitedError; the session's next call with SessionLostError", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 2, sessions: { ttl: TTL } });
  await Pool.run(rt, 'p', 'echo', 1, { session: 's' });
  const crash = await rejectionOf(Pool.run(rt, 'p', 'hard_exit', { code: 4 }, { session: 's' }));
  t.true(crash instanceof BridgeExitedError, String(crash));
  await rt.flush();
  const next = await rejectionOf(Pool.run(rt, 'p', 'echo', 2, { session: 's' }));
  t.true(next instanceof SessionLostError, String(next));
});

test.serial("callers waiting for a session's worker fail with SessionLostError when it dies", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 2, sessions: { ttl: TTL } });
  await Pool.run(rt, 'p', 'echo', 1, { session: 's' });
  const home = boundWorker(await Pool.session(rt, 'p', 's'));
  const homePid = (await Pool.status(rt, 'p')).workers.find((w) => w.pid.id === home)!.pid;
  const running = track(Pool.run(rt, 'p', 'async_gate', { name: 'never' }, { session: 's' }));
  await rt.flush(); // the pool call has been checked out and sent to Python
  t.is(await callBridge(rt, homePid, 'pending_tasks'), 1);
  const waiting = [track(Pool.run(rt, 'p', 'echo', 2, { session: 's' })), track(Pool.run(rt, 'p', 'echo', 3, { session: 's' }))];
  await rt.flush();
  t.is((await Pool.status(rt, 'p')).queued, 2);
  await callBridge(rt, homePid, 'hard_exit', { code: 5 }).catch(() => undefined);
  await Promise.all([running.promise, ...waiting.map((w) => w.promise)]);
  t.true(running.error instanceof BridgeExitedError, String(running.error));
  for (const w of waiting) t.true(w.error instanceof SessionLostError, String(w.error));
  await rt.flush();
  t.is((await Pool.status(rt, 'p')).queued, 0);
});

test.serial("a caller waiting for its session's busy worker times out with CheckoutTimeoutError and leaves that worker's queue", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 2, sessions: { ttl: TTL }, checkoutTimeout: 1000 });
  const h = hold(rt, 'p', { session: 's' });
  const home = await h.got;
  const waiter = track(Pool.run(rt, 'p', 'echo', 'w', { session: 's' }));
  await rt.advance(999);
  t.is(waiter.state, 'pending');
  t.is((await Pool.status(rt, 'p')).queued, 1);
  t.is((await Pool.status(rt, 'p')).idle, 1, 'although the other worker is idle');
  await rt.advance(1);
  await waiter.promise;
  t.true(waiter.error instanceof CheckoutTimeoutError, String(waiter.error));
  await rt.flush();
  t.is((await Pool.status(rt, 'p')).queued, 0);
  h.release();
  await h.done.promise;
  t.is(boundWorker(await Pool.session(rt, 'p', 's')), home.id, 'the session keeps its worker');
  t.is(await Pool.run(rt, 'p', 'echo', 'next', { session: 's' }), 'next');
});

test.serial('a session caller queued before its session was bound is not moved to another worker after that worker died', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 2, sessions: { ttl: TTL } });
  // Both workers busy: the session's first two calls queue in the general queue, unbound.
  const h1 = hold(rt, 'p');
  const h2 = hold(rt, 'p');
  await Promise.all([h1.got, h2.got]);
  const first = track(Pool.run(rt, 'p', 'hard_exit', { code: 6 }, { session: 's' }));
  await rt.flush();
  const second = track(Pool.run<number>(rt, 'p', 'pid', null, { session: 's' }));
  await rt.flush();
  t.is((await Pool.status(rt, 'p')).queued, 2);
  // The first worker frees: the first call binds 's' to it and crashes it.
  h1.release();
  await first.promise;
  t.true(first.error instanceof BridgeExitedError, String(first.error));
  await rt.flush();
  t.is((await Pool.session(rt, 'p', 's')).state, 'lost');
  // The second worker frees: the second call of 's' is still waiting in the general queue.
  h2.release();
  await second.promise;
  // Regression: a waiter of the general queue whose session became `lost` (or `expired`) while
  // it waited used to be granted any free worker, silently re-binding the session to another
  // Python process. PoolState.#release now checks the session again and answers as a fresh call
  // would (SessionLostError here).
  t.true(second.error instanceof SessionLostError, `second call: ${second.state} ${String(second.error ?? second.value)}`);
  t.is((await Pool.session(rt, 'p', 's')).state, 'lost');
});

test.serial('a session whose call outlasts its TTL is in use, not expired', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: 1000, sweepInterval: 500 } });
  const [worker] = (await Pool.status(rt, 'p')).workers.map((w) => w.pid);
  await Pool.run(rt, 'p', 'echo', 0, { session: 's' });
  const long = track(Pool.run(rt, 'p', 'async_gate', { name: 'long', value: 'done' }, { session: 's', timeout: 'infinity' }));
  await rt.flush(); // the pool call has been checked out and sent to Python
  t.is(await callBridge(rt, worker!, 'pending_tasks'), 1);
  await rt.advance(1500);
  const during = await Pool.session(rt, 'p', 's');
  await callBridge(rt, worker!, 'open_async_gate', { name: 'long' });
  await long.promise;
  t.is(long.value, 'done');
  const after = await Pool.session(rt, 'p', 's');
  // Regression: the TTL used to run from the start of the last call, not suspended while a call
  // held the session's worker, so a call longer than the TTL expired its own session (read
  // 'expired' during and after it). The session table now counts a session in use as live
  // (acquire at checkout, release at check-in).
  t.is(during.state, 'bound', `during the call: ${JSON.stringify(during)}`);
  t.is(after.state, 'bound', `after the call: ${JSON.stringify(after)}`);
});

test.serial('a pool without sessions refuses session calls with SessionsDisabledError', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  for (const attempt of [
    () => Pool.run(rt, 'p', 'echo', 1, { session: 's' }),
    () => Pool.session(rt, 'p', 's'),
    () => Pool.endSession(rt, 'p', 's'),
    () => Pool.checkout(rt, 'p', async () => 1, { session: 's' }),
  ]) {
    const err = await rejectionOf(attempt());
    t.true(err instanceof SessionsDisabledError, String(err));
    t.is((err as SessionsDisabledError).code, 'sessions_disabled');
  }
  t.is((await Pool.status(rt, 'p')).stats.checkouts, 0);
  t.is(await Pool.run(rt, 'p', 'echo', 'plain'), 'plain');
});

test.serial('Pool.checkout with a session holds the session worker for the whole function', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 3, sessions: { ttl: TTL } });
  const home = await Pool.run<number>(rt, 'p', 'pid', null, { session: 's' });
  const pids = await Pool.checkout(
    rt,
    'p',
    async (w: Pid) => [await callBridge<number>(rt, w, 'pid'), await callBridge<number>(rt, w, 'pid')],
    { session: 's' },
  );
  t.deepEqual(pids, [home, home]);
});

test.serial("regression: an empty session id bound a session, and Pool.session / endSession took any id — a non-empty string is required, naming the key", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: TTL } });
  for (const [run, key] of [
    [() => Pool.run(rt, 'p', 'echo', 1, { session: '' }), 'Pool.run.session'],
    [() => Pool.session(rt, 'p', 5 as never), 'Pool.session.id'],
    [() => Pool.session(rt, 'p', ''), 'Pool.session.id'],
    [() => Pool.endSession(rt, 'p', undefined as never), 'Pool.endSession.id'],
  ] as const) {
    const err = await rejectionOf(run());
    t.true(err instanceof InvalidOptionError, String(err));
    t.is((err as InvalidOptionError).key, key);
  }
  t.is((await Pool.status(rt, 'p')).sessions?.bound, 0, 'nothing was bound');
});
