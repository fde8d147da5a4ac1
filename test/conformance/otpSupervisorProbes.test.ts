/**
 * The probes run on real Erlang/OTP 25 (otp-semantics §5.2 and the supervisor CHECK lines of
 * §5.3), one test per line, with the OTP output quoted in each test name.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  NoProcessError,
  StartError,
  countChildren,
  deleteChild,
  restartChild,
  startChild,
  supervisor,
  terminateChild,
  whichChildren,
  type ChildSpec,
  type ExitReason,
  type Pid,
  type StartFunction,
} from '../../src/index.js';
import {
  assertExited,
  counts,
  exitReason,
  livePid,
  rows,
  scripted,
  shutdownSignals,
  startLinked,
  startSup,
  startedIds,
  switchableStart,
  terminate,
  trappingRawStart,
  workerSpec,
} from '../helpers/otpSupervisorHelpers.js';

type Rt = ReturnType<typeof createTestRuntime>;

const contexts = (rt: Rt) =>
  rt.logs.records.map((r) => (r.meta as { context?: string } | undefined)?.context).filter((c) => c !== undefined);

test('§5.2 probe: one_for_one, intensity 3, period 5, a permanent child crashed 4 times → 3 restarts (each shows 1 spec, 1 active), the 4th crash stops the supervisor with shutdown; EXIT to the parent, name gone; reports child_terminated ×4 then shutdown/reached_max_restart_intensity', async (t) => {
  await using rt = createTestRuntime();
  const { sup, exitsFrom } = await startLinked(
    rt,
    supervisor({ strategy: 'one_for_one', maxRestarts: 3, maxSeconds: 5, children: [workerSpec('crasher')] }),
    'probe_sup',
  );
  let child = await livePid(rt, 'probe_sup', 'crasher');
  for (let crash = 1; crash <= 3; crash++) {
    rt.cast(child, { exit: 'crashed_on_demand' });
    await rt.flush();
    t.is(exitReason(rt, child), 'crashed_on_demand');
    const next = await livePid(rt, 'probe_sup', 'crasher');
    t.not(next.id, child.id, `crash #${crash}: restarted`);
    t.deepEqual(await whichChildren(rt, 'probe_sup'), [{ id: 'crasher', pid: next, type: 'worker' }]);
    t.deepEqual(await countChildren(rt, 'probe_sup'), { specs: 1, active: 1, supervisors: 0, workers: 1 });
    child = next;
  }
  rt.cast(child, { exit: 'crashed_on_demand' });
  await rt.flush();
  assertExited(t, rt, sup, 'shutdown');
  t.deepEqual(exitsFrom(), ['shutdown']);
  t.is(rt.whereis('probe_sup'), undefined);
  t.is(rt.trace.of('supervisor.childStarted').filter((e) => e.restart).length, 3);
  t.deepEqual(contexts(rt), ['child_terminated', 'child_terminated', 'child_terminated', 'child_terminated', 'shutdown']);
  const last = rt.logs.records.filter((r) => (r.meta as { context?: string } | undefined)?.context === 'shutdown')[0];
  t.like(last?.meta, { reason: 'reached_max_restart_intensity', id: 'crasher' });
  t.like(rt.trace.of('supervisor.intensityReached')[0], { id: 'crasher', maxRestarts: 3, maxSeconds: 5 });
});

test('§5.3 probe intensity_zero: 0 restarts allowed, 1 crash → supervisor {exited, shutdown}', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 0, maxSeconds: 5, children: [workerSpec('c')] }));
  await terminate(rt, await livePid(rt, sup, 'c'), 'crashed_on_demand');
  assertExited(t, rt, sup, 'shutdown');
  t.is(rt.trace.of('supervisor.childStarted').filter((e) => e.restart).length, 0);
});

test('§5.3 probe window_exact_period: I=1, P=1, crashes 1000 ms apart → supervisor {exited, shutdown}', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 1, maxSeconds: 1, children: [workerSpec('c')] }));
  await terminate(rt, await livePid(rt, sup, 'c'), 'crashed_on_demand');
  t.true(rt.isAlive(sup));
  await rt.advance(1000);
  await terminate(rt, await livePid(rt, sup, 'c'), 'crashed_on_demand');
  assertExited(t, rt, sup, 'shutdown');
});

test('§5.3 probe window_after_period: I=1, P=1, 2000 ms apart → alive after the 2nd crash; an immediate 3rd → {exited, shutdown}', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 1, maxSeconds: 1, children: [workerSpec('c')] }));
  await terminate(rt, await livePid(rt, sup, 'c'), 'crashed_on_demand');
  await rt.advance(2000);
  await terminate(rt, await livePid(rt, sup, 'c'), 'crashed_on_demand');
  t.true(rt.isAlive(sup), 'after the 2nd crash alive');
  await terminate(rt, await livePid(rt, sup, 'c'), 'crashed_on_demand');
  assertExited(t, rt, sup, 'shutdown');
});

test('§5.3 probe transient_reasons: [{normal, undefined}, {shutdown, undefined}, {{shutdown,x}, undefined}, {boom, restarted}]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 10, maxSeconds: 5 }));
  const reasons: ExitReason[] = ['normal', 'shutdown', { shutdown: 'x' }, 'boom'];
  const outcome: Array<[ExitReason, string]> = [];
  for (const [i, reason] of reasons.entries()) {
    const r = await startChild(rt, sup, workerSpec(`t${i}`, { restart: 'transient' }));
    const pid = (r as { pid: Pid }).pid;
    rt.cast(pid, { exit: reason });
    await rt.flush();
    const now = (await whichChildren(rt, sup)).find((c) => c.id === `t${i}`)?.pid;
    outcome.push([reason, now === undefined ? 'undefined' : typeof now === 'object' && now.id !== pid.id ? 'restarted' : String(now)]);
  }
  t.deepEqual(outcome, [
    ['normal', 'undefined'],
    ['shutdown', 'undefined'],
    [{ shutdown: 'x' }, 'undefined'],
    ['boom', 'restarted'],
  ]);
});

test('§5.3 probe temporary_abnormal: which_children=[], count=[{specs,0},{active,0},{supervisors,0},{workers,0}]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ children: [workerSpec('tmp', { restart: 'temporary' })] }));
  await terminate(rt, await livePid(rt, sup, 'tmp'), 'boom');
  t.deepEqual(await whichChildren(rt, sup), []);
  t.deepEqual(await countChildren(rt, sup), { specs: 0, active: 0, supervisors: 0, workers: 0 });
});

test('§5.3 probe one_for_all (crash b of [a,b,c]): shutdown sent to (in order) [c,a]; restarted (in order) [a,b,c]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ strategy: 'one_for_all', children: ['a', 'b', 'c'].map((id) => workerSpec(id)) }));
  rt.trace.clear();
  await terminate(rt, await livePid(rt, sup, 'b'), 'crashed_on_demand');
  t.deepEqual(shutdownSignals(rt, sup), [['c', 'shutdown'], ['a', 'shutdown']]);
  t.deepEqual(startedIds(rt, sup), ['a', 'b', 'c']);
  t.deepEqual(await counts(rt, sup), [3, 3, 0, 3]);
});

test('§5.3 probe rest_for_one (crash b of [a,b,c,d]): shutdown sent to (in order) [d,c]; restarted (in order) [b,c,d]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ strategy: 'rest_for_one', children: ['a', 'b', 'c', 'd'].map((id) => workerSpec(id)) }));
  const a = await livePid(rt, sup, 'a');
  rt.trace.clear();
  await terminate(rt, await livePid(rt, sup, 'b'), 'crashed_on_demand');
  t.deepEqual(shutdownSignals(rt, sup), [['d', 'shutdown'], ['c', 'shutdown']]);
  t.deepEqual(startedIds(rt, sup), ['b', 'c', 'd']);
  t.is(String(await livePid(rt, sup, 'a')), String(a));
});

test('§5.3 probe stop_order: which_children order [c,b,a]; termination order [c,b,a]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ children: ['a', 'b', 'c'].map((id) => workerSpec(id, {}, { trap: true, terminateMs: 10 })) }));
  t.deepEqual((await whichChildren(rt, sup)).map((c) => c.id), ['c', 'b', 'a']);
  rt.trace.clear();
  rt.exit(sup, 'shutdown');
  await rt.advance(30);
  const exits = rt.trace.entries.filter((e) => e.event === 'process.exited');
  t.deepEqual(
    exits.map((e) => {
      const d = e.data as { pid: Pid; id: string; reason: ExitReason };
      return [d.pid.id === sup.id ? 'sup' : d.id.split('/').pop(), d.reason, e.t];
    }),
    [
      ['c', 'shutdown', 10],
      ['b', 'shutdown', 20],
      ['a', 'shutdown', 30],
      ['sup', 'shutdown', 30],
    ],
    'one at a time, each waited for (10 ms each)',
  );
  t.false(rt.isAlive(sup));
});

test('§5.3 probe shutdown_specs (terminate_child): [{stubborn, killed, 201 ms}, {brutal, killed, 0 ms}, {polite, shutdown, 0 ms}] — stubborn killed at exactly 200 ms simulated', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    rt,
    supervisor({
      children: [
        workerSpec('stubborn', { shutdown: 200 }, { trap: true, terminateMs: 'forever' }),
        workerSpec('brutal', { shutdown: 'brutal_kill' }, { trap: true, terminateMs: 'forever' }),
        workerSpec('polite', { shutdown: 200 }),
      ],
    }),
  );
  const results: Array<[string, ExitReason, number]> = [];
  for (const id of ['stubborn', 'brutal', 'polite']) {
    const pid = await livePid(rt, sup, id);
    const t0 = rt.clock.now();
    let done = false;
    const p = terminateChild(rt, sup, id).then(() => (done = true));
    await rt.flush();
    for (let ms = 0; !done && ms < 10_000; ms++) await rt.advance(1);
    t.true(done, `terminate_child(${id}) finished`);
    await p;
    results.push([id, exitReason(rt, pid), rt.clock.now() - t0]);
  }
  t.deepEqual(results, [
    ['stubborn', 'killed', 200],
    ['brutal', 'killed', 0],
    ['polite', 'shutdown', 0],
  ]);
  t.true(rt.isAlive(sup));
});

test('§5.3 probe api_results: start ok, dup_running already_started, restart_running running, delete_running running, terminate ok ×2, start_after_terminate already_present, restart ok, delete ok, delete_again / terminate_unknown not_found, start_error {boom}, start_ignore(_temporary) {ok, undefined}, start_bad_return, which_children(no sup) noproc, which_children [{i, undefined}]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({}), 'probe_sup');
  const a = workerSpec('a');
  const start = await startChild(rt, sup, a);
  t.true(start.ok && start.pid !== undefined);
  const p1 = (start as { pid: Pid }).pid;
  t.deepEqual(await startChild(rt, sup, a), { ok: false, error: 'already_started', pid: p1 });
  t.deepEqual(await restartChild(rt, sup, 'a'), { ok: false, error: 'running' });
  t.deepEqual(await deleteChild(rt, sup, 'a'), { ok: false, error: 'running' });
  t.deepEqual(await terminateChild(rt, sup, 'a'), { ok: true });
  t.deepEqual(await terminateChild(rt, sup, 'a'), { ok: true });
  t.deepEqual(await startChild(rt, sup, a), { ok: false, error: 'already_present' });
  const restart = await restartChild(rt, sup, 'a');
  t.true(restart.ok && restart.pid !== undefined && restart.pid.id !== p1.id);
  t.deepEqual(await terminateChild(rt, sup, 'a'), { ok: true });
  t.deepEqual(await deleteChild(rt, sup, 'a'), { ok: true });
  t.deepEqual(await deleteChild(rt, sup, 'a'), { ok: false, error: 'not_found' });
  t.deepEqual(await terminateChild(rt, sup, 'nope'), { ok: false, error: 'not_found' });
  t.deepEqual(await startChild(rt, sup, { id: 'e', start: scripted([{ error: 'boom' }]).start, shutdown: 1000 }), {
    ok: false,
    error: 'start_failed',
    reason: 'boom',
  });
  t.deepEqual(await startChild(rt, sup, { id: 'i', start: scripted(['ignore']).start }), { ok: true, pid: undefined, ignored: true });
  t.deepEqual(await startChild(rt, sup, { id: 'it', start: scripted(['ignore']).start, restart: 'temporary' }), {
    ok: true,
    pid: undefined,
    ignored: true,
  });
  // OTP: {error, {weird, ChildRec}}. xotp names a start function's unexpected return value
  // { badReturn: value } (a start function can only return a pid, {pid, info} or 'ignore').
  const weird = (() => 'weird') as unknown as StartFunction;
  t.deepEqual(await startChild(rt, sup, { id: 'w', start: weird }), { ok: false, error: 'start_failed', reason: { badReturn: 'weird' } });
  await t.throwsAsync(whichChildren(rt, 'no_such_sup'), { instanceOf: NoProcessError });
  t.deepEqual(await whichChildren(rt, sup), [{ id: 'i', pid: undefined, type: 'worker' }]);
});

test('§5.3 probe init_child_fails ([a, b(error), c]): start_link = {error, {shutdown, {failed_to_start_child, b, boom}}}; a got shutdown; started = [a]', async (t) => {
  await using rt = createTestRuntime();
  const children: ChildSpec[] = [workerSpec('a'), { id: 'b', start: scripted([{ error: 'boom' }]).start }, workerSpec('c')];
  const err = await t.throwsAsync(rt.start(supervisor({ children }), { name: 'probe_sup' }), { instanceOf: StartError });
  t.deepEqual(err?.reason, { shutdown: { failedToStartChild: 'b', reason: 'boom' } });
  t.deepEqual(rt.trace.of('supervisor.childStarted').map((e) => e.id), ['a']);
  const a = rt.trace.of('supervisor.childStarted')[0]!.pid;
  assertExited(t, rt, a, 'shutdown');
  t.deepEqual(shutdownSignals(rt, rt.trace.of('supervisor.childStarted')[0]!.supervisor), [['a', 'shutdown']]);
  t.is(rt.whereis('probe_sup'), undefined);
  t.deepEqual(rt.processes(), []);
});

test('§5.3 probe init_ignore: start_link = ignore', async (t) => {
  await using rt = createTestRuntime();
  t.is(await rt.start(supervisor(() => 'ignore'), { name: 'probe_sup' }), 'ignore');
  await rt.flush();
  t.is(rt.whereis('probe_sup'), undefined);
  t.deepEqual(rt.processes(), []);
});

test('§5.3 probe one_for_all_counts_once (I=1, 3 children): after the 1st crash alive; after the 2nd crash {exited, shutdown}', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ strategy: 'one_for_all', maxRestarts: 1, maxSeconds: 5, children: ['a', 'b', 'c'].map((id) => workerSpec(id)) }));
  await terminate(rt, await livePid(rt, sup, 'b'), 'crashed_on_demand');
  t.true(rt.isAlive(sup), 'a group restart of 3 children is one restart');
  await terminate(rt, await livePid(rt, sup, 'a'), 'crashed_on_demand');
  assertExited(t, rt, sup, 'shutdown');
});

test('§5.3 probe failed_restart_counts (restart always {error, _}, I=3): supervisor {exited, shutdown} within milliseconds (every failed attempt counts)', async (t) => {
  await using rt = createTestRuntime();
  const failing = switchableStart();
  const sup = await startSup(rt, supervisor({ maxRestarts: 3, maxSeconds: 5, children: [{ id: 'f', start: failing.start }] }));
  failing.control.fail = true;
  const t0 = rt.clock.now();
  await terminate(rt, await livePid(rt, sup, 'f'), 'crashed_on_demand');
  assertExited(t, rt, sup, 'shutdown');
  t.is(rt.clock.now() - t0, 0, 'no time needed: the retries follow one another');
  t.is(failing.control.failures, 3, 'attempts 1–3 fail, the 4th add_restart exceeds intensity 3');
  t.deepEqual(rt.trace.of('supervisor.childStartFailed').map((e) => e.id), ['f', 'f', 'f']);
});

test('§5.3 probe terminate_child_no_restart (I=0): terminate_child → restart_child → terminate_child: supervisor alive, which_children = [{a, undefined}]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 0, maxSeconds: 5, children: [workerSpec('a')] }));
  t.deepEqual(await terminateChild(rt, sup, 'a'), { ok: true });
  t.like(await restartChild(rt, sup, 'a'), { ok: true });
  t.deepEqual(await terminateChild(rt, sup, 'a'), { ok: true });
  t.true(rt.isAlive(sup));
  t.deepEqual(await rows(rt, sup), [['a', undefined]]);
});

test('§5.3 probe sup_killed (exit(Sup, kill)): the non-trapping child dies killed; a trapping raw child stays alive (it only gets the EXIT); a trapping server child terminates (rule 49)', async (t) => {
  await using rt = createTestRuntime();
  const inbox: Array<{ type: string; from?: Pid; reason?: ExitReason }> = [];
  const sup = await startSup(
    rt,
    supervisor({
      children: [
        workerSpec('plain'),
        { id: 'raw', start: trappingRawStart(inbox as unknown[]) },
        workerSpec('server', {}, { trap: true }),
      ],
    }),
  );
  const plain = await livePid(rt, sup, 'plain');
  const raw = await livePid(rt, sup, 'raw');
  const server = await livePid(rt, sup, 'server');
  rt.exit(sup, 'kill');
  await rt.flush();
  assertExited(t, rt, sup, 'killed');
  assertExited(t, rt, plain, 'killed');
  t.true(rt.isAlive(raw), 'still alive = true');
  t.deepEqual(
    inbox.filter((m) => m.type === 'xotp.exit').map((m) => [String(m.from), m.reason]),
    [[String(sup), 'killed']],
  );
  assertExited(t, rt, server, 'killed', 'a gen_server terminates when its parent exits');
  t.deepEqual(rt.trace.of('supervisor.shutdown'), [], 'a killed supervisor shuts nothing down in order');
});
