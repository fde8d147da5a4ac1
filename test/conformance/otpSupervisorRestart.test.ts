/**
 * OTP supervisor_SUITE, groups restart_one_for_one, restart_one_for_all,
 * restart_simple_one_for_one and restart_rest_for_one (otp-semantics §2.1 scenarios 33–46;
 * rules 27–33). simple_one_for_one maps to dynamicSupervisor() (DynamicSupervisor semantics:
 * count_children's `specs` is the number of children, not 1).
 *
 * A crash is OTP's `terminate(SupPid, Pid, Id, abnormal)`: an exit signal with reason
 * `abnormal` to the (non-trapping) child. The supervisor is linked to a trapping observer, so
 * `check_exit([SupPid])` reads the EXIT it got.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { dynamicSupervisor, restartChild, startChild, supervisor, terminateChild, whichChildren, type Pid, type RestartType } from '../../src/index.js';
import { scriptedStart, worker } from '../helpers/otpWorkers.js';
import {
  assertExited,
  counts,
  exitReason,
  livePid,
  rows,
  startLinked,
  startWithInfo,
  startedIds,
  scripted,
  switchableStart,
  terminate,
  workerSpec,
} from '../helpers/otpSupervisorHelpers.js';

type Rt = ReturnType<typeof createTestRuntime>;

async function startedPid(rt: Rt, sup: Pid, spec: Parameters<typeof startChild>[2]): Promise<Pid> {
  const r = await startChild(rt, sup, spec);
  if (!r.ok || r.pid === undefined) throw new Error(`start_child failed: ${JSON.stringify(r)}`);
  return r.pid;
}

async function newestPid(rt: Rt, sup: Pid): Promise<Pid> {
  const row = (await whichChildren(rt, sup)).find((c) => typeof c.pid === 'object');
  if (row === undefined || typeof row.pid !== 'object') throw new Error('no live child');
  return row.pid;
}

// --- one_for_one ---------------------------------------------------------------------------

test('★ one_for_one: crash child1 → only child1 gets a new pid, child2 keeps its pid, counts [2,2,0,2]; 3 crashes within the period → the supervisor EXITs shutdown', async (t) => {
  await using rt = createTestRuntime();
  const { sup, exitsFrom } = await startLinked(rt, supervisor({ strategy: 'one_for_one', maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const c1 = await startedPid(rt, sup, workerSpec('child1'));
  const c2 = await startedPid(rt, sup, workerSpec('child2'));

  await terminate(rt, c1, 'abnormal');
  const which = await whichChildren(rt, sup);
  t.is(which.length, 2);
  t.is(String(which.find((c) => c.id === 'child2')?.pid), String(c2), 'child2 untouched');
  const c1b = which.find((c) => c.id === 'child1')?.pid;
  t.true(typeof c1b === 'object' && c1b.id !== c1.id, 'child1 restarted with a new pid');
  t.true(rt.isAlive(c2));
  t.deepEqual(await counts(rt, sup), [2, 2, 0, 2]);

  // Restart frequency: the 3rd restart within 3600 s is one too many.
  await terminate(rt, c2, 'abnormal');
  t.true(rt.isAlive(sup));
  await terminate(rt, await newestPid(rt, sup), 'abnormal');
  assertExited(t, rt, sup, 'shutdown');
  t.deepEqual(exitsFrom(), ['shutdown']);
  t.deepEqual(rt.processes().filter((p) => p.id !== sup.id).length, 1, 'only the observer is left');
});

test('one_for_one_escalation: a child whose restart always fails → the retries exhaust intensity 4, the supervisor exits shutdown and its other child dies too', async (t) => {
  await using rt = createTestRuntime();
  const failing = switchableStart();
  const { sup, exitsFrom } = await startLinked(rt, supervisor({ strategy: 'one_for_one', maxRestarts: 4, maxSeconds: 3600 }), 'sup_test');
  const c1 = await startedPid(rt, sup, { id: 'child1', start: failing.start, shutdown: 1000 });
  const c2 = await startedPid(rt, sup, workerSpec('child2'));
  failing.control.fail = true;
  await terminate(rt, c1, 'abnormal');
  assertExited(t, rt, sup, 'shutdown');
  assertExited(t, rt, c2, 'shutdown');
  t.deepEqual(exitsFrom(), ['shutdown']);
  t.is(failing.control.failures, 4, 'restart attempts 1–4 fail; the 5th add_restart exceeds intensity 4');
});

// --- one_for_all ---------------------------------------------------------------------------

test('★ one_for_all: crash child1 → child2 is terminated (shutdown) too; both restarted with new pids, counts [2,2,0,2]; a 3rd restart within the period → the supervisor EXITs shutdown', async (t) => {
  await using rt = createTestRuntime();
  const { sup, exitsFrom } = await startLinked(rt, supervisor({ strategy: 'one_for_all', maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const c1 = await startedPid(rt, sup, workerSpec('child1'));
  const c2 = await startedPid(rt, sup, workerSpec('child2'));

  await terminate(rt, c1, 'abnormal');
  assertExited(t, rt, c2, 'shutdown', 'child2 terminated as a bystander');
  const which = await whichChildren(rt, sup);
  t.is(which.length, 2);
  const pids = which.map((c) => c.pid);
  t.true(pids.every((p) => typeof p === 'object' && rt.isAlive(p)));
  t.false(pids.some((p) => typeof p === 'object' && (p.id === c1.id || p.id === c2.id)), 'no old child is still in the list');
  t.deepEqual(await counts(rt, sup), [2, 2, 0, 2]);

  await terminate(rt, await newestPid(rt, sup), 'abnormal');
  t.true(rt.isAlive(sup));
  await terminate(rt, await newestPid(rt, sup), 'abnormal');
  assertExited(t, rt, sup, 'shutdown');
  t.deepEqual(exitsFrom(), ['shutdown']);
});

test('one_for_all_escalation: the other child fails to restart → retries exhaust intensity; the supervisor and its children exit', async (t) => {
  await using rt = createTestRuntime();
  const failing = switchableStart();
  const { sup, exitsFrom } = await startLinked(rt, supervisor({ strategy: 'one_for_all', maxRestarts: 4, maxSeconds: 3600 }), 'sup_test');
  const c1 = await startedPid(rt, sup, workerSpec('child1'));
  const c2 = await startedPid(rt, sup, { id: 'child2', start: failing.start, shutdown: 1000 });
  failing.control.fail = true;
  await terminate(rt, c1, 'abnormal');
  assertExited(t, rt, c2, 'shutdown');
  assertExited(t, rt, sup, 'shutdown');
  t.deepEqual(exitsFrom(), ['shutdown']);
  // Intensity 4: the crash and three retries restart the group (child1 starts, child2 fails);
  // the fourth retry is the fifth restart in the window and ends the supervisor. Every child1
  // restarted on the way is terminated again before the next group restart.
  const child1Pids = rt.trace.of('supervisor.childStarted').filter((e) => e.id === 'child1' && e.restart).map((e) => e.pid);
  t.is(child1Pids.length, 4);
  for (const p of child1Pids) t.is(exitReason(rt, p), 'shutdown');
  t.is(rt.processes().length, 1, 'only the observer is left');
});

test('one_for_all_other_child_fails_restart: child2 fails ({stop, normal}) during the group restart → the restarted child1 is terminated (shutdown), then the whole group is restarted again', async (t) => {
  await using rt = createTestRuntime();
  const child2 = scriptedStart(['ok', { error: 'normal' }]); // then ok
  const { sup } = await startLinked(
    rt,
    supervisor({ strategy: 'one_for_all', maxRestarts: 3, maxSeconds: 3600, children: [workerSpec('child1'), { id: 'child2', start: child2.start, shutdown: 1000 }] }),
  );
  const c1 = await livePid(rt, sup, 'child1');
  rt.trace.clear();
  await terminate(rt, c1, 'die');
  const restarted1 = rt.trace.of('supervisor.childStarted').filter((e) => e.id === 'child1').map((e) => e.pid);
  t.is(restarted1.length, 2, 'child1 restarted, terminated, restarted');
  t.is(exitReason(rt, restarted1[0]!), 'shutdown', 'the first restarted child1 was shut down');
  t.true(rt.isAlive(restarted1[1]!));
  t.deepEqual(startedIds(rt, sup), ['child1', 'child1', 'child2']);
  t.deepEqual(rt.trace.of('supervisor.childStartFailed').map((e) => [e.id, e.reason]), [['child2', 'normal']]);
  t.deepEqual(await counts(rt, sup), [2, 2, 0, 2]);
  t.true(rt.isAlive(sup));
});

test('one_for_all: a non-temporary sibling stopped with terminate_child (pid undefined) is started again by the group restart (rule 28)', async (t) => {
  await using rt = createTestRuntime();
  const { sup } = await startLinked(rt, supervisor({ strategy: 'one_for_all', children: [workerSpec('a'), workerSpec('b'), workerSpec('c', { restart: 'transient' })] }));
  t.deepEqual(await terminateChild(rt, sup, 'c'), { ok: true });
  t.deepEqual(await counts(rt, sup), [3, 2, 0, 3]);
  await terminate(rt, await livePid(rt, sup, 'a'), 'abnormal');
  t.deepEqual(await counts(rt, sup), [3, 3, 0, 3]);
  t.true(rt.isAlive(await livePid(rt, sup, 'c')));
});

// --- simple_one_for_one → dynamicSupervisor -----------------------------------------------

test('★ simple_one_for_one (dynamicSupervisor): crash one dynamic child → only it is restarted, counts [2,2,0,2]; exceeding intensity 2 → the supervisor exits shutdown', async (t) => {
  await using rt = createTestRuntime();
  const { sup, exitsFrom } = await startLinked(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const spec = { start: worker, shutdown: 1000 };
  const c1 = await startedPid(rt, sup, spec);
  const c2 = await startedPid(rt, sup, spec);
  await terminate(rt, c1, 'abnormal');
  const pids = (await whichChildren(rt, sup)).map((c) => c.pid);
  t.is(pids.length, 2);
  t.true(pids.some((p) => String(p) === String(c2)), 'child2 untouched');
  t.false(pids.some((p) => String(p) === String(c1)));
  // DynamicSupervisor: specs = children (simple_one_for_one would say [1,2,0,2]).
  t.deepEqual(await counts(rt, sup), [2, 2, 0, 2]);

  await terminate(rt, c2, 'abnormal');
  t.true(rt.isAlive(sup));
  await terminate(rt, await newestPid(rt, sup), 'abnormal');
  assertExited(t, rt, sup, 'shutdown');
  t.deepEqual(exitsFrom(), ['shutdown']);
});

test('simple_one_for_one_shutdown (dynamicSupervisor): children are shut down in parallel: two take 1 s and exit shutdown, one taking 5 s is killed at its 2 s shutdown; the whole shutdown takes 2 s', async (t) => {
  await using rt = createTestRuntime();
  const sup = (await startLinked(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }))).sup;
  const spec = { start: worker, input: { trap: true, terminateMs: 1000 }, shutdown: 2000 };
  const c1 = await startedPid(rt, sup, spec);
  const c2 = await startedPid(rt, sup, spec);
  // Takes 5 s in OTP; never finishing is the same here, as it is killed at 2 s either way.
  const c3 = await startedPid(rt, sup, { start: worker, input: { trap: true, terminateMs: 'forever' }, shutdown: 2000 });
  rt.exit(sup, 'shutdown');
  await rt.advance(1000);
  assertExited(t, rt, c1, 'shutdown');
  assertExited(t, rt, c2, 'shutdown');
  t.true(rt.isAlive(c3));
  await rt.advance(999);
  t.true(rt.isAlive(sup), 'not before 2 s');
  await rt.advance(1);
  assertExited(t, rt, c3, 'killed');
  assertExited(t, rt, sup, 'shutdown');
});

test('simple_one_for_one_extra (dynamicSupervisor): {ok, Pid, extra_info} is returned; the automatic restart works; intensity still applies', async (t) => {
  await using rt = createTestRuntime();
  const { sup, exitsFrom } = await startLinked(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const spec = { start: startWithInfo('extra_info'), shutdown: 1000 };
  const r1 = await startChild(rt, sup, spec);
  const r2 = await startChild(rt, sup, spec);
  t.like(r1, { ok: true, info: 'extra_info' });
  t.like(r2, { ok: true, info: 'extra_info' });
  const c1 = (r1 as { pid: Pid }).pid;
  const c2 = (r2 as { pid: Pid }).pid;
  await terminate(rt, c1, 'abnormal');
  const pids = (await whichChildren(rt, sup)).map((c) => String(c.pid));
  t.is(pids.length, 2);
  t.true(pids.includes(String(c2)));
  t.deepEqual(await counts(rt, sup), [2, 2, 0, 2]);
  await terminate(rt, c2, 'abnormal');
  await terminate(rt, await newestPid(rt, sup), 'abnormal');
  assertExited(t, rt, sup, 'shutdown');
  t.deepEqual(exitsFrom(), ['shutdown']);
});

test('simple_one_for_one_escalation (dynamicSupervisor): a child whose restart fails → the supervisor and its other child exit', async (t) => {
  await using rt = createTestRuntime();
  const failing = switchableStart();
  const { sup, exitsFrom } = await startLinked(rt, dynamicSupervisor({ maxRestarts: 4, maxSeconds: 3600 }), 'sup_test');
  const c1 = await startedPid(rt, sup, { start: failing.start, shutdown: 1000 });
  const c2 = await startedPid(rt, sup, { start: worker, shutdown: 1000 });
  failing.control.fail = true;
  await terminate(rt, c1, 'abnormal');
  assertExited(t, rt, sup, 'shutdown');
  assertExited(t, rt, c2, 'shutdown');
  t.deepEqual(exitsFrom(), ['shutdown']);
});

for (const restart of ['transient', 'permanent'] as RestartType[]) {
  test(`simple_one_for_one_restart_ignore (dynamicSupervisor, ${restart}): a restart whose start returns ignore removes the child (which_children [])`, async (t) => {
    await using rt = createTestRuntime();
    const { start } = scripted(['ok', 'ok', 'ignore']);
    const { sup } = await startLinked(rt, dynamicSupervisor({ maxRestarts: 10, maxSeconds: 3600 }));
    const c1 = await startedPid(rt, sup, { start, restart, shutdown: 1000 });
    t.deepEqual(await rows(rt, sup), [[undefined, String(c1)]]);
    await terminate(rt, c1, 'kill');
    const c2 = await newestPid(rt, sup);
    t.not(c2.id, c1.id);
    await terminate(rt, c2, 'kill');
    t.deepEqual(await whichChildren(rt, sup), []);
    t.deepEqual(await counts(rt, sup), [0, 0, 0, 0]);
    rt.exit(sup, 'shutdown');
    await rt.flush();
    assertExited(t, rt, sup, 'shutdown');
  });
}

// --- rest_for_one --------------------------------------------------------------------------

test('★ rest_for_one: 3 children; crash child2 → child3 is terminated and both are restarted, child1 keeps its pid, counts [3,3,0,3]; crashes past intensity 2 → the supervisor EXITs shutdown', async (t) => {
  await using rt = createTestRuntime();
  const { sup, exitsFrom } = await startLinked(rt, supervisor({ strategy: 'rest_for_one', maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const c1 = await startedPid(rt, sup, workerSpec('child1'));
  const c2 = await startedPid(rt, sup, workerSpec('child2'));
  const c3 = await startedPid(rt, sup, workerSpec('child3'));
  t.deepEqual(await counts(rt, sup), [3, 3, 0, 3]);

  await terminate(rt, c2, 'abnormal');
  assertExited(t, rt, c3, 'shutdown', 'child3 did die');
  const which = await whichChildren(rt, sup);
  t.is(which.length, 3);
  t.deepEqual(await counts(rt, sup), [3, 3, 0, 3]);
  t.is(String(which.find((c) => c.id === 'child1')?.pid), String(c1), 'child1 kept its pid');
  const pids = which.map((c) => String(c.pid));
  t.false(pids.includes(String(c2)));
  t.false(pids.includes(String(c3)));

  await terminate(rt, await livePid(rt, sup, 'child3'), 'abnormal');
  t.true(rt.isAlive(sup));
  t.is(String(await livePid(rt, sup, 'child1')), String(c1));
  await terminate(rt, await livePid(rt, sup, 'child2'), 'abnormal');
  assertExited(t, rt, sup, 'shutdown');
  t.deepEqual(exitsFrom(), ['shutdown']);
  assertExited(t, rt, c1, 'shutdown', 'child1 goes down with the supervisor');
});

test('rest_for_one_escalation: the later child fails to restart → the supervisor exits; every child exits', async (t) => {
  await using rt = createTestRuntime();
  const failing = switchableStart();
  const { sup, exitsFrom } = await startLinked(rt, supervisor({ strategy: 'rest_for_one', maxRestarts: 4, maxSeconds: 3600 }), 'sup_test');
  const c1 = await startedPid(rt, sup, workerSpec('child1'));
  const c2 = await startedPid(rt, sup, { id: 'child2', start: failing.start, shutdown: 1000 });
  failing.control.fail = true;
  await terminate(rt, c1, 'abnormal');
  assertExited(t, rt, c2, 'shutdown');
  assertExited(t, rt, sup, 'shutdown');
  t.deepEqual(exitsFrom(), ['shutdown']);
  t.is(rt.processes().length, 1, 'only the observer is left');
});

test('rest_for_one_other_child_fails_restart: the retry restarts only the failed child (and those after it); child1 is not restarted again', async (t) => {
  await using rt = createTestRuntime();
  const child2 = scriptedStart(['ok', { error: 'normal' }]); // then ok
  const { sup } = await startLinked(
    rt,
    supervisor({ strategy: 'rest_for_one', maxRestarts: 3, maxSeconds: 3600, children: [workerSpec('child1'), { id: 'child2', start: child2.start, shutdown: 1000 }] }),
  );
  const c1 = await livePid(rt, sup, 'child1');
  rt.trace.clear();
  await terminate(rt, c1, 'die');
  t.deepEqual(startedIds(rt, sup), ['child1', 'child2'], 'child1 once, then child2 on the retry');
  const c1b = await livePid(rt, sup, 'child1');
  t.is(exitReason(rt, c1b), 'alive');
  t.is(String(rt.trace.of('supervisor.childStarted')[0]!.pid), String(c1b));
  t.deepEqual(await counts(rt, sup), [2, 2, 0, 2]);
});

test('rest_for_one: a stopped (terminate_child) non-temporary child after the failed one is started by the restart too (rule 28/29)', async (t) => {
  await using rt = createTestRuntime();
  const { sup } = await startLinked(rt, supervisor({ strategy: 'rest_for_one', children: [workerSpec('a'), workerSpec('b'), workerSpec('c')] }));
  const a = await livePid(rt, sup, 'a');
  t.deepEqual(await terminateChild(rt, sup, 'c'), { ok: true });
  await terminate(rt, await livePid(rt, sup, 'b'), 'abnormal');
  t.deepEqual(await counts(rt, sup), [3, 3, 0, 3]);
  t.is(String(await livePid(rt, sup, 'a')), String(a));
});

test('one_for_all: bystanders are terminated in reverse start order, each with its own shutdown spec (brutal_kill → killed; a slow trapping child is killed when its time runs out) (rule 28)', async (t) => {
  await using rt = createTestRuntime();
  const { sup } = await startLinked(
    rt,
    supervisor({
      strategy: 'one_for_all',
      children: [
        workerSpec('a', { shutdown: 'brutal_kill' }, { trap: true, terminateMs: 'forever' }),
        workerSpec('b'),
        workerSpec('c', { shutdown: 50 }, { trap: true, terminateMs: 'forever' }),
        workerSpec('d', { shutdown: 1000 }),
      ],
    }),
  );
  const [a, c, d] = [await livePid(rt, sup, 'a'), await livePid(rt, sup, 'c'), await livePid(rt, sup, 'd')];
  rt.trace.clear();
  await terminate(rt, await livePid(rt, sup, 'b'), 'abnormal');
  t.is(exitReason(rt, d), 'shutdown');
  t.is(exitReason(rt, c), 'alive', 'c is given its 50 ms');
  t.is(exitReason(rt, a), 'alive', 'a waits for c');
  await rt.advance(50);
  t.is(exitReason(rt, c), 'killed');
  t.is(exitReason(rt, a), 'killed');
  t.deepEqual(rt.trace.exits().map((e) => e.id.split('/').pop()), ['b', 'd', 'c', 'a']);
  t.deepEqual(startedIds(rt, sup), ['a', 'b', 'c', 'd']);
});

test('restart returning ignore (static, rule 33): the child stays with pid undefined and its spec is kept; restart_child works later', async (t) => {
  await using rt = createTestRuntime();
  const { start } = scripted(['ok', 'ignore']);
  const { sup } = await startLinked(rt, supervisor({ children: [{ id: 'child1', start }, workerSpec('child2')] }));
  await terminate(rt, await livePid(rt, sup, 'child1'), 'abnormal');
  t.deepEqual(await rows(rt, sup), [
    ['child2', String(await livePid(rt, sup, 'child2'))],
    ['child1', undefined],
  ]);
  t.deepEqual(await counts(rt, sup), [2, 1, 0, 2]);
  t.like(await restartChild(rt, sup, 'child1'), { ok: true });
  t.deepEqual(await counts(rt, sup), [2, 2, 0, 2]);
});
