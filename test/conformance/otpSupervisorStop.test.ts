/**
 * OTP supervisor_SUITE, group sup_stop (otp-semantics §2.1 scenarios 16–24; rules 43–50).
 *
 * A child "busy sleeping" in OTP is a worker that traps exits and whose `terminate` never
 * finishes (`terminateMs: 'forever'`): only the kill after its shutdown time ends it.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { TimeoutError, dynamicSupervisor, startChild, supervisor, type ExitReason, type Pid, type RestartType } from '../../src/index.js';
import { worker } from '../helpers/otpWorkers.js';
import { assertExited, exitReason, livePid, ownReasonStart, startSup, workerSpec } from '../helpers/otpSupervisorHelpers.js';

const exitTime = (rt: ReturnType<typeof createTestRuntime>, pid: Pid) =>
  rt.trace.entries.find((e) => e.event === 'process.exited' && (e.data as { pid: Pid }).pid.id === pid.id)?.t;

async function started(rt: ReturnType<typeof createTestRuntime>, sup: Pid, spec: Parameters<typeof startChild>[2]): Promise<Pid> {
  const r = await startChild(rt, sup, spec);
  if (!r.ok || r.pid === undefined) throw new Error(`start_child failed: ${JSON.stringify(r)}`);
  return r.pid;
}

test('sup_stop_infinity: children with shutdown infinity (a supervisor-type and a worker) are waited for as long as they take and exit shutdown', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  // Both trap exits and take 3 s to terminate: infinity means no kill, however long it takes.
  const c1 = await started(rt, sup, workerSpec('child1', { shutdown: 'infinity', type: 'supervisor' }, { trap: true, terminateMs: 3000 }));
  const c2 = await started(rt, sup, workerSpec('child2', { shutdown: 'infinity' }, { trap: true, terminateMs: 3000 }));
  rt.exit(sup, 'shutdown');
  await rt.advance(5999);
  t.true(rt.isAlive(sup), 'child2 then child1, 3 s each');
  await rt.advance(1);
  assertExited(t, rt, sup, 'shutdown');
  assertExited(t, rt, c1, 'shutdown');
  assertExited(t, rt, c2, 'shutdown');
  t.is(exitTime(rt, c2), 3000);
  t.is(exitTime(rt, c1), 6000);
});

test('★ sup_stop_timeout: a child busy past its 1000 ms shutdown is killed (killed) at 1000 ms; the other child exits shutdown', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const c1 = await started(rt, sup, workerSpec('child1', { shutdown: 1000 }));
  const c2 = await started(rt, sup, workerSpec('child2', { shutdown: 1000 }, { trap: true, terminateMs: 'forever' }));
  rt.exit(sup, 'shutdown');
  await rt.advance(999);
  t.true(rt.isAlive(c2), 'not killed before its shutdown time');
  t.true(rt.isAlive(c1), 'children go one at a time: child1 waits for child2');
  t.true(rt.isAlive(sup));
  await rt.advance(1);
  assertExited(t, rt, c2, 'killed');
  assertExited(t, rt, c1, 'shutdown');
  assertExited(t, rt, sup, 'shutdown');
  t.is(exitTime(rt, c2), 1000);
  // The kill after a timeout is reported as a shutdown_error (rule 47).
  t.deepEqual(
    rt.trace.of('supervisor.shutdownError').map((e) => [e.id, e.reason]),
    [['child2', 'killed']],
  );
});

test('sup_stop_timeout_dynamic: the same under a dynamic supervisor: busy child killed, the other shutdown, the supervisor exits shutdown', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  const c1 = await started(rt, sup, { start: worker, restart: 'temporary', shutdown: 1000 });
  const c2 = await started(rt, sup, { start: worker, input: { trap: true, terminateMs: 'forever' }, restart: 'temporary', shutdown: 1000 });
  rt.exit(sup, 'shutdown');
  await rt.advance(999);
  t.true(rt.isAlive(c2));
  t.true(rt.isAlive(sup));
  await rt.advance(1);
  assertExited(t, rt, sup, 'shutdown');
  assertExited(t, rt, c1, 'shutdown');
  assertExited(t, rt, c2, 'killed');
  t.is(exitTime(rt, c1), 0, 'dynamic children are all asked at once');
});

test('sup_stop_brutal_kill: a brutal_kill child dies killed (even when trapping); a 1000 ms child exits shutdown', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const c1 = await started(rt, sup, workerSpec('child1', { shutdown: 1000 }));
  const c2 = await started(rt, sup, workerSpec('child2', { shutdown: 'brutal_kill' }, { trap: true, terminateMs: 'forever' }));
  rt.exit(sup, 'shutdown');
  await rt.flush();
  assertExited(t, rt, c1, 'shutdown');
  assertExited(t, rt, c2, 'killed');
  assertExited(t, rt, sup, 'shutdown');
  t.deepEqual(rt.trace.of('supervisor.shutdownError'), [], 'killed is the expected reason for brutal_kill');
});

test('sup_stop_brutal_kill_dynamic: 10 dynamic brutal_kill children all die killed; the supervisor exits shutdown', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  const pids: Pid[] = [];
  for (let i = 0; i < 10; i++) pids.push(await started(rt, sup, { start: worker, restart: 'temporary', shutdown: 'brutal_kill' }));
  rt.exit(sup, 'shutdown');
  await rt.flush();
  assertExited(t, rt, sup, 'shutdown');
  t.deepEqual(pids.map((p) => exitReason(rt, p)), Array(10).fill('killed'));
});

const raceReasons: ExitReason[] = ['normal', 'shutdown', { shutdown: 'test' }, 'other'];
const restartTypes: RestartType[] = ['temporary', 'transient', 'permanent'];

/** sup_stop_race's setup: child_a, 12 children that stop themselves at 200 ms, child_z that takes 1 s to stop. */
async function raceSetup(rt: ReturnType<typeof createTestRuntime>) {
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  const a = await started(rt, sup, workerSpec('child_a', { restart: 'temporary', shutdown: 1000 }));
  const racers: Array<{ pid: Pid; restart: RestartType; reason: ExitReason }> = [];
  let n = 0;
  for (const restart of restartTypes) {
    for (const reason of raceReasons) {
      const pid = await started(rt, sup, workerSpec(`child${++n}`, { restart, shutdown: 1000 }));
      racers.push({ pid, restart, reason });
    }
  }
  const z = await started(rt, sup, workerSpec('child_z', { restart: 'temporary', shutdown: 2000 }, { trap: true, terminateMs: 1000 }));
  rt.exit(sup, 'shutdown');
  await rt.advance(200);
  t_assert(rt.isAlive(sup) && rt.isAlive(z), 'still shutting child_z down at 200 ms');
  // OTP: `CPid ! stop` 200 ms in; each child exits by itself with its own reason.
  for (const r of racers) rt.cast(r.pid, { exit: r.reason });
  await rt.advance(2000);
  return { sup, a, z, racers };
}

function t_assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

test('sup_stop_race: children that exit by themselves while the supervisor shuts down: the shutdown still completes (shutdown), each child keeps its own reason', async (t) => {
  await using rt = createTestRuntime();
  const { sup, a, z, racers } = await raceSetup(rt);
  assertExited(t, rt, sup, 'shutdown');
  assertExited(t, rt, z, 'shutdown');
  assertExited(t, rt, a, 'shutdown');
  for (const r of racers) t.deepEqual(exitReason(rt, r.pid), r.reason, `${r.restart} ${JSON.stringify(r.reason)}`);
  t.is(exitTime(rt, sup), 1000);
  t.deepEqual(rt.processes(), []);
});

test('sup_stop_race: shutdown_error reports name each raced child with its own exit reason, and only the unexpected ones (supervisor.erl unlink_flush, rule 47)', async (t) => {
  // OTP's shutdown/1 monitors the (already dead) child and takes the reason from the pending
  // {'EXIT', Pid, Reason} (unlink_flush), so a report says e.g. `other`, never `noproc`; and
  // normal / {shutdown,_} are expected from non-permanent children.
  //
  // Regression note: the EXITs of the raced children arrive while the supervisor is busy with
  // child_z and wait in its queue. It used to monitor the dead pids, get DOWN `noproc` and report
  // all 12 as shutdown_error with `noproc`; beginTerminate now takes a child's queued EXIT as its
  // reason, as supervisor.erl takes it from the mailbox.
  await using rt = createTestRuntime();
  const { racers } = await raceSetup(rt);
  const expectedErrors = racers
    .filter((r) => !(r.reason === 'shutdown' || (r.restart !== 'permanent' && (r.reason === 'normal' || typeof r.reason === 'object'))))
    .map((r) => [String(r.pid), r.reason])
    .reverse(); // reported in termination order, newest first
  t.deepEqual(
    rt.trace.of('supervisor.shutdownError').map((e) => [String(e.pid), e.reason]),
    expectedErrors,
  );
});

test('sup_stop_non_shutdown_exit_dynamic: dynamic children that answer shutdown with another reason (normal, shutdown, {shutdown,test}, other) — every restart type — the supervisor still exits shutdown', async (t) => {
  await using rt = createTestRuntime();
  for (const restart of restartTypes) {
    const sup = await startSup(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }));
    const children: Array<[Pid, ExitReason]> = [];
    for (const reason of raceReasons) {
      children.push([await started(rt, sup, { start: ownReasonStart(reason), restart, shutdown: 5000 }), reason]);
    }
    rt.exit(sup, 'shutdown');
    await rt.flush();
    assertExited(t, rt, sup, 'shutdown', `${restart}: supervisor`);
    for (const [pid, reason] of children) t.deepEqual(exitReason(rt, pid), reason, `${restart}: ${JSON.stringify(reason)}`);
  }
  t.deepEqual(rt.processes(), []);
});

test('sup_stop_manual: stop(Sup) → the supervisor exits normal; children: brutal_kill → killed, 1000 → shutdown, a stuck one → killed after 1000 ms', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const c1 = await started(rt, sup, workerSpec('child1', { shutdown: 'brutal_kill' }));
  const c2 = await started(rt, sup, workerSpec('child2', { shutdown: 1000 }));
  const c3 = await started(rt, sup, workerSpec('child3', { shutdown: 1000 }, { trap: true, terminateMs: 'forever' }));
  let stopped: string | undefined;
  const stop = rt.stop(sup).then((r) => (stopped = r));
  await rt.advance(999);
  t.is(stopped, undefined);
  await rt.advance(1);
  await stop;
  t.is(stopped, 'ok');
  assertExited(t, rt, sup, 'normal');
  assertExited(t, rt, c1, 'killed');
  assertExited(t, rt, c2, 'shutdown');
  assertExited(t, rt, c3, 'killed');
  t.deepEqual(
    rt.trace.exits().map((e) => e.id.split('/').pop()),
    ['child3', 'child2', 'child1', 'sup_test'],
  );
});

test('sup_stop_manual_timeout: stop(Sup, normal, 100) fails with a timeout, but the supervisor still finishes: children shutdown, supervisor normal', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const c1 = await started(rt, sup, workerSpec('child1', { shutdown: 5000 }, { trap: true, terminateMs: 1000 }));
  const c2 = await started(rt, sup, workerSpec('child2', { shutdown: 1000 }));
  const stop = t.throwsAsync(rt.stop(sup, 'normal', { timeout: 100 }), { instanceOf: TimeoutError });
  await rt.advance(100);
  await stop;
  t.true(rt.isAlive(sup), 'not killed by the timed-out stop');
  await rt.advance(900);
  assertExited(t, rt, sup, 'normal');
  assertExited(t, rt, c1, 'shutdown');
  assertExited(t, rt, c2, 'shutdown');
  t.is(exitTime(rt, c1), 1000);
});

test('sup_stop: an EXIT from the parent shuts the supervisor down with that reason, stopping its children (rule 26)', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ children: [workerSpec('a'), workerSpec('b')] }));
  const a = await livePid(rt, sup, 'a');
  const b = await livePid(rt, sup, 'b');
  rt.exit(sup, { shutdown: 'app_stopping' });
  await rt.flush();
  assertExited(t, rt, sup, { shutdown: 'app_stopping' });
  assertExited(t, rt, a, 'shutdown');
  assertExited(t, rt, b, 'shutdown');
});

test('shutdown_error (rule 47): children that answer shutdown with another reason are reported only when that reason is unexpected — normal and {shutdown,_} are expected from non-permanent children, shutdown from all', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  const children: Array<{ pid: Pid; restart: RestartType; reason: ExitReason }> = [];
  let n = 0;
  for (const restart of restartTypes) {
    for (const reason of raceReasons) {
      children.push({ pid: await started(rt, sup, { id: `c${++n}`, start: ownReasonStart(reason), restart, shutdown: 1000 }), restart, reason });
    }
  }
  rt.exit(sup, 'shutdown');
  await rt.flush();
  assertExited(t, rt, sup, 'shutdown');
  for (const c of children) t.deepEqual(exitReason(rt, c.pid), c.reason);
  const expected = children
    .filter((c) => !(c.reason === 'shutdown' || (c.restart !== 'permanent' && (c.reason === 'normal' || typeof c.reason === 'object'))))
    .map((c) => [c.restart, c.reason])
    .reverse();
  t.deepEqual(
    rt.trace.of('supervisor.shutdownError').map((e) => [children.find((c) => c.pid.id === e.pid.id)?.restart, e.reason]),
    expected,
  );
});
