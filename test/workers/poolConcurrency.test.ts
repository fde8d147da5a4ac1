/**
 * Many callers at once: 8 workers, 1000 concurrent calls over 100 sessions. Every session's
 * calls land on one Python process (each call reports the OS pid that ran it), every call gets
 * its own reply, and no call is lost or left pending: the pool ends idle with an empty queue.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, bridgeInfo } from '../../src/index.js';
import { track } from '../helpers/bridge.js';
import { startPool, workerOsPids } from '../helpers/pool.js';

test.serial('8 workers, 1000 concurrent calls over 100 sessions: each session stays on one Python process; none lost or pending', async (t) => {
  await using rt = createTestRuntime();
  const WORKERS = 8;
  const CALLS = 1000;
  const SESSIONS = 100;
  await startPool(rt, { name: 'p', size: WORKERS, sessions: { ttl: 60_000 } });
  const osPids = new Set((await workerOsPids(rt, 'p')).values());
  t.is(osPids.size, WORKERS);
  const calls = Array.from({ length: CALLS }, (_, i) => {
    const session = `s${i % SESSIONS}`;
    const args = { i, session };
    return { session, args, call: track(Pool.run<{ pid: number; args: typeof args }>(rt, 'p', 'whoami', args, { session })) };
  });
  await Promise.all(calls.map((c) => c.call.promise));
  const notResolved = calls.filter((c) => c.call.state !== 'resolved');
  t.deepEqual(
    notResolved.map((c) => `${c.args.i}: ${c.call.state} ${String(c.call.error)}`),
    [],
    'every call resolved',
  );
  const bySession = new Map<string, Set<number>>();
  for (const c of calls) {
    const r = c.call.value!;
    t.deepEqual(r.args, c.args, `call ${c.args.i} got its own reply`);
    t.true(osPids.has(r.pid), `call ${c.args.i} ran on a warmed worker`);
    let set = bySession.get(c.session);
    if (!set) bySession.set(c.session, (set = new Set()));
    set.add(r.pid);
  }
  t.is(bySession.size, SESSIONS);
  const split = [...bySession].filter(([, pids]) => pids.size !== 1).map(([s, pids]) => `${s}: ${[...pids]}`);
  t.deepEqual(split, [], 'every session ran on exactly one Python process');
  const used = new Set([...bySession.values()].map((s) => [...s][0]));
  // The first WORKERS sessions each found an idle worker of their own.
  t.is(used.size, WORKERS, `sessions are spread over every worker (${used.size} used)`);
  // Each session is bound to the worker whose process ran its calls.
  const workerOs = await workerOsPids(rt, 'p');
  for (const [session, pids] of bySession) {
    const st = await Pool.session(rt, 'p', session);
    if (st.state !== 'bound') {
      t.fail(`${session} is ${st.state}`);
      continue;
    }
    t.is(workerOs.get(st.worker.id), [...pids][0], session);
  }
  await rt.flush();
  const status = await Pool.status(rt, 'p');
  t.is(status.queued, 0, 'nobody is left waiting');
  t.is(status.busy, 0);
  t.is(status.idle, WORKERS);
  t.is(status.stats.checkouts, CALLS);
  t.is(status.stats.busyRejects, 0);
  t.is(status.stats.workerExits, 0);
  t.like(status.sessions, { bound: SESSIONS, expired: 0, lost: 0 });
  let replies = 0;
  let pending = 0;
  for (const w of status.workers) {
    const info = await bridgeInfo(rt, w.pid);
    replies += info.stats.replies;
    pending += info.pending;
  }
  t.is(replies, CALLS, 'Python answered each call once');
  t.is(pending, 0);
});
