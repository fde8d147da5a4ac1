/**
 * Chaos under load (issue 9): a pool of 4, 5,000 calls from 16 callers while a random one of its
 * Python processes is SIGKILLed about every 20 ms. Every call settles with its own result or an
 * XotpError with a declared code; afterwards the pool is whole again (4 ready workers that all
 * answer) and, once stopped, no Python process is left.
 *
 * The kills come from a real-time interval (load, not synchronisation). xotp's own timers
 * (backoff after a worker killed while starting, checkout deadlines) run on the simulated clock,
 * moved 20 ms per kill; the end waits on Pool.ready, a real event. The seed is printed; set
 * XOTP_CHAOS_SEED to replay a run's choice of victims.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, PoolStartError, pool, type Pid, type PoolStatus } from '../../src/index.js';
import { pythonChildren, until } from '../helpers/pool.js';
import { CALLERS, CALLS, KILL_EVERY_MS, SIZE, chaosSeed, chaosWorker, runPoolChaos, seededRandom } from './runPoolChaos.js';

test.serial('chaos: 5,000 calls from 16 callers while a random worker is SIGKILLed every 20 ms — every call settles typed, the pool ends whole, no Python is left', async (t) => {
  const seed = chaosSeed();
  t.log(`seed ${seed}`);
  await using rt = createTestRuntime();
  const sup = (await rt.start(pool({ name: 'p', size: SIZE, worker: chaosWorker(), maxQueue: CALLERS }))) as Pid;
  await Pool.ready(rt, 'p');

  const result = await runPoolChaos({
    runtime: rt,
    pool: 'p',
    callers: CALLERS,
    calls: CALLS,
    killEveryMs: KILL_EVERY_MS,
    random: seededRandom(seed),
    onTick: () => rt.advance(KILL_EVERY_MS),
  });
  const byCode = Object.entries(result.outcomes).sort(([a], [b]) => a.localeCompare(b));
  t.log(`calls ${result.calls}, kills ${result.kills}, ${result.elapsedMs} ms: ${byCode.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const a of result.anomalies) t.log(`anomaly: ${a}`);

  t.is(result.calls, CALLS);
  t.is(Object.values(result.outcomes).reduce((a, b) => a + b, 0), CALLS, 'every call settled');
  t.is(result.outcomes.untyped, undefined, 'every error is an XotpError with a declared code');
  t.is(result.outcomes.wrong_result, undefined, 'every result is the call’s own');
  t.true(result.kills > 0 && (result.outcomes.ok ?? 0) > 0, 'both happened (the run is meaningful)');

  // The pool becomes whole again: wait for it, moving the clock only past a backoff it reports.
  let final: PoolStatus;
  for (;;) {
    try {
      final = await Pool.ready(rt, 'p');
      break;
    } catch (err) {
      if (!(err instanceof PoolStartError) || err.nextAttemptInMs === null) throw err;
      await rt.advance(err.nextAttemptInMs);
    }
  }
  t.is(final.ready, SIZE);
  t.is(final.workers.length, SIZE);
  t.is(final.queued, 0);
  t.is(pythonChildren().size, SIZE, 'one Python process per worker, none stray');
  const answers = await Promise.all(Array.from({ length: SIZE * 4 }, (_, i) => Pool.run(rt, 'p', 'echo', i)));
  t.deepEqual(answers, Array.from({ length: SIZE * 4 }, (_, i) => i));

  await rt.stop(sup, 'shutdown');
  await until(() => pythonChildren().size === 0, 5000, 'every Python process gone');
  t.is(pythonChildren().size, 0);
});
