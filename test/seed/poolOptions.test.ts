/**
 * Seed errors 13 and 15 (seed-phase3-error-report.md, "API contract"): `execute_anonymous` was
 * given its options as a map where the code expected a keyword list, and died deep inside with
 * `FunctionClauseError: no function clause matching in Keyword.get/3` (`%{pool_name: ...}`,
 * `:max_retries`, `2`). xotp's contract: options are plain objects, validated at the boundary;
 * any other shape, a wrong type or an unknown key throws InvalidOptionError naming the key, what
 * was expected and what was received — before anything is started.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { pool, Pool, InvalidOptionError } from '../../src/index.js';
import { examples, rejectionOf } from '../helpers/bridge.js';
import { startPool } from '../helpers/pool.js';

function invalid(t: import('ava').ExecutionContext, options: unknown, key: string): InvalidOptionError | undefined {
  const err = t.throws(() => pool(options as never), { instanceOf: InvalidOptionError }, `${key}: ${String(options)}`);
  if (err) {
    t.is((err as InvalidOptionError).key, key);
    t.is((err as InvalidOptionError).code, 'invalid_option');
  }
  return err as InvalidOptionError | undefined;
}

test('seed errors 13/15: pool options given in another shape (a list of pairs, a string, null) throw InvalidOptionError, not a crash inside', async (t) => {
  await using rt = createTestRuntime();
  const worker = examples();
  invalid(t, [['name', 'p'], ['size', 2], ['worker', worker]], 'pool');
  invalid(t, 'name=p,size=2', 'pool');
  invalid(t, null, 'pool');
  const err = invalid(t, [['size', 2]], 'pool');
  t.regex(err!.message, /expected a plain options object/);
  t.is(rt.processes().length, 0, 'nothing was started');
});

test('seed errors 13/15: options given as a Map are refused as not a plain object', async (t) => {
  await using rt = createTestRuntime();
  const worker = examples();
  // Regression: a Map (or any class instance) used to pass the "plain options object" check;
  // its entries are invisible to Object.keys, so the error blamed the first required key
  // ('pool.name' got undefined) although the Map holds a name. validateOptions now refuses it
  // as a whole, under the key 'pool'.
  invalid(t, new Map<string, unknown>([['name', 'p'], ['size', 2], ['worker', worker]]), 'pool');
  t.is(rt.processes().length, 0, 'nothing was started');
});

test('seed errors 13/15: each wrong option names its key, the expected type and the value received', async (t) => {
  await using rt = createTestRuntime();
  const worker = examples();
  const base = { name: 'p', size: 2, worker };
  const cases: Array<[Record<string, unknown>, string, RegExp?]> = [
    [{ ...base, size: '4' }, 'pool.size', /expected an integer in 1\.\.10000, got .*'4'|"4"/],
    [{ ...base, size: 0 }, 'pool.size'],
    [{ ...base, size: 2.5 }, 'pool.size'],
    [{ name: 'p', worker }, 'pool.size'],
    [{ size: 2, worker }, 'pool.name'],
    [{ ...base, name: 'my pool' }, 'pool.name'],
    [{ ...base, name: '' }, 'pool.name'],
    [{ name: 'p', size: 2 }, 'pool.worker'],
    [{ ...base, worker: 'xotp_bridge.examples' }, 'pool.worker'],
    [{ ...base, checkoutTimeout: -1 }, 'pool.checkoutTimeout'],
    [{ ...base, checkoutTimeout: '5s' }, 'pool.checkoutTimeout'],
    [{ ...base, maxQueue: 1.5 }, 'pool.maxQueue'],
    [{ ...base, startConcurrency: 0 }, 'pool.startConcurrency'],
    [{ ...base, lazy: 'yes' }, 'pool.lazy'],
    [{ ...base, strategy: 'random' }, 'pool.strategy', /one of "fifo", "lifo"/],
    [{ ...base, sessions: true }, 'pool.sessions', /plain options object/],
    [{ ...base, sessions: 300_000 }, 'pool.sessions'],
    [{ ...base, sessions: {} }, 'pool.sessions.ttl'],
    [{ ...base, sessions: { ttl: '5m' } }, 'pool.sessions.ttl'],
    [{ ...base, sessions: { ttl: 1000, sweepInterval: 0 } }, 'pool.sessions.sweepInterval'],
    [{ ...base, sessions: { ttl: 1000, cleanup_interval: 500 } }, 'pool.sessions.cleanup_interval', /unknown option/],
    [{ ...base, health: true }, 'pool.health'],
    [{ ...base, health: {} }, 'pool.health.interval'],
    [{ ...base, health: { interval: 1000, maxFailures: 0 } }, 'pool.health.maxFailures'],
    [{ ...base, health: { interval: 1000, timeout: 'soon' } }, 'pool.health.timeout'],
    // The seed's option names are not ours: misspelt or foreign keys are refused, not ignored.
    [{ ...base, pool_size: 4 }, 'pool.pool_size', /unknown option/],
    [{ ...base, max_overflow: 2 }, 'pool.max_overflow'],
    [{ ...base, worker_module: 'PoolWorkerV2' }, 'pool.worker_module'],
    [{ ...base, checkout_timeout: 5000 }, 'pool.checkout_timeout'],
  ];
  for (const [options, key, message] of cases) {
    const err = invalid(t, options, key);
    if (err && message) t.regex(err.message, message, key);
  }
  const sized = invalid(t, { ...base, size: '4' }, 'pool.size');
  t.is(sized!.received, '4');
  t.regex(sized!.expected, /integer/);
  t.is(rt.processes().length, 0, 'nothing was started');
});

test.serial('seed error 13: Pool.run given the seed’s map of options ({ pool_name, max_retries }) or a list of pairs: InvalidOptionError naming the key; nothing runs', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  const asMap = await rejectionOf(Pool.run(rt, 'p', 'echo', 1, { pool_name: 'p', max_retries: 2 } as never));
  t.true(asMap instanceof InvalidOptionError, String(asMap));
  t.is((asMap as InvalidOptionError).key, 'Pool.run.pool_name');
  const asPairs = await rejectionOf(Pool.run(rt, 'p', 'echo', 1, [['max_retries', 2]] as never));
  t.true(asPairs instanceof InvalidOptionError, String(asPairs));
  t.is((asPairs as InvalidOptionError).key, 'Pool.run');
  t.is((await Pool.status(rt, 'p')).stats.checkouts, 0);
  // The right shape works.
  t.is(await Pool.run(rt, 'p', 'echo', 'ok', { timeout: 5000, checkoutTimeout: 1000 }), 'ok');
});
