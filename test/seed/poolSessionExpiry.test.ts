/**
 * Seed error 2 (seed-system.md §2.3, §3.3 SessionAffinityTest): with `cleanup_interval: 100,
 * session_timeout: 200`, the test slept 250 ms and expected `{:error, :session_expired}` but got
 * `{:error, :no_affinity}`: the background cleanup had deleted the row before the lookup (which
 * used a module constant of 5 minutes instead of the configured timeout) could report it as
 * expired. xotp's contract: a lookup uses the pool's configured TTL, and an expired session
 * reads `expired` — not `unknown` — before and after any sweep; only a session never seen (or
 * ended) is `unknown`, and a call for an unknown id simply binds a new session.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, SessionExpiredError } from '../../src/index.js';
import { rejectionOf } from '../helpers/bridge.js';
import { startPool } from '../helpers/pool.js';

test.serial('seed error 2: a session past its TTL reads expired, not unknown, even when the sweep ran first', async (t) => {
  await using rt = createTestRuntime();
  // The seed's failing configuration: the sweep runs more often than the TTL.
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: 200, sweepInterval: 100 } });
  await Pool.run(rt, 'p', 'echo', 1, { session: 'test_session' });
  t.is((await Pool.session(rt, 'p', 'test_session')).state, 'bound');
  await rt.advance(250); // sweeps at 100 and 200 found it alive; the one at 300 has not run
  t.deepEqual(await Pool.session(rt, 'p', 'test_session'), { state: 'expired', expiredAt: 200 });
  t.deepEqual(await Pool.session(rt, 'p', 'test_session'), { state: 'expired', expiredAt: 200 }, 'reading it does not forget it');
  await rt.advance(500); // sweeps at 300 ... 700
  t.deepEqual(await Pool.session(rt, 'p', 'test_session'), { state: 'expired', expiredAt: 200 }, 'after the sweep: still expired');
  const err = await rejectionOf(Pool.run(rt, 'p', 'echo', 2, { session: 'test_session' }));
  t.true(err instanceof SessionExpiredError, String(err));
  t.deepEqual(await Pool.session(rt, 'p', 'never_bound'), { state: 'unknown' }, 'unknown only when never seen');
  t.is(await Pool.run(rt, 'p', 'echo', 3, { session: 'never_bound' }), 3, 'an unknown id binds a new session');
});

test.serial('seed error 2: the sweep alone (no lookup in between) keeps swept sessions known as expired', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: 200, sweepInterval: 500 } });
  await Pool.run(rt, 'p', 'echo', 1, { session: 's' });
  await rt.advance(750); // the seed's second case: bind, wait past the background cleanup
  t.like((await Pool.status(rt, 'p')).sessions, { bound: 0, expired: 1 }, 'the sweep at 500 ms removed the binding');
  t.deepEqual(await Pool.session(rt, 'p', 's'), { state: 'expired', expiredAt: 200 });
});

test.serial("seed error 2: expiry uses the pool's configured TTL, not a built-in one", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: 600_000 } });
  await Pool.run(rt, 'p', 'echo', 1, { session: 'long' });
  await rt.advance(300_001); // past the seed's 5-minute constant
  t.is((await Pool.session(rt, 'p', 'long')).state, 'bound');
  await rt.advance(300_000);
  t.is((await Pool.session(rt, 'p', 'long')).state, 'expired');
});
