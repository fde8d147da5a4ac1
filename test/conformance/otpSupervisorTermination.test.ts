/**
 * OTP supervisor_SUITE, groups normal_termination, shutdown_termination and
 * abnormal_termination (otp-semantics §2.1 scenarios 48–57; rules 23–25, 10).
 * one_for_one, intensity 2 / 3600 s. The child ends itself with the reason (OTP sends it
 * `stop` / `die`, or an exit signal it turns into its own exit), here `cast(pid, { exit: R })`.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { restartChild, startChild, supervisor, whichChildren, type ExitReason, type Pid, type RestartType } from '../../src/index.js';
import { assertExited, counts, rows, startSup, workerSpec } from '../helpers/otpSupervisorHelpers.js';

type Rt = ReturnType<typeof createTestRuntime>;

async function setup(rt: Rt, restart: RestartType) {
  const sup = await startSup(rt, supervisor({ strategy: 'one_for_one', maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const spec = workerSpec('child1', { restart, shutdown: 1000 });
  const r = await startChild(rt, sup, spec);
  if (!r.ok || r.pid === undefined) throw new Error('start failed');
  return { sup, spec, pid: r.pid };
}

/** The child exits by itself with `reason`. */
async function childExits(rt: Rt, pid: Pid, reason: ExitReason): Promise<void> {
  rt.cast(pid, { exit: reason });
  await rt.flush();
}

const childTerminatedLogs = (rt: Rt) => rt.logs.records.filter((r) => (r.meta as { context?: string } | undefined)?.context === 'child_terminated');

test('★ permanent_normal: a permanent child that exits normal is restarted (new pid), counts [1,1,0,1], and the exit is reported as child_terminated', async (t) => {
  await using rt = createTestRuntime();
  const { sup, pid } = await setup(rt, 'permanent');
  await childExits(rt, pid, 'normal');
  assertExited(t, rt, pid, 'normal');
  const which = await whichChildren(rt, sup);
  t.is(which.length, 1);
  t.is(which[0]!.id, 'child1');
  t.true(typeof which[0]!.pid === 'object' && which[0]!.pid.id !== pid.id, 'restarted with a new pid');
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
  t.is(childTerminatedLogs(rt).length, 1);
});

test('★ transient_normal: a transient child that exits normal is not restarted; {child1, undefined}, counts [1,0,0,1]', async (t) => {
  await using rt = createTestRuntime();
  const { sup, pid } = await setup(rt, 'transient');
  await childExits(rt, pid, 'normal');
  assertExited(t, rt, pid, 'normal');
  t.deepEqual(await rows(rt, sup), [['child1', undefined]]);
  t.deepEqual(await counts(rt, sup), [1, 0, 0, 1]);
  t.deepEqual(rt.trace.of('supervisor.childStarted').filter((e) => e.restart), [], 'no restart');
  t.deepEqual(childTerminatedLogs(rt), [], 'a clean exit of a transient child is not reported');
});

test('temporary_normal: a temporary child that exits normal is removed; counts [0,0,0,0]', async (t) => {
  await using rt = createTestRuntime();
  const { sup, pid } = await setup(rt, 'temporary');
  await childExits(rt, pid, 'normal');
  t.deepEqual(await whichChildren(rt, sup), []);
  t.deepEqual(await counts(rt, sup), [0, 0, 0, 0]);
});

test('permanent_shutdown: a permanent child that exits shutdown, then {shutdown, some_info}, is restarted both times', async (t) => {
  await using rt = createTestRuntime();
  const { sup, pid } = await setup(rt, 'permanent');
  await childExits(rt, pid, 'shutdown');
  const which1 = await whichChildren(rt, sup);
  const pid2 = which1[0]!.pid;
  t.true(typeof pid2 === 'object' && pid2.id !== pid.id);
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
  await childExits(rt, pid2 as Pid, { shutdown: 'some_info' });
  const pid3 = (await whichChildren(rt, sup))[0]!.pid;
  t.true(typeof pid3 === 'object' && pid3.id !== (pid2 as Pid).id);
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
  assertExited(t, rt, pid2 as Pid, { shutdown: 'some_info' });
});

test('transient_shutdown: a transient child that exits shutdown / {shutdown, _} is not restarted; the spec is kept and restart_child works', async (t) => {
  await using rt = createTestRuntime();
  const { sup, pid } = await setup(rt, 'transient');
  await childExits(rt, pid, 'shutdown');
  t.deepEqual(await rows(rt, sup), [['child1', undefined]]);
  t.deepEqual(await counts(rt, sup), [1, 0, 0, 1]);
  const r = await restartChild(rt, sup, 'child1');
  t.true(r.ok && r.pid !== undefined);
  await childExits(rt, (r as { pid: Pid }).pid, { shutdown: 'some_info' });
  t.deepEqual(await rows(rt, sup), [['child1', undefined]]);
  t.deepEqual(await counts(rt, sup), [1, 0, 0, 1]);
});

test('temporary_shutdown: a temporary child that exits shutdown is removed; start_child with the same spec works again', async (t) => {
  await using rt = createTestRuntime();
  const { sup, spec, pid } = await setup(rt, 'temporary');
  await childExits(rt, pid, 'shutdown');
  t.deepEqual(await whichChildren(rt, sup), []);
  t.deepEqual(await counts(rt, sup), [0, 0, 0, 0]);
  const r = await startChild(rt, sup, spec);
  t.true(r.ok && r.pid !== undefined);
  await childExits(rt, (r as { pid: Pid }).pid, { shutdown: 'some_info' });
  t.deepEqual(await whichChildren(rt, sup), []);
  t.deepEqual(await counts(rt, sup), [0, 0, 0, 0]);
});

test('permanent_abnormal: a permanent child that exits died is restarted; counts [1,1,0,1]', async (t) => {
  await using rt = createTestRuntime();
  const { sup, pid } = await setup(rt, 'permanent');
  await childExits(rt, pid, 'died');
  assertExited(t, rt, pid, 'died');
  const p = (await whichChildren(rt, sup))[0]!.pid;
  t.true(typeof p === 'object' && p.id !== pid.id && rt.isAlive(p));
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
});

test('transient_abnormal: a transient child that exits died is restarted; counts [1,1,0,1]; killed counts as abnormal too', async (t) => {
  await using rt = createTestRuntime();
  const { sup, pid } = await setup(rt, 'transient');
  await childExits(rt, pid, 'died');
  const p = (await whichChildren(rt, sup))[0]!.pid;
  t.true(typeof p === 'object' && p.id !== pid.id && rt.isAlive(p));
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
  rt.exit(p as Pid, 'kill');
  await rt.flush();
  const p2 = (await whichChildren(rt, sup))[0]!.pid;
  t.true(typeof p2 === 'object' && p2.id !== (p as Pid).id && rt.isAlive(p2), 'killed → restarted');
});

test('★ temporary_abnormal: a temporary child that exits died is not restarted and is removed; which_children [], counts [0,0,0,0]; the exit is reported', async (t) => {
  await using rt = createTestRuntime();
  const { sup, pid } = await setup(rt, 'temporary');
  await childExits(rt, pid, 'died');
  assertExited(t, rt, pid, 'died');
  t.deepEqual(await whichChildren(rt, sup), []);
  t.deepEqual(await counts(rt, sup), [0, 0, 0, 0]);
  t.deepEqual(rt.trace.of('supervisor.childStarted').filter((e) => e.restart), []);
  t.is(childTerminatedLogs(rt).length, 1, 'OTP reports an abnormal exit of a temporary child (child_terminated)');
  t.true(rt.isAlive(sup));
});
