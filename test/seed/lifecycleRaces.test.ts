/**
 * Seed errors 6–11 (seed-system.md §3.1, PoolWorkerV2ReturnValuesTest): every test failed in its
 * cleanup, `if Process.alive?(pool) do GenServer.stop(pool)`, because the pool was already
 * shutting down: `** (exit) exited in: GenServer.stop(...) ** (EXIT) shutdown`. The rule for xotp
 * (seed-system.md §5 item 27): stopping a process that is already dead or stopping is a no-op
 * and never throws. These are the regression tests for it, plus the stale-pid contract.
 *
 * Servers with a slow `terminate` are driven with `rt.clock.advance`, which moves simulated time
 * without waiting for in-flight handlers, to look at them while they are still exiting.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { NoProcessError, Pid, TimeoutError, type DownMessage, type ExitReason } from '../../src/index.js';
import { idle, recorder, finisher } from '../helpers/actors.js';
import { probeServer, type TerminateRecord } from '../helpers/probe.js';

type Rt = ReturnType<typeof createTestRuntime>;

function exitReasonOf(rt: Rt, pid: Pid): ExitReason {
  return rt.trace.exits().find((e) => Pid.equals(e.pid, pid))?.reason;
}

type Tracked<T> = { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown };

/** Tracks how a promise settled, without ever leaving a rejection unhandled. */
function track<T>(promise: Promise<T>): Tracked<T> {
  const s: Tracked<T> = { state: 'pending' };
  promise.then(
    (value) => Object.assign(s, { state: 'resolved', value }),
    (error: unknown) => Object.assign(s, { state: 'rejected', error }),
  );
  return s;
}

test('seed error 6–11: stopping a process that already exited resolves noproc, never throws (by pid, by name, with or without timeout)', async (t) => {
  await using rt = createTestRuntime();
  const endings: Array<[string, (p: Pid) => unknown]> = [
    ['finished normally', (p) => rt.send(p, { type: 'finish' })],
    ['crashed', (p) => rt.send(p, { type: 'crash' })],
    ['was killed', (p) => rt.exit(p, 'kill')],
    ['was stopped', (p) => rt.stop(p, 'shutdown')],
  ];
  for (const [how, end] of endings) {
    const pid = rt.spawn(finisher, { name: 'pool' });
    end(pid);
    await rt.flush();
    t.false(rt.isAlive(pid), how);
    t.is(await rt.stop(pid), 'noproc', `stop(pid) after it ${how}`);
    t.is(await rt.stop(pid, 'shutdown', { timeout: 2000 }), 'noproc', `stop(pid, shutdown, 2000) after it ${how}`);
    t.is(await rt.stop('pool'), 'noproc', `stop(name) after it ${how}`);
    t.is(await rt.stop('pool', 'normal', { timeout: 0 }), 'noproc');
  }
  // The seed's cleanup shape: check alive, then stop. The process dies in between.
  const pool = rt.spawn(idle, { name: 'pool' });
  t.true(rt.isAlive(pool));
  rt.exit(pool, 'shutdown'); // the process it was linked to went down first
  t.is(await rt.stop(pool), 'noproc');
  t.is(rt.clock.pending, 0, 'no stop left a timer behind');
  t.is(rt.trace.exits().length, 5, 'no stop touched anything else');
});

test('seed error 6–11: stopping a process that is exiting (its async terminate still running) resolves ok once it is gone, never throws', async (t) => {
  await using rt = createTestRuntime();
  const log: TerminateRecord[] = [];
  const pool = rt.spawn(probeServer, { name: 'pool', input: { log, terminateMs: 500 } });
  await rt.flush();
  const first = track(rt.stop(pool, 'shutdown'));
  await rt.clock.advance(100);
  t.is(rt.info(pool)?.status, 'exiting');
  // Cleanup comes along while the pool is shutting down: by pid, by name, with a timeout.
  const byPid = track(rt.stop(pool, 'normal'));
  const byName = track(rt.stop('pool', 'normal'));
  const withTimeout = track(rt.stop(pool, 'normal', { timeout: 2000 }));
  await rt.clock.advance(399);
  t.deepEqual([first, byPid, byName, withTimeout].map((s) => s.state), ['pending', 'pending', 'pending', 'pending']);
  await rt.clock.advance(1);
  await rt.flush();
  t.deepEqual(
    [first, byPid, byName, withTimeout].map((s) => [s.state, s.value]),
    [
      ['resolved', 'ok'],
      ['resolved', 'ok'],
      ['resolved', 'ok'],
      ['resolved', 'ok'],
    ],
  );
  t.deepEqual(log.map((l) => [l.reason, l.at]), [['shutdown', 0]], 'terminate ran once, with the first reason');
  t.is(exitReasonOf(rt, pool), 'shutdown', 'the first stop decides the reason');
  t.is(rt.clock.pending, 0, 'the 2000 ms stop timer was cleared');
});

test('seed error 6–11: stopping a server that is already terminating by itself (trapped EXIT from its dying parent) resolves ok, never throws', async (t) => {
  // The seed's exact shape: the pool belongs to the test process; the test process ends first,
  // the pool starts shutting down, then on_exit calls stop on it.
  await using rt = createTestRuntime();
  const log: TerminateRecord[] = [];
  const testProcess = rt.spawn(idle, { name: 'test-process' });
  const pool = rt.spawn(probeServer, { parent: testProcess, link: testProcess, input: { trap: true, log, terminateMs: 300 } });
  await rt.flush();
  rt.exit(testProcess, 'shutdown');
  await rt.clock.advance(50);
  t.true(rt.isAlive(pool), 'still running terminate');
  t.deepEqual(log.map((l) => l.reason), ['shutdown']);

  // on_exit: `if alive then stop` — must not throw.
  t.true(rt.isAlive(pool));
  const cleanup = track(rt.stop(pool, 'normal', { timeout: 2000 }));
  await rt.clock.advance(250);
  await rt.flush();
  t.is(cleanup.state, 'resolved');
  t.is(cleanup.value, 'ok');
  t.is(exitReasonOf(rt, pool), 'shutdown', 'the pool keeps the reason it was already exiting with');
  t.is(log.length, 1, 'terminate did not run twice');
  t.is(rt.clock.pending, 0);
});

test('seed error 6–11: two concurrent stops of one process both resolve (raw process and slow server)', async (t) => {
  await using rt = createTestRuntime();
  const raw = rt.spawn(idle);
  t.deepEqual(await Promise.all([rt.stop(raw, 'shutdown'), rt.stop(raw, 'normal')]), ['ok', 'noproc']);
  t.is(exitReasonOf(rt, raw), 'shutdown');

  const log: TerminateRecord[] = [];
  const slow = rt.spawn(probeServer, { input: { log, terminateMs: 200 } });
  await rt.flush();
  const a = track(rt.stop(slow, 'shutdown'));
  const b = track(rt.stop(slow, { shutdown: 'other' }));
  await rt.clock.advance(200);
  await rt.flush();
  t.deepEqual([a.state, a.value, b.state, b.value], ['resolved', 'ok', 'resolved', 'ok']);
  t.deepEqual(log.map((l) => l.reason), ['shutdown']);
  t.is(exitReasonOf(rt, slow), 'shutdown');
  t.is(await rt.stop(slow), 'noproc', 'a third stop after the fact');
});

test('seed error 6–11: the seed fix pattern — stop with a timeout, on timeout kill, wait for DOWN — never leaves a caller throwing', async (t) => {
  await using rt = createTestRuntime();
  const stuck = rt.spawn(probeServer, { name: 'pool', input: { terminateMs: 10_000 } });
  await rt.flush();
  const downs: DownMessage[] = [];
  rt.monitor(stuck, (d) => downs.push(d));
  const earlier = track(rt.stop(stuck, 'shutdown')); // some other cleanup already waiting on it

  const attempt = track(rt.stop('pool', 'shutdown', { timeout: 2000 }));
  await rt.clock.advance(2000);
  t.is(attempt.state, 'rejected');
  t.true(attempt.error instanceof TimeoutError);
  t.true(rt.isAlive(stuck), 'a stop timeout does not kill');
  t.true(rt.exit(stuck, 'kill'), 'exit(kill) reaches an exiting process');
  await rt.flush();
  t.deepEqual(downs.map((d) => d.reason), ['killed']);
  t.is(earlier.state, 'resolved', 'the earlier waiter is released, not thrown at');
  t.is(earlier.value, 'ok');
  t.is(await rt.stop('pool'), 'noproc');
  await rt.clock.advance(8000); // the abandoned terminate's timer
  t.is(rt.clock.pending, 0);
});

test('seed error 6–11: stopping a process that is still in its async init resolves ok after init, never throws', async (t) => {
  await using rt = createTestRuntime();
  const log: TerminateRecord[] = [];
  const started = track(rt.start(probeServer, { input: { initMs: 100, log } }));
  await rt.clock.advance(10);
  const pid = rt.processes()[0]!;
  const stop = track(rt.stop(pid, 'shutdown'));
  await rt.clock.advance(90);
  await rt.flush();
  t.is(started.state, 'resolved');
  t.true(Pid.equals(started.value as Pid, pid));
  t.is(stop.state, 'resolved');
  t.is(stop.value, 'ok');
  t.deepEqual(log.map((l) => [l.reason, l.at]), [['shutdown', 100]]);
  t.false(rt.isAlive(pid));
});

test('seed error 6–11: a stale pid (process exited, pid kept): stop/call/send/cast/exit/monitor/link/unlink behave as documented and never throw where the docs say they do not', async (t) => {
  await using rt = createTestRuntime();
  const stale = rt.spawn(probeServer, { name: 'pool' });
  await rt.flush();
  await rt.stop(stale, 'shutdown');
  // Newer processes exist; none of them may be reached through the stale pid.
  const bystander = rt.spawn(probeServer);
  await rt.flush();
  const stalePids: Array<Pid | { node: string; id: number }> = [stale, JSON.parse(JSON.stringify(stale)) as { node: string; id: number }];

  for (const p of stalePids) {
    // Documented as never throwing.
    t.is(await rt.stop(p), 'noproc', 'stop → noproc');
    t.is(await rt.stop(p, 'kill', { timeout: 10 }), 'noproc');
    t.notThrows(() => rt.send(p, { type: 'hello' }), 'send to a dead pid is dropped (as OTP !)');
    t.notThrows(() => rt.cast(p, { stop: 'boom' }), 'cast to a dead pid is dropped');
    t.false(rt.exit(p, 'kill'), 'exit → false, nothing happens');
    t.notThrows(() => rt.unlink(bystander, p));
    t.false(rt.isAlive(p));
    t.is(rt.info(p), undefined);
    t.is(rt.actorOf(p), undefined);
    t.is(await rt.exited(p), 'noproc');
    const downs: DownMessage[] = [];
    const ref = rt.monitor(p, (d) => downs.push(d));
    await Promise.resolve();
    t.deepEqual(downs, [{ type: 'xotp.down', ref, pid: stale, target: stale, reason: 'noproc' }], 'monitor → DOWN noproc');
    const inbox: unknown[] = [];
    const trapping = rt.spawn(recorder, { input: inbox, trapExit: true });
    t.notThrows(() => rt.link(trapping, p), 'a trapping caller gets an EXIT instead');
    t.deepEqual(inbox, [{ type: 'xotp.exit', from: stale, reason: 'noproc' }]);
    rt.exit(trapping, 'kill');

    // Documented as throwing NoProcessError.
    await t.throwsAsync(rt.call(p, 'ping'), { instanceOf: NoProcessError }, 'call');
    t.throws(() => rt.link(bystander, p), { instanceOf: NoProcessError }, 'link by a non-trapping caller');
    t.throws(() => rt.register('again', p), { instanceOf: NoProcessError }, 'register');
    t.throws(() => rt.spawn(idle, { link: p }), { instanceOf: NoProcessError }, 'spawn link');
    // Not documented in trapExit's JSDoc, but it is the same NoProcessError.
    t.throws(() => rt.trapExit(p, true), { instanceOf: NoProcessError }, 'trapExit');
  }
  // A stale *name* is different: send/cast to an unknown name throw (documented), stop does not.
  t.throws(() => rt.send('pool', { type: 'hello' }), { instanceOf: NoProcessError });
  t.throws(() => rt.cast('pool', 'x'), { instanceOf: NoProcessError });
  t.is(await rt.stop('pool'), 'noproc');

  await rt.flush();
  t.true(rt.isAlive(bystander), 'nothing sent to the stale pid reached another process');
  t.deepEqual(await rt.call(bystander, 'infos'), []);
  t.deepEqual(rt.trace.exits().map((e) => e.reason), ['shutdown', 'killed', 'killed']);
});
