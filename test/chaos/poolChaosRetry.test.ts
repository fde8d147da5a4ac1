/**
 * Chaos with recovery (issue 11): the same load as poolChaos.test.ts — a pool of 4, 5,000 calls
 * from 16 callers while a random one of its Python processes is SIGKILLed about every 20 ms —
 * but the pool retries and every call is declared idempotent: every call must succeed. The
 * retries wait on the test runtime's simulated clock, which the kill ticks move.
 *
 * The latencies (p50/p99, real time) are logged with and without chaos for the closing note;
 * nothing is asserted about them.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, pool, type Pid } from '../../src/index.js';
import { pythonChildren, until } from '../helpers/pool.js';
import { CALLERS, CALLS, KILL_EVERY_MS, SIZE, chaosSeed, chaosWorker, runPoolChaos, seededRandom } from './runPoolChaos.js';

test.serial('chaos with retry: 5,000 idempotent calls from 16 callers while a random worker is SIGKILLed every 20 ms — every call succeeds', async (t) => {
  const seed = chaosSeed();
  t.log(`seed ${seed}`);
  await using rt = createTestRuntime();
  const sup = (await rt.start(
    pool({
      name: 'p',
      size: SIZE,
      worker: chaosWorker(),
      maxQueue: CALLERS,
      retry: { maxAttempts: 10, backoff: { kind: 'exponential', baseDelay: 5, maxDelay: 100 } },
    }),
  )) as Pid;
  await Pool.ready(rt, 'p');

  const quiet = await runPoolChaos({ runtime: rt, pool: 'p', callers: CALLERS, calls: 1000, killEveryMs: KILL_EVERY_MS, random: seededRandom(seed), runOptions: { idempotent: true }, noKills: true, onTick: () => rt.advance(KILL_EVERY_MS) });
  t.log(`without chaos: ${quiet.calls} calls, p50 ${quiet.p50} ms, p99 ${quiet.p99} ms`);
  t.deepEqual(quiet.outcomes, { ok: 1000 });

  const result = await runPoolChaos({
    runtime: rt,
    pool: 'p',
    callers: CALLERS,
    calls: CALLS,
    killEveryMs: KILL_EVERY_MS,
    random: seededRandom(seed),
    runOptions: { idempotent: true },
    onTick: () => rt.advance(KILL_EVERY_MS),
  });
  const status = await Pool.status(rt, 'p');
  t.log(`with chaos: calls ${result.calls}, kills ${result.kills}, ${result.elapsedMs} ms, p50 ${result.p50} ms, p99 ${result.p99} ms`);
  t.log(`recovery: ${JSON.stringify(status.recovery)}; breaker ${status.breaker?.state}`);
  for (const a of result.anomalies) t.log(`anomaly: ${a}`);

  t.deepEqual(result.outcomes, { ok: CALLS }, 'every call succeeded');
  t.true(result.kills > 0, 'workers were killed');
  t.true((status.recovery?.retries ?? 0) > 0, 'some calls were saved by a retry');
  t.is(status.breaker?.state, 'closed', 'calls saved by retries do not open the circuit');

  await rt.stop(sup, 'shutdown');
  await until(() => pythonChildren().size === 0, 5000, 'every Python process gone');
  t.is(pythonChildren().size, 0);
});
