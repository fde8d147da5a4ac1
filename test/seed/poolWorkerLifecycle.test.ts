/**
 * Seed errors 16–18 (seed-system.md §3.4, WorkerLifecycleIntegrationTest).
 *
 * 16: a basic pool's status reported `session_affinity: %{expired_sessions: 0, total_sessions:
 * 0, workers_with_sessions: 0}` where the test expected `%{}`: the affinity stats came from a
 * global table whatever the pool. xotp's contract (DESIGN.md): features a pool does not enable
 * are absent from its status — no `sessions`, no `health` key, no per-worker state — not empty.
 * 17: five concurrent session calls on a two-worker pool did not all finish within the test's
 * await (15 s). Here they all settle with the clock standing still: nothing they need waits on
 * a timer.
 * 18: the state machine test counted 6 history entries for 7 transitions. Here the history has
 * exactly one entry per transition made, and none for a refused one.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, pool, callBridge, WorkerLifecycle, InvalidTransitionError } from '../../src/index.js';
import { track } from '../helpers/bridge.js';
import { fixtureDir, fixtureWorker, flagOff, flagOn, osPidOf, startPool } from '../helpers/pool.js';

test.serial('seed error 16: a pool without sessions or health has no such sections in its status at all', async (t) => {
  await using rt = createTestRuntime();
  const { status: ready } = await startPool(rt, { name: 'basic', size: 1 });
  const status = await Pool.status(rt, 'basic');
  for (const s of [ready, status]) {
    t.false('sessions' in s, 'no sessions section');
    t.false('health' in s, 'no health section');
    t.is(s.size, 1);
    for (const w of s.workers) {
      t.false('state' in w);
      t.false('history' in w);
      t.false('failures' in w);
    }
  }
  t.false('sessions' in JSON.parse(JSON.stringify(status)), 'not even as undefined in its serialised form');
});

test.serial('seed error 16: each feature appears only when enabled; enabled and unused it reads zero', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'sessionsOnly', size: 1, sessions: { ttl: 1000 } });
  await startPool(rt, { name: 'healthOnly', size: 1, health: { interval: 1000 } });
  await startPool(rt, { name: 'both', size: 1, sessions: { ttl: 1000 }, health: { interval: 1000, maxFailures: 2 } });
  const s = await Pool.status(rt, 'sessionsOnly');
  t.deepEqual(s.sessions, { ttl: 1000, bound: 0, expired: 0, lost: 0, workersWithSessions: 0 });
  t.false('health' in s);
  t.false('state' in s.workers[0]!);
  const h = await Pool.status(rt, 'healthOnly');
  t.false('sessions' in h);
  t.deepEqual(h.health, { interval: 1000, maxFailures: 3, degraded: 0, unhealthy: 0, replaced: 0 });
  t.is(h.workers[0]!.state, 'ready');
  const b = await Pool.status(rt, 'both');
  t.truthy(b.sessions);
  t.like(b.health, { maxFailures: 2 });
});

test.serial('seed error 17: five concurrent session calls on a two-worker pool all settle without the clock moving', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 2, sessions: { ttl: 60_000 } });
  const start = rt.clock.now();
  const calls = Array.from({ length: 5 }, (_, i) => track(Pool.run(rt, 'p', 'xotp.ping', { test: true, i }, { session: `concurrent_${i}`, timeout: 10_000 })));
  await Promise.all(calls.map((c) => c.promise));
  t.deepEqual(
    calls.map((c) => c.state),
    ['resolved', 'resolved', 'resolved', 'resolved', 'resolved'],
  );
  t.is(rt.clock.now(), start, 'no simulated time was needed');
  const st = await Pool.status(rt, 'p');
  t.is(st.queued, 0);
  t.like(st.sessions, { bound: 5 });
});

test('seed error 18: the history holds exactly one entry per transition (the seed counted 6 for 7)', async (t) => {
  await using rt = createTestRuntime();
  const lc = new WorkerLifecycle();
  // The seed's sequence, in xotp's states (no separate `terminated`: the process is gone).
  lc.go('ready', 'handshake', rt.clock.now());
  lc.go('busy', 'checkout', 1);
  lc.go('ready', 'checkin', 2);
  lc.go('degraded', 'health check failed', 3);
  lc.go('ready', 'health_restored', 4);
  lc.go('terminating', 'shutdown', 5);
  t.is(lc.history.length, 6);
  t.throws(() => lc.go('ready', 'too late', 6), { instanceOf: InvalidTransitionError }, 'a refused transition is loud...');
  t.is(lc.history.length, 6, '...and adds no entry');
  t.deepEqual(
    lc.history.map((h) => `${h.from}→${h.to}`),
    ['starting→ready', 'ready→busy', 'busy→ready', 'ready→degraded', 'degraded→ready', 'ready→terminating'],
  );
});

test.serial("seed error 18: a pool worker's history counts every transition it went through", async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  await rt.start(pool({ name: 'p', size: 1, worker: fixtureWorker(dir), health: { interval: 1000, maxFailures: 3 } }));
  const [w] = (await Pool.ready(rt, 'p')).workers.map((x) => x.pid);
  const os = await osPidOf(rt, w!);
  await Pool.run(rt, 'p', 'echo', 1); // ready→busy, busy→ready
  flagOn(dir, `ping-fail-${os}`);
  await rt.advance(1000); // the ping fails: ready→degraded
  // Python answers in order: once ping_count is answered, so is the failed ping.
  await callBridge(rt, w!, 'ping_count');
  await rt.flush();
  flagOff(dir, `ping-fail-${os}`);
  // degraded→busy, busy→degraded: a worker whose last ping failed stays degraded until a
  // ping succeeds again (a good call does not clear a failing health check).
  await Pool.run(rt, 'p', 'echo', 2);
  await rt.flush();
  const r = (await Pool.status(rt, 'p')).workers[0]!;
  t.deepEqual(
    r.history!.map((h) => `${h.from}→${h.to}:${h.reason.split(':')[0]}@${h.at}`),
    [
      'starting→ready:handshake@0',
      'ready→busy:checkout@0',
      'busy→ready:checkin@0',
      'ready→degraded:health check failed@1000',
      'degraded→busy:checkout@1000',
      'busy→degraded:checkin@1000',
    ],
  );
  t.is(r.history!.length, 6);
});
