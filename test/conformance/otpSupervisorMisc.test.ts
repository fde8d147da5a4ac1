/**
 * OTP supervisor_SUITE, the misc tests (otp-semantics §2.1 scenarios 58–76): child_unlink,
 * tree, count_children(_supervisor), count_restarting_children,
 * do_not_save_child_specs_for_temporary_children, temporary_bystander,
 * simple_global_supervisor (with local names), hanging_restart_loop(_rest_for_one, _simple),
 * order_of_children.
 *
 * OTP's supervisor_deadlock child (a start that sleeps 2 s and then fails) is
 * `switchableStart({ failDelayMs: 2000 })`.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  countChildren,
  deleteChild,
  dynamicSupervisor,
  restartChild,
  startChild,
  supervisor,
  terminateChild,
  whichChildren,
  type ChildSpec,
  type ChildStartContext,
  type Pid,
  type StartFunctionResult,
  type Strategy,
} from '../../src/index.js';
import { worker } from '../helpers/otpWorkers.js';
import {
  assertExited,
  counts,
  exitReason,
  livePid,
  rows,
  settle,
  shutdownSignals,
  startLinked,
  startSup,
  switchableStart,
  terminate,
  workerSpec,
} from '../helpers/otpSupervisorHelpers.js';

type Rt = ReturnType<typeof createTestRuntime>;

async function startedPid(rt: Rt, sup: Pid | string, spec: ChildSpec): Promise<Pid> {
  const r = await startChild(rt, sup, spec);
  if (!r.ok || r.pid === undefined) throw new Error(`start_child failed: ${JSON.stringify(r)}`);
  return r.pid;
}

test('child_unlink: a child that unlinked itself from its supervisor and ignores shutdown → terminate_child still finishes (killed after 1000 ms) and the supervisor does not hang', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  // naughty_child: starts linked, then unlinks itself; it traps exits and never finishes terminating.
  const naughty = async (ctx: ChildStartContext): Promise<StartFunctionResult> => {
    const pid = (await ctx.runtime.start(worker, { parent: ctx.supervisor, link: ctx.supervisor, input: { trap: true, terminateMs: 'forever' } })) as Pid;
    ctx.runtime.unlink(pid, ctx.supervisor);
    return pid;
  };
  const child = await startedPid(rt, sup, { id: 'naughty_child', start: naughty, shutdown: 1000 });
  let result: unknown;
  const terminating = terminateChild(rt, sup, 'naughty_child').then((r) => (result = r));
  rt.send(sup, { type: 'foo' }); // OTP: SupPid ! foo
  await rt.advance(999);
  t.is(result, undefined);
  await rt.advance(1);
  await terminating;
  t.deepEqual(result, { ok: true });
  assertExited(t, rt, child, 'killed');
  t.deepEqual(await rows(rt, sup), [['naughty_child', undefined]]);
  t.true(
    rt.logs.records.some((r) => r.level === 'warn' && /unexpected message/.test(r.message)),
    'the foo message was taken out of the mailbox and reported',
  );
});

test('tree: nested supervisors under a one_for_all top: a crashed worker restarts alone; a child supervisor that exceeds its intensity makes the top restart the whole subtree, without the dynamically added grandchildren, and the terminated transient child supervisor runs again', async (t) => {
  await using rt = createTestRuntime();
  const child3 = switchableStart(); // supervisor_1:start_child(error): the first start works, restarts fail
  const childSup1: ChildSpec = {
    id: 'supchild1',
    start: supervisor({ strategy: 'one_for_one', maxRestarts: 4, maxSeconds: 3600, children: [workerSpec('child1'), workerSpec('child2')] }),
    restart: 'permanent',
    shutdown: 'infinity',
    type: 'supervisor',
  };
  const childSup2: ChildSpec = { id: 'supchild2', start: supervisor({ strategy: 'one_for_one', maxRestarts: 4, maxSeconds: 3600 }), shutdown: 'infinity', type: 'supervisor' };
  const childSup3: ChildSpec = { ...childSup2, id: 'supchild3', restart: 'transient' };

  const { sup: top } = await startLinked(rt, supervisor({ strategy: 'one_for_all', maxRestarts: 4, maxSeconds: 3600 }), 'sup_test');
  const sup1 = await startedPid(rt, top, childSup1);
  const sup2 = await startedPid(rt, top, childSup2);
  const sup3 = await startedPid(rt, top, childSup3);
  t.deepEqual(await terminateChild(rt, top, 'supchild3'), { ok: true });
  assertExited(t, rt, sup3, 'shutdown');
  t.deepEqual(await counts(rt, top), [3, 2, 3, 0]);

  const which1 = await whichChildren(rt, sup1);
  t.deepEqual(which1.map((c) => c.id), ['child2', 'child1']);
  const [cpid2, cpid1] = which1.map((c) => String(c.pid));
  t.deepEqual(await counts(rt, sup1), [2, 2, 0, 2]);
  t.deepEqual(await counts(rt, sup2), [0, 0, 0, 0]);

  // Dynamically added children.
  const cpid3 = await startedPid(rt, sup2, { id: 'child3', start: child3.start, shutdown: 1000 });
  child3.control.fail = true;
  const cpid4 = await startedPid(rt, sup2, workerSpec('child4'));
  t.deepEqual(await counts(rt, sup2), [2, 2, 0, 2]);

  // Only the process that dies is restarted.
  await terminate(rt, cpid4, 'abnormal');
  t.deepEqual((await whichChildren(rt, sup1)).map((c) => String(c.pid)), [cpid2, cpid1]);
  const which2 = await whichChildren(rt, sup2);
  t.deepEqual(which2.map((c) => c.id), ['child4', 'child3']);
  t.is(String(which2[1]!.pid), String(cpid3));
  t.not(String(which2[0]!.pid), String(cpid4));
  t.deepEqual(await counts(rt, sup2), [2, 2, 0, 2]);

  // child3's restarts fail: sup2 exceeds its intensity, exits shutdown, and the one_for_all top
  // restarts the whole tree, the dynamically added children excepted.
  await terminate(rt, cpid3, 'abnormal');
  await rt.advance(1000);
  assertExited(t, rt, sup2, 'shutdown');
  assertExited(t, rt, sup1, 'shutdown');
  t.true(rt.isAlive(top));
  const whichTop = await whichChildren(rt, top);
  t.deepEqual(whichTop.map((c) => c.id), ['supchild3', 'supchild2', 'supchild1']);
  t.true(whichTop.every((c) => typeof c.pid === 'object' && rt.isAlive(c.pid)), 'all three run, supchild3 (terminated, transient) included');
  t.deepEqual(await counts(rt, top), [3, 3, 3, 0]);
  const [newSup3, newSup2, newSup1] = whichTop.map((c) => c.pid as Pid) as [Pid, Pid, Pid];
  t.deepEqual((await whichChildren(rt, newSup1)).map((c) => c.id), ['child2', 'child1']);
  t.deepEqual(await counts(rt, newSup1), [2, 2, 0, 2]);
  t.deepEqual(await whichChildren(rt, newSup2), []);
  t.deepEqual(await counts(rt, newSup2), [0, 0, 0, 0]);
  t.deepEqual(await whichChildren(rt, newSup3), []);
  t.deepEqual(await counts(rt, newSup3), [0, 0, 0, 0]);
  // The old workers are all gone.
  for (const p of [cpid1, cpid2]) t.false(rt.processes().some((q) => String(q) === p));
});

test('count_children (dynamic, temporary): 300 then 600 children → [300,300,0,300] then [600,600,0,600]; after killing them all → [0,0,0,0]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  const spec: ChildSpec = { start: worker, restart: 'temporary', shutdown: 1000 };
  for (let i = 0; i < 300; i++) await startChild(rt, sup, spec);
  const children = await whichChildren(rt, sup);
  t.is(children.length, 300);
  // DynamicSupervisor: specs = number of children (simple_one_for_one: [1,1000,0,1000]).
  t.deepEqual(await counts(rt, sup), [300, 300, 0, 300]);
  for (let i = 0; i < 300; i++) await startChild(rt, sup, spec);
  const children2 = await whichChildren(rt, sup);
  t.is(children2.length, 600);
  t.deepEqual(await counts(rt, sup), [600, 600, 0, 600]);
  t.deepEqual(await whichChildren(rt, sup), children2, 'stable between calls');
  for (const c of children2) rt.exit(c.pid as Pid, 'kill');
  await rt.flush();
  t.deepEqual(await counts(rt, sup), [0, 0, 0, 0]);
  t.true(rt.isAlive(sup), 'temporary children never count as restarts');
});

test('count_children_supervisor (dynamic, type supervisor): [N,N,N,0]; after killing them all → [0,0,0,0]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  const spec: ChildSpec = { start: worker, restart: 'temporary', shutdown: 'infinity', type: 'supervisor' };
  for (let i = 0; i < 100; i++) await startChild(rt, sup, spec);
  t.deepEqual(await counts(rt, sup), [100, 100, 100, 0]);
  t.true((await whichChildren(rt, sup)).every((c) => c.type === 'supervisor' && c.id === undefined));
  for (const c of await whichChildren(rt, sup)) rt.exit(c.pid as Pid, 'kill');
  await rt.flush();
  t.deepEqual(await counts(rt, sup), [0, 0, 0, 0]);
});

test('count_restarting_children (dynamic): children whose restarts fail are counted (specs, workers) but not active: [3,1,0,3]; once restarts succeed [3,3,0,3]', async (t) => {
  await using rt = createTestRuntime();
  const deadlock = switchableStart({ failDelayMs: 2000 });
  const sup = await startSup(rt, dynamicSupervisor({ maxRestarts: 20, maxSeconds: 10 }));
  const spec: ChildSpec = { start: deadlock.start, shutdown: 'brutal_kill' };
  t.deepEqual(await counts(rt, sup), [0, 0, 0, 0]);
  const ch1 = [await startedPid(rt, sup, spec)];
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
  ch1.push(await startedPid(rt, sup, spec));
  t.deepEqual(await counts(rt, sup), [2, 2, 0, 2]);
  ch1.push(await startedPid(rt, sup, spec));
  t.deepEqual(await counts(rt, sup), [3, 3, 0, 3]);

  for (const p of ch1) rt.cast(p, { exit: 'error' }); // supervisor_deadlock:restart_child(Pid)
  await rt.advance(400);
  t.deepEqual(await counts(rt, sup), [3, 3, 0, 3]);
  const ch2 = (await whichChildren(rt, sup)).map((c) => c.pid as Pid);
  t.false(ch2.some((p) => ch1.some((q) => q.id === p.id)));

  deadlock.control.fail = true;
  rt.cast(ch2[0]!, { exit: 'error' });
  rt.cast(ch2[1]!, { exit: 'error' });
  await rt.advance(4000);
  t.deepEqual(await settle(rt, countChildren(rt, sup)).then((c) => [c.specs, c.active, c.supervisors, c.workers]), [3, 1, 0, 3]);
  t.deepEqual(
    (await settle(rt, whichChildren(rt, sup))).map((c) => (typeof c.pid === 'object' ? 'pid' : c.pid)).sort(),
    ['pid', 'restarting', 'restarting'],
  );

  deadlock.control.fail = false;
  await rt.advance(4000);
  t.deepEqual(await settle(rt, countChildren(rt, sup)).then((c) => [c.specs, c.active, c.supervisors, c.workers]), [3, 3, 0, 3]);
  t.deepEqual(await terminateChild(rt, sup, ch2[2]!), { ok: true });
  t.deepEqual(await counts(rt, sup), [2, 2, 0, 2]);
  const ch3 = (await whichChildren(rt, sup)).map((c) => c.pid as Pid);
  t.deepEqual(await terminateChild(rt, sup, ch3[0]!), { ok: true });
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
  t.deepEqual(await terminateChild(rt, sup, ch3[1]!), { ok: true });
  t.deepEqual(await counts(rt, sup), [0, 0, 0, 0]);
});

for (const strategy of ['one_for_all', 'one_for_one', 'rest_for_one'] as Strategy[]) {
  test(`do_not_save_child_specs_for_temporary_children (${strategy}): after a temporary child ends (kill/normal/abnormal/terminate_child) its spec is gone and start_child works again; permanent/transient specs are restarted or kept`, async (t) => {
    await using rt = createTestRuntime();
    for (const how of ['kill', 'normal', 'abnormal', 'terminate_child'] as const) {
      const sup = await startSup(rt, supervisor({ strategy, maxRestarts: 2, maxSeconds: 3600 }));
      const end = async (id: string, pid: Pid) => {
        if (how === 'terminate_child') t.deepEqual(await terminateChild(rt, sup, id), { ok: true });
        else if (how === 'kill') await terminate(rt, pid, 'kill');
        else rt.cast(pid, { exit: how === 'normal' ? 'normal' : 'died' });
        await rt.flush();
      };
      const permanent = workerSpec('child1', { restart: 'permanent' });
      const transient = workerSpec('child2', { restart: 'transient' });
      const temporary = workerSpec('child3', { restart: 'temporary' });

      // permanent: restarted by the supervisor unless terminated through the API.
      await end('child1', await startedPid(rt, sup, permanent));
      if (how === 'terminate_child') {
        t.deepEqual(await startChild(rt, sup, permanent), { ok: false, error: 'already_present' }, `${how}: permanent`);
        t.like(await restartChild(rt, sup, 'child1'), { ok: true });
      } else {
        t.like(await startChild(rt, sup, permanent), { ok: false, error: 'already_started' }, `${how}: permanent`);
      }
      // transient: kept after a normal exit or terminate_child, restarted otherwise.
      await end('child2', await startedPid(rt, sup, transient));
      if (how === 'terminate_child' || how === 'normal') {
        t.deepEqual(await startChild(rt, sup, transient), { ok: false, error: 'already_present' }, `${how}: transient`);
        t.like(await restartChild(rt, sup, 'child2'), { ok: true });
      } else {
        t.like(await startChild(rt, sup, transient), { ok: false, error: 'already_started' }, `${how}: transient`);
      }
      // temporary: never kept.
      await end('child3', await startedPid(rt, sup, temporary));
      t.like(await startChild(rt, sup, temporary), { ok: true }, `${how}: temporary`);
      t.true(rt.isAlive(sup), `${how}: the supervisor is alive`);
      rt.exit(sup, 'shutdown');
      await rt.flush();
    }
  });
}

for (const strategy of ['one_for_all', 'rest_for_one'] as Strategy[]) {
  test(`★ temporary_bystander (${strategy}): the permanent child1 exits normal, the temporary child2 is terminated as a bystander and not restarted; the supervisor stays alive; which_children [child1]`, async (t) => {
    await using rt = createTestRuntime();
    const sup = await startSup(rt, supervisor({ strategy, maxRestarts: 2, maxSeconds: 300 }));
    const c1 = await startedPid(rt, sup, workerSpec('child1', { restart: 'permanent', shutdown: 100 }));
    const c2 = await startedPid(rt, sup, workerSpec('child2', { restart: 'temporary', shutdown: 100 }));
    rt.cast(c1, { exit: 'normal' });
    await rt.advance(350);
    t.true(rt.isAlive(sup), 'the supervisor would die attempting to restart child2');
    assertExited(t, rt, c2, 'shutdown');
    const which = await whichChildren(rt, sup);
    t.deepEqual(which.map((c) => c.id), ['child1']);
    t.true(typeof which[0]!.pid === 'object' && which[0]!.pid.id !== c1.id && rt.isAlive(which[0]!.pid));
    t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
    t.deepEqual(rt.trace.of('supervisor.childStarted').filter((e) => e.restart).map((e) => e.id), ['child1']);
  });
}

test('simple_global_supervisor (local names): a named nested supervisor and worker get new pids, re-registered, after a kill of the supervisor, a kill of the worker, a normal exit, and terminate+restart; killing the top frees both names', async (t) => {
  await using rt = createTestRuntime();
  const middle: ChildSpec = {
    id: 'middle',
    name: 'sup2',
    start: supervisor({ strategy: 'one_for_all', maxRestarts: 3, maxSeconds: 60, children: [workerSpec('child', { name: 'server', shutdown: 2000 })] }),
    shutdown: 2000,
    type: 'supervisor',
  };
  const top = await startSup(rt, supervisor({ strategy: 'one_for_all', maxRestarts: 3, maxSeconds: 60, children: [middle] }), 'top');
  const names = () => [rt.whereis('sup2'), rt.whereis('server')];
  const [sup2a, serverA] = names();
  t.truthy(sup2a && serverA);

  // kill_supervisor
  rt.exit(sup2a!, 'kill');
  await rt.advance(200);
  const [sup2b, serverB] = names();
  t.truthy(sup2b && serverB);
  t.not(sup2b!.id, sup2a!.id);
  t.not(serverB!.id, serverA!.id);

  // kill_worker
  rt.exit(serverB!, 'kill');
  await rt.advance(200);
  const serverC = rt.whereis('server');
  t.truthy(serverC);
  t.not(serverC!.id, serverB!.id);

  // exit_worker (a permanent worker exiting normal)
  rt.cast(serverC!, { exit: 'normal' });
  await rt.advance(200);
  const serverD = rt.whereis('server');
  t.truthy(serverD);
  t.not(serverD!.id, serverC!.id);
  t.true(rt.isAlive(top), '3 restarts within 60 s are allowed');

  // restart_worker: terminate_child + restart_child through the supervisor's name
  t.deepEqual(await terminateChild(rt, 'sup2', 'child'), { ok: true });
  t.is(rt.whereis('server'), undefined);
  t.like(await restartChild(rt, 'sup2', 'child'), { ok: true });
  const serverE = rt.whereis('server');
  t.truthy(serverE);
  t.not(serverE!.id, serverD!.id);

  // stop9212: kill the top
  rt.exit(top, 'kill');
  await rt.advance(200);
  t.deepEqual(names(), [undefined, undefined]);
  assertExited(t, rt, top, 'killed');
  t.deepEqual(rt.processes(), []);
});

test('★ hanging_restart_loop: a child whose restarts keep failing → [{child1, restarting}], counts [1,0,0,1]; start_child → already_present; restart/delete → restarting; terminate_child → ok (undefined); the supervisor can still be shut down', async (t) => {
  await using rt = createTestRuntime();
  const deadlock = switchableStart({ failDelayMs: 2000 });
  const child1: ChildSpec = { id: 'child1', start: deadlock.start, shutdown: 'brutal_kill' };
  const { sup, exitsFrom } = await startLinked(rt, supervisor({ strategy: 'one_for_one', maxRestarts: 8, maxSeconds: 10 }), 'sup_test');
  const cpid1 = await startedPid(rt, sup, child1);

  deadlock.control.fail = true;
  rt.cast(cpid1, { exit: 'error' });
  await rt.advance(2000);

  t.deepEqual(await settle(rt, startChild(rt, sup, child1)), { ok: false, error: 'already_present' });
  t.deepEqual(await settle(rt, restartChild(rt, sup, 'child1')), { ok: false, error: 'restarting' });
  t.deepEqual(await settle(rt, deleteChild(rt, sup, 'child1')), { ok: false, error: 'restarting' });
  t.deepEqual(await settle(rt, whichChildren(rt, sup)), [{ id: 'child1', pid: 'restarting', type: 'worker' }]);
  t.deepEqual(await settle(rt, countChildren(rt, sup)), { specs: 1, active: 0, supervisors: 0, workers: 1 });

  t.deepEqual(await settle(rt, terminateChild(rt, sup, 'child1')), { ok: true });
  assertExited(t, rt, cpid1, 'error');
  t.deepEqual(await settle(rt, rows(rt, sup)), [['child1', undefined]]);
  const attempts = deadlock.control.failures;
  await rt.advance(10_000);
  t.is(deadlock.control.failures, attempts, 'terminate_child ended the restart loop');

  deadlock.control.fail = false;
  const r = await restartChild(rt, sup, 'child1');
  t.true(r.ok && r.pid !== undefined);
  const cpid2 = (r as { pid: Pid }).pid;

  deadlock.control.fail = true;
  rt.cast(cpid2, { exit: 'error' });
  await rt.advance(2000);

  // The supervisor does not hang in its restart loop: it shuts down.
  rt.exit(sup, 'shutdown');
  await rt.advance(2000);
  assertExited(t, rt, sup, 'shutdown');
  assertExited(t, rt, cpid2, 'error');
  t.deepEqual(exitsFrom(), ['shutdown']);
  t.is(rt.whereis('sup_test'), undefined);
});

test('hanging_restart_loop_rest_for_one: child2\'s restarts keep failing → [{child3, undefined}, {child2, restarting}, {child1, Pid}], counts [3,1,0,3]; terminate_child(child2) works; the supervisor still shuts down', async (t) => {
  await using rt = createTestRuntime();
  const deadlock = switchableStart({ failDelayMs: 2000 });
  const child2: ChildSpec = { id: 'child2', start: deadlock.start, shutdown: 'brutal_kill' };
  const { sup, exitsFrom } = await startLinked(rt, supervisor({ strategy: 'rest_for_one', maxRestarts: 8, maxSeconds: 10 }), 'sup_test');
  const cpid1 = await startedPid(rt, sup, workerSpec('child1', { shutdown: 'brutal_kill' }));
  const cpid2 = await startedPid(rt, sup, child2);
  await startedPid(rt, sup, workerSpec('child3', { shutdown: 'brutal_kill' }));

  deadlock.control.fail = true;
  rt.cast(cpid2, { exit: 'error' });
  await rt.advance(2000);

  t.deepEqual(await settle(rt, startChild(rt, sup, child2)), { ok: false, error: 'already_present' });
  t.deepEqual(await settle(rt, restartChild(rt, sup, 'child2')), { ok: false, error: 'restarting' });
  t.deepEqual(await settle(rt, deleteChild(rt, sup, 'child2')), { ok: false, error: 'restarting' });
  t.deepEqual(await settle(rt, rows(rt, sup)), [
    ['child3', undefined],
    ['child2', 'restarting'],
    ['child1', String(cpid1)],
  ]);
  t.deepEqual(await settle(rt, counts(rt, sup)), [3, 1, 0, 3]);

  t.deepEqual(await settle(rt, terminateChild(rt, sup, 'child2')), { ok: true });
  assertExited(t, rt, cpid2, 'error');
  t.deepEqual(await settle(rt, rows(rt, sup)), [
    ['child3', undefined],
    ['child2', undefined],
    ['child1', String(cpid1)],
  ]);

  deadlock.control.fail = false;
  const r = await restartChild(rt, sup, 'child2');
  const cpid22 = (r as { pid: Pid }).pid;
  t.true(r.ok && cpid22 !== undefined);
  deadlock.control.fail = true;
  rt.cast(cpid22, { exit: 'error' });
  await rt.advance(2000);
  rt.exit(sup, 'shutdown');
  await rt.advance(2000);
  assertExited(t, rt, sup, 'shutdown');
  assertExited(t, rt, cpid22, 'error');
  t.deepEqual(exitsFrom(), ['shutdown']);
});

test('hanging_restart_loop_simple (dynamic): [{undefined, restarting}], counts [1,0,0,1]; terminate_child(its old pid) → ok and removes it; the supervisor still shuts down', async (t) => {
  // Expected (Elixir DynamicSupervisor rule 70 / test "terminates restarting child", and OTP's
  // simple_one_for_one): a restarting child is still addressed by its old pid, and
  // terminate_child(Sup, OldPid) → ok, after which which_children is [].
  // (Failed before commit 9d8c5bd, when a restarting child forgot its old pid.)
  await using rt = createTestRuntime();
  const deadlock = switchableStart({ failDelayMs: 2000 });
  const { sup, exitsFrom } = await startLinked(rt, dynamicSupervisor({ maxRestarts: 8, maxSeconds: 10 }), 'sup_test');
  const cpid1 = await startedPid(rt, sup, { start: deadlock.start, shutdown: 'brutal_kill' });

  deadlock.control.fail = true;
  rt.cast(cpid1, { exit: 'error' });
  await rt.advance(2000);

  t.deepEqual(await settle(rt, restartChild(rt, sup, 'child1')), { ok: false, error: 'dynamic' });
  t.deepEqual(await settle(rt, deleteChild(rt, sup, 'child1')), { ok: false, error: 'dynamic' });
  t.deepEqual(await settle(rt, whichChildren(rt, sup)), [{ id: undefined, pid: 'restarting', type: 'worker' }]);
  t.deepEqual(await settle(rt, counts(rt, sup)), [1, 0, 0, 1]);

  t.deepEqual(await settle(rt, terminateChild(rt, sup, cpid1)), { ok: true }, 'the restarting child is found by its old pid');
  assertExited(t, rt, cpid1, 'error');
  t.deepEqual(await settle(rt, whichChildren(rt, sup)), []);

  deadlock.control.fail = false;
  const cpid2 = await settle(rt, startedPid(rt, sup, { start: deadlock.start, shutdown: 'brutal_kill' }));
  deadlock.control.fail = true;
  rt.cast(cpid2, { exit: 'error' });
  await rt.advance(2000);
  rt.exit(sup, 'shutdown');
  await rt.advance(4000);
  assertExited(t, rt, sup, 'shutdown');
  assertExited(t, rt, cpid2, 'error');
  t.deepEqual(exitsFrom(), ['shutdown']);
});

test('★ order_of_children: rest_for_one with 5 children [ch7,ch3,ch10,ch2,ch5]: started in list order; crashing ch10 terminates ch5 then ch2 and restarts ch10, ch2, ch5 in order; the supervisor shutdown terminates [ch5,ch2,ch10,ch3,ch7]', async (t) => {
  await using rt = createTestRuntime();
  const ids = ['ch7', 'ch3', 'ch10', 'ch2', 'ch5'];
  const sup = await startSup(rt, supervisor({ strategy: 'rest_for_one', maxRestarts: 2, maxSeconds: 3600, children: ids.map((id) => workerSpec(id)) }), 'sup_test');
  const which1 = await whichChildren(rt, sup);
  t.true(which1.every((c) => typeof c.pid === 'object'));
  const byPid1 = [...which1].sort((a, b) => (a.pid as Pid).id - (b.pid as Pid).id);
  t.deepEqual(byPid1.map((c) => c.id), ids, 'pids grow in start order');
  const pid = (id: string) => which1.find((c) => c.id === id)!.pid as Pid;

  rt.trace.clear();
  await terminate(rt, pid('ch10'), 'abnormal');
  const exited = rt.trace.exits().map((e) => e.id.split('/').pop());
  t.deepEqual(exited, ['ch10', 'ch5', 'ch2'], 'ch5 then ch2 terminated after ch10 crashed');
  t.deepEqual(shutdownSignals(rt, sup), [['ch5', 'shutdown'], ['ch2', 'shutdown']]);
  t.deepEqual(rt.trace.of('supervisor.childStarted').map((e) => e.id), ['ch10', 'ch2', 'ch5']);

  const which2 = await whichChildren(rt, sup);
  const byPid2 = [...which2].sort((a, b) => (a.pid as Pid).id - (b.pid as Pid).id);
  t.deepEqual(byPid2.map((c) => c.id), ids);
  t.is(String(which2.find((c) => c.id === 'ch7')!.pid), String(pid('ch7')));
  t.is(String(which2.find((c) => c.id === 'ch3')!.pid), String(pid('ch3')));

  rt.trace.clear();
  rt.exit(sup, 'shutdown');
  await rt.flush();
  t.deepEqual(
    rt.trace.exits().map((e) => e.id.split('/').pop()),
    ['ch5', 'ch2', 'ch10', 'ch3', 'ch7', 'sup_test'],
  );
  t.is(exitReason(rt, sup), 'shutdown');
  t.true(rt.trace.exits().slice(0, 5).every((e) => e.reason === 'shutdown'));
});

test('an EXIT from a linked process that is not a child is ignored (rule 26): the supervisor and its children carry on', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 0, children: [workerSpec('a')] }));
  const a = await livePid(rt, sup, 'a');
  const stranger = rt.spawn(worker, { link: sup });
  await rt.flush();
  rt.exit(stranger, 'boom');
  await rt.flush();
  t.true(rt.isAlive(sup));
  t.is(String(await livePid(rt, sup, 'a')), String(a));
  t.deepEqual(rt.trace.of('supervisor.childExited'), []);
});

test('a child that dies while later children are still starting (init) is restarted once the supervisor is up (its EXIT waits in the mailbox)', async (t) => {
  await using rt = createTestRuntime();
  const slow = async (ctx: ChildStartContext): Promise<StartFunctionResult> => {
    await new Promise<void>((resolve) => ctx.runtime.clock.setTimeout(() => resolve(), 100));
    return (await ctx.runtime.start(worker, { parent: ctx.supervisor, link: ctx.supervisor, id: ctx.id })) as Pid;
  };
  let sup: Pid | 'ignore' | undefined;
  const starting = rt.start(supervisor({ children: [workerSpec('a'), { id: 'b', start: slow }] })).then((p) => (sup = p));
  await rt.advance(50);
  const a = rt.trace.of('supervisor.childStarted')[0]!.pid;
  rt.exit(a, 'crash');
  await rt.advance(50);
  await starting;
  t.not(sup, 'ignore');
  const which = await whichChildren(rt, sup as Pid);
  t.deepEqual(which.map((c) => c.id), ['b', 'a']);
  t.true(which.every((c) => typeof c.pid === 'object' && rt.isAlive(c.pid)));
  t.not((which[1]!.pid as Pid).id, a.id, 'a was restarted');
});

test('a child that crashes while terminate_child of a slow sibling is in progress is restarted afterwards', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ children: [workerSpec('slow', { shutdown: 5000 }, { trap: true, terminateMs: 1000 }), workerSpec('other')] }));
  const other = await livePid(rt, sup, 'other');
  let result: unknown;
  const terminating = terminateChild(rt, sup, 'slow').then((r) => (result = r));
  await rt.advance(100);
  rt.exit(other, 'crash');
  await rt.advance(100);
  t.is(result, undefined);
  await rt.advance(800);
  await terminating;
  t.deepEqual(result, { ok: true });
  const which = await rows(rt, sup);
  t.is(which[1]![1], undefined, 'slow stays terminated');
  t.true(which[0]![1] !== undefined && which[0]![1] !== String(other), 'other was restarted');
});
