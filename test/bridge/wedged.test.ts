/**
 * The wedge policy (issue 9, fault 2): a call that outlived its deadline must be let go by
 * Python within `cancelGrace` — its cancel acknowledged (an async handler cancelled, a queued
 * call dropped) or a late reply (a synchronous handler that finished). A bridge whose Python
 * does neither is wedged: it ends with BridgeWedgedError (an abnormal exit), so its supervisor
 * replaces it. Deadlines and the grace period run on the simulated clock; Python's answers are
 * waited for through calls that Python reads after the cancel frame (frames are read in order).
 */
import test from 'ava';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  supervisor,
  callBridge,
  bridgeInfo,
  BridgeExitedError,
  BridgeWedgedError,
  TimeoutError,
  XotpError,
  type Pid,
} from '../../src/index.js';
import { examples, osAlive, osPidGone, startBridge, stateOf, track, waitOsGone } from '../helpers/bridge.js';

test.serial('regression: a timed-out call wedges its worker — a sync handler that never returns ends the bridge after cancelGrace; the supervisor replaces it', async (t) => {
  await using rt = createTestRuntime();
  const sup = await rt.start(supervisor({ children: [{ id: 'py', start: examples({ cancelGrace: 1000 }), name: 'py' }] }));
  const first = await bridgeInfo(rt, 'py');
  const firstPid = rt.whereis('py')!;
  const exited = rt.exited(firstPid);
  const restarted = rt.trace.next('supervisor.childStarted', (e) => e.id === 'py' && e.restart);

  // The handler holds Python's only thread: it reads neither the cancel frame nor any later call.
  const stuck = track(callBridge(rt, 'py', 'wait_gate', { name: 'never' }, { timeout: 500 }));
  await rt.advance(500);
  await stuck.promise;
  t.true(stuck.error instanceof TimeoutError, String(stuck.error));
  const during = await bridgeInfo(rt, 'py');
  t.is(during.state, 'ready');
  t.is(during.pending, 0, 'its caller has its answer');
  t.is(during.awaitingCancel, 1, 'but Python has not let go of the call');
  const behind = track(callBridge(rt, 'py', 'echo', 'behind the stuck call'));

  await rt.advance(999);
  t.is(stateOf(rt.actorOf(firstPid)!), 'ready', 'within the grace period nothing happens');
  await rt.advance(1);
  const reason = await exited;
  t.true(reason instanceof BridgeWedgedError, String(reason));
  const wedged = reason as BridgeWedgedError;
  t.is(wedged.code, 'bridge_wedged');
  t.is(wedged.op, 'wait_gate');
  t.is(wedged.timeout, 500);
  t.is(wedged.cancelGrace, 1000);
  t.regex(wedged.message, /call 'wait_gate' \(id 1\) outlived its 500 ms deadline and Python did not acknowledge its cancel within cancelGrace \(1000 ms; 1500 ms in all\)/);
  await behind.promise;
  t.true(behind.error instanceof BridgeExitedError, String(behind.error));
  t.is((behind.error as BridgeExitedError).signal, 'SIGKILL');
  t.regex((behind.error as Error).message, /wedged/);

  const started = await restarted;
  const exit = rt.trace.of('supervisor.childExited').find((e) => e.id === 'py');
  t.true(exit?.reason instanceof BridgeWedgedError, 'the supervisor saw the wedge as an abnormal exit');
  t.true(osPidGone(first.osPid!), 'the wedged process was killed and reaped');
  t.is(await callBridge(rt, 'py', 'echo', 'served again', { timeout: 500 }), 'served again');
  const second = await bridgeInfo(rt, 'py');
  t.not(second.osPid, first.osPid, 'by the replacement');
  t.is(rt.whereis('py')?.toString(), started.pid.toString());
  t.is(second.awaitingCancel, 0);
  await rt.stop(sup as Pid);
});

test.serial('regression: an async handler that honours cancellation acknowledges it and keeps its bridge', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples({ cancelGrace: 1000 }));
  const call = track(callBridge(rt, b.pid, 'async_gate', { name: 'never' }, { timeout: 500 }));
  t.is(await callBridge(rt, b.pid, 'pending_tasks'), 1, 'the handler runs');
  await rt.advance(500);
  await call.promise;
  t.true(call.error instanceof TimeoutError, String(call.error));
  // Python reads the cancel frame before this call, and acknowledges the cancelled task first.
  t.is(await callBridge(rt, b.pid, 'pending_tasks'), 0, 'the coroutine was cancelled');
  const info = await bridgeInfo(rt, b.pid);
  t.is(info.awaitingCancel, 0);
  t.is(info.stats.cancelAcks, 1);
  t.is(info.stats.timeouts, 1);
  t.is(info.stats.lateReplies, 0);
  await rt.advance(10_000);
  t.is(stateOf(b.actor), 'ready', 'no grace timer was left to fire');
  t.is(rt.clock.pending, 0);
  t.is(await callBridge<number>(rt, b.pid, 'pid'), b.osPid, 'the same process serves on');
  await rt.stop(b.pid);
});

test.serial('a sync handler that finishes within cancelGrace: its late reply lets go of the call, the bridge stays', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xotp-wedge-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples({ cancelGrace: 1000 }));
  const release = join(dir, 'release');
  const call = track(callBridge(rt, b.pid, 'wait_file', { path: release }, { timeout: 500 }));
  await rt.advance(500);
  await call.promise;
  t.true(call.error instanceof TimeoutError, String(call.error));
  t.is((await bridgeInfo(rt, b.pid)).awaitingCancel, 1);
  writeFileSync(release, '');
  // Answered after the late reply of wait_file (one thread, frames in order).
  t.is(await callBridge(rt, b.pid, 'echo', 'next'), 'next');
  const info = await bridgeInfo(rt, b.pid);
  t.is(info.awaitingCancel, 0);
  t.is(info.stats.lateReplies, 1);
  t.is(info.stats.cancelAcks, 0);
  await rt.advance(1000);
  t.is(stateOf(b.actor), 'ready');
  await rt.stop(b.pid);
});

test.serial('an async handler that swallows the cancel is not acknowledged: wedged after cancelGrace', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples({ cancelGrace: 1000 }));
  const exited = rt.exited(b.pid);
  const call = track(callBridge(rt, b.pid, 'async_ignore_cancel', { name: 'never' }, { timeout: 500 }));
  // Running (inside its try) before it is cancelled: a task cancelled before its first step ends at once.
  t.is(await callBridge(rt, b.pid, 'pending_tasks'), 1);
  await rt.advance(500);
  await call.promise;
  // Python has read the cancel frame (and cancelled the task once) before it answers this.
  t.is(await callBridge(rt, b.pid, 'pending_tasks'), 1, 'the handler is still running');
  t.is((await bridgeInfo(rt, b.pid)).awaitingCancel, 1, 'no premature acknowledgement');
  await rt.advance(1000);
  const reason = await exited;
  t.true(reason instanceof BridgeWedgedError, String(reason));
  t.is((reason as BridgeWedgedError).op, 'async_ignore_cancel');
  t.true(await waitOsGone(b.osPid, 2000));
});

test.serial('concurrency > 1: a timed-out call still queued in the thread pool is dropped and acknowledged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xotp-wedge-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples({ concurrency: 2, cancelGrace: 1000 }));
  // Both threads of the pool held until the files exist.
  const busy = ['a', 'b'].map((name) => track(callBridge(rt, b.pid, 'wait_file', { path: join(dir, name) }, { timeout: 'infinity' })));
  const queued = track(callBridge(rt, b.pid, 'echo', 'never run', { timeout: 500 }));
  await rt.advance(500);
  await queued.promise;
  t.true(queued.error instanceof TimeoutError, String(queued.error));
  // Async handlers run on their own loop, so this one is answered while both threads are busy,
  // and after the cancel frame was handled (read before it, on the main thread).
  t.is(await callBridge(rt, b.pid, 'pending_tasks'), 0);
  const info = await bridgeInfo(rt, b.pid);
  t.is(info.stats.cancelAcks, 1);
  t.is(info.awaitingCancel, 0);
  await rt.advance(1000);
  t.is(stateOf(b.actor), 'ready');
  for (const name of ['a', 'b']) writeFileSync(join(dir, name), '');
  await Promise.all(busy.map((c) => c.promise));
  t.deepEqual(busy.map((c) => c.value), ['file seen', 'file seen']);
  await rt.stop(b.pid);
});

test.serial("cancelGrace 'infinity': a wedged call is reported by bridgeInfo but never ends the bridge", async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples({ cancelGrace: 'infinity', shutdownTimeout: 1000 }));
  const call = track(callBridge(rt, b.pid, 'wait_gate', { name: 'never' }, { timeout: 500 }));
  await rt.advance(500);
  await call.promise;
  t.is(rt.clock.pending, 0, 'no grace timer');
  await rt.advance(3_600_000);
  const info = await bridgeInfo(rt, b.pid);
  t.is(info.state, 'ready');
  t.is(info.awaitingCancel, 1);
  t.true(osAlive(b.osPid));
  // Its only thread is held: the shutdown frame is not read either; SIGTERM ends it.
  const stop = track(rt.stop(b.pid));
  await rt.advance(1000);
  await stop.promise;
  t.is(stop.value, 'ok');
});

test('BridgeWedgedError is an XotpError with a stable code', (t) => {
  const e = new BridgeWedgedError('app/py', 'embed', 7, 30_000, 2000);
  t.true(e instanceof XotpError);
  t.is(e.code, 'bridge_wedged');
  t.is(e.callId, 7);
  t.regex(e.message, /^bridge app\/py is wedged: call 'embed' \(id 7\) outlived its 30000 ms deadline/);
});

test.serial("regression: a bridge's own messages (its init, the wedge notice) reached it with no sender, so an inspector could not draw them", async (t) => {
  // The wedge notice was sent with `self.send` from a deadline's timer, bypassing the kernel's
  // send path; it is now sent through it as the bridge itself, as its init event is.
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  const { pid, actor } = await startBridge(rt, examples({ cancelGrace: 100 }));
  const exited = rt.exited(pid);
  const stuck = track(callBridge(rt, pid, 'wait_gate', { name: 'never' }, { timeout: 100 }));
  await rt.advance(100);
  await stuck.promise;
  await rt.advance(100);
  t.true((await exited) instanceof BridgeWedgedError);
  const senders = (type: string) =>
    events
      .filter((e): e is InspectionEvent & { type: '@xstate.event' } => e.type === '@xstate.event' && e.event.type === type && e.actorRef === actor)
      // xstate types sourceRef loosely (ActorRefLike); every actor here is a full ActorRef.
      .map((e) => (e.sourceRef as AnyActorRef | undefined)?.id);
  t.deepEqual(senders('xotp.bridge.init'), [actor.id]);
  t.deepEqual(senders('bridge.wedged'), [actor.id]);
});
