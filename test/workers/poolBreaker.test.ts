/**
 * The pool's circuit breaker end to end (issue 11): a module that cannot be imported opens the
 * circuit, so calls fail fast with CircuitOpenError without touching the pool; once the module
 * is fixed, the pool's next start attempt succeeds and the breaker's half-open probe closes it.
 * Everything xotp times (the start backoff, the breaker's reset timeout) runs on the simulated
 * clock; the Python starts are real.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestRuntime } from '../../src/testing/index.js';
import { CircuitOpenError, Pool, PoolStartError, pool, pythonBridge } from '../../src/index.js';
import { rejectionOf } from '../helpers/bridge.js';
import { fixtureDir } from '../helpers/pool.js';

test.serial('a dead module opens the pool’s breaker: calls fail fast with CircuitOpenError until a fixed module lets a probe close it', async (t) => {
  const dir = fixtureDir(t);
  await using rt = createTestRuntime();
  await rt.start(
    pool({
      name: 'p',
      size: 1,
      worker: pythonBridge({ module: 'xotp_fixed_later', cwd: dir }),
      breaker: { failureThreshold: 2, window: 60_000, resetTimeout: 1000 },
    }),
  );
  // The pool cannot start: each call fails fast with the start error, and each counts.
  await rejectionOf(Pool.ready(rt, 'p'));
  for (let i = 0; i < 2; i++) {
    const err = await rejectionOf(Pool.run(rt, 'p', 'echo', i));
    t.true(err instanceof PoolStartError, String(err));
  }
  const open = await Pool.status(rt, 'p');
  t.like(open.breaker, { state: 'open', opened: 1 });
  // While open, a call fails at once and never reaches the pool (its checkout count stays).
  const checkouts = open.stats.checkouts;
  const refused = await rejectionOf(Pool.run(rt, 'p', 'echo', 'x'));
  t.true(refused instanceof CircuitOpenError, String(refused));
  t.is((refused as CircuitOpenError).code, 'circuit_open');
  t.true((refused as CircuitOpenError).retryIn > 0 && (refused as CircuitOpenError).retryIn <= 1000);
  t.is((await Pool.status(rt, 'p')).stats.checkouts, checkouts);
  t.is((await Pool.status(rt, 'p')).breaker?.rejected, 1);

  // The module is fixed; the pool's backoff retry starts a worker that now gets ready.
  writeFileSync(join(dir, 'xotp_fixed_later.py'), 'import xotp_bridge.examples  # noqa: F401\n');
  for (;;) {
    const st = await Pool.status(rt, 'p');
    if (st.ready === 1) break;
    const wait = st.backoff?.nextAttemptInMs;
    if (wait === null || wait === undefined) {
      await Pool.ready(rt, 'p').catch(() => undefined); // an attempt is under way: wait for its outcome
    } else {
      await rt.advance(wait);
    }
  }
  // The reset timeout passes: half-open; the probe succeeds and closes the circuit.
  await rt.advance(1000);
  t.is((await Pool.status(rt, 'p')).breaker?.state, 'halfOpen');
  t.is(await Pool.run(rt, 'p', 'echo', 'up'), 'up');
  await rt.flush();
  t.like((await Pool.status(rt, 'p')).breaker, { state: 'closed', opened: 1 });
  t.is(await Pool.run(rt, 'p', 'echo', 'again'), 'again');
});
