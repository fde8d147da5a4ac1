/**
 * Pool.run's hot path (issue 13, DESIGN.md "Hot paths"): on an idle worker the pool costs its
 * caller no promise hop beyond what a direct call to that worker costs. Counted in microtask
 * turns after the bridge handled the reply, not in time: each promise layer between the reply
 * and the caller (the check-in's `then`, the breaker's `then`) is one more turn.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, callBridge, type Pid } from '../../src/index.js';
import { BridgeCore } from '../../src/bridge/bridgeCore.js';
import { startPool } from '../helpers/pool.js';

/**
 * Runs `call` (`onResume` in its caller's continuation) and returns how many microtask turns after the bridge handled its reply the
 * caller's continuation ran (0: in the first turn after the reply's handler).
 */
async function turnsAfterReply(core: BridgeCore, call: () => Promise<unknown>, onResume = () => {}): Promise<number> {
  const order: string[] = [];
  const onReply = core.onReply;
  core.onReply = function (this: BridgeCore, ...args: Parameters<BridgeCore['onReply']>) {
    onReply.apply(this, args);
    // Queued after whatever the reply settled: a ladder of turns to place the caller on.
    let ladder = Promise.resolve();
    for (let turn = 1; turn <= 5; turn++) ladder = ladder.then(() => void order.push(`turn ${turn}`));
  };
  try {
    await call().then(() => {
      onResume();
      order.push('caller');
    });
  } finally {
    core.onReply = onReply;
  }
  return order.indexOf('caller');
}

test.serial('regression: Pool.run adds promise hops to a call — the caller resumes as many turns after the reply as after a direct call to the same worker, and the worker is back when it does', async (t) => {
  await using rt = createTestRuntime();
  const { status } = await startPool(rt, { name: 'p', size: 1 });
  const worker: Pid = status.workers[0]!.pid;
  const core = rt.recordFor(worker)!.behaviour as BridgeCore;
  t.true(core instanceof BridgeCore);

  const direct = await turnsAfterReply(core, () => callBridge(rt, worker, 'echo', 'x'));
  // The manager's tables, read as the caller would find them when it resumes.
  const tables = (rt.actorOf('p')!.getSnapshot() as { context: { pool: { idle: Pid[] } } }).context.pool;
  let idleWhenResumed = -1;
  const pooled = await turnsAfterReply(core, () => Pool.run(rt, 'p', 'echo', 'x'), () => (idleWhenResumed = tables.idle.length));
  t.is(direct, 0);
  t.is(pooled, direct, 'no promise layer of its own between the reply and the caller');
  t.is(idleWhenResumed, 1, 'the worker was checked in before the caller resumed');
  const st = await Pool.status(rt, 'p');
  t.is(st.stats.checkouts, 1);
  t.is(st.busy, 0);
});
