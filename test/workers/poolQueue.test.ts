/**
 * Callers that must wait for a worker (issue 13, DESIGN.md "Hot paths"): a caller with no
 * session and no abort signal joins the pool's queue in its own turn, from the pool's shared
 * tables, and is handed the worker by the check-in that frees it, also in that caller's turn;
 * the manager takes no step for either. What the queue promises is unchanged: FIFO, the
 * checkout deadline on the runtime clock, maxQueue, PoolStartError, PoolStoppedError.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, CheckoutTimeoutError, PoolStoppedError, type Pid } from '../../src/index.js';
import { track } from '../helpers/bridge.js';
import { hold, nextEvent, startPool } from '../helpers/pool.js';

/** How many snapshots the pool manager emits from now on: one per event it processes. */
function countSteps(rt: ReturnType<typeof createTestRuntime>, name: string): () => number {
  let steps = 0;
  rt.actorOf(name)!.subscribe({ next: () => void steps++, error: () => undefined });
  return () => steps;
}

test.serial('regression: each queued Pool.run cost the pool manager a step (a kernel call, a macrostep) — 20 callers queue and are served with none', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  const h = hold(rt, 'p');
  await h.got;
  const steps = countSteps(rt, 'p');
  const callers = Array.from({ length: 20 }, (_, i) => track(Pool.run(rt, 'p', 'echo', i)));
  t.is((await Pool.status(rt, 'p')).queued, 20, 'all queued at once, in their own turns');
  const before = steps();
  h.release();
  await Promise.all(callers.map((c) => c.promise));
  t.deepEqual(
    callers.map((c) => c.value),
    Array.from({ length: 20 }, (_, i) => i),
  );
  // Pool.status is itself a call to the manager: one step, counted before the release.
  t.is(before, 1, 'joining the queue took no step');
  t.is(steps(), before, 'being served took no step');
  const st = await Pool.status(rt, 'p');
  t.is(st.queued, 0);
  t.is(st.idle, 1);
  t.is(st.stats.checkouts, 21);
});

test.serial('a queued caller and a timed-out one in between: FIFO for the rest, the timed-out one never gets the worker, no deadline is left', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, checkoutTimeout: 1000 });
  const h = hold(rt, 'p');
  await h.got;
  const first = track(Pool.run(rt, 'p', 'echo', 'first'));
  const impatient = track(Pool.run(rt, 'p', 'echo', 'impatient', { checkoutTimeout: 10 }));
  const last = track(Pool.run(rt, 'p', 'echo', 'last', { checkoutTimeout: 'infinity' }));
  await rt.advance(10);
  await impatient.promise;
  t.true(impatient.error instanceof CheckoutTimeoutError, String(impatient.error));
  t.regex((impatient.error as Error).message, /pool 'p': no worker became free within 10 ms/);
  t.is((await Pool.status(rt, 'p')).queued, 2);
  h.release();
  await Promise.all([first.promise, last.promise]);
  t.is(first.value, 'first');
  t.is(last.value, 'last');
  t.is((await Pool.status(rt, 'p')).stats.checkouts, 3, 'the holder, first and last');
  t.is(rt.clock.pending, 0, 'no checkout deadline left on the clock');
});

test.serial('the pool manager killed while callers wait: each gets PoolStoppedError naming the reason', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, checkoutTimeout: 5000 });
  const h = hold(rt, 'p');
  await h.got;
  const waiting = [track(Pool.run(rt, 'p', 'echo', 1)), track(Pool.run(rt, 'p', 'echo', 2))];
  await rt.flush();
  const manager = rt.whereis('p') as Pid;
  rt.exit(manager, 'kill');
  await Promise.all(waiting.map((w) => w.promise));
  for (const w of waiting) {
    t.true(w.error instanceof PoolStoppedError, String(w.error));
    t.regex((w.error as Error).message, /pool 'p' stopped \(killed\)/);
  }
  h.release();
  await h.done.promise.catch(() => undefined);
});

test.serial('regression: a lease of a killed pool manager, given back after its restart, does not free a worker its successor lent', async (t) => {
  // The check-in of a lease whose manager was gone went to the pool's name as a cast: the new
  // manager numbers its leases from 1 again, and checked in the lease of that number, its own
  // caller's, handing that caller's worker to the next one while still in use.
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1 });
  const old = hold(rt, 'p');
  await old.got;
  const restarted = nextEvent(rt, 'pool.workerStarted');
  rt.exit(rt.whereis('p') as Pid, 'kill');
  await restarted;
  const current = hold(rt, 'p');
  await current.got;
  old.release();
  await old.done.promise;
  const st = await Pool.status(rt, 'p');
  t.is(st.busy, 1, "the successor's lease still holds its worker");
  t.is(st.idle, 0);
  current.release();
  await current.done.promise;
  t.is((await Pool.status(rt, 'p')).idle, 1);
});
