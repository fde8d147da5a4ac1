/**
 * The process exiting at any point: every pending call fails with BridgeExitedError (exit code,
 * signal, stderr tail), the bridge exits abnormally (so a supervisor restarts it), and later
 * calls fail at once with BridgeNotRunningError. Exits are real: `os._exit` in a handler, or
 * SIGKILL of the OS pid from here.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  callBridge,
  bridgeInfo,
  supervisor,
  BridgeExitedError,
  BridgeNotRunningError,
  NoProcessError,
  type Pid,
} from '../../src/index.js';
import { examples, osAlive, osExitOf, osPidGone, recordStates, rejectionOf, startBridge, stateOf, track, waitOsGone } from '../helpers/bridge.js';

test.serial('a hard exit in Python fails every pending call with BridgeExitedError (code, stderr tail) and ends the bridge abnormally', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const states = recordStates(b.actor);
  const exited = rt.exited(b.pid);
  const others = ['x', 'y'].map((name) => track(callBridge(rt, b.pid, 'async_gate', { name })));
  const killer = track(callBridge(rt, b.pid, 'hard_exit', { code: 7 }));
  await Promise.all([killer.promise, ...others.map((o) => o.promise)]);
  for (const call of [killer, ...others]) {
    t.true(call.error instanceof BridgeExitedError, String(call.error));
    const e = call.error as BridgeExitedError;
    t.is(e.code, 'bridge_exited');
    t.is(e.exitCode, 7);
    t.is(e.signal, null);
    t.is(e.stderrTail.at(-1), 'hard_exit: exiting with code 7');
    // Regression: the message said it all twice ("exited with exit code 7 (bridge …: the Python
    // process exited with exit code 7 (unexpected exit) stderr: …) stderr: …").
    t.is(e.message.split('exit code 7').length, 2, e.message);
    t.is(e.message.split('stderr:').length, 2, e.message);
  }
  const reason = await exited;
  t.true(reason instanceof BridgeExitedError, `abnormal exit reason: ${String(reason)}`);
  t.regex((reason as Error).message, /exit code 7 \(unexpected exit\)/);
  t.deepEqual(states, ['ready', 'crashed']);
  t.true(osPidGone(b.osPid), 'the process is reaped before the bridge reports its exit');
});

test.serial('exit code 0 out of the blue is still a crash, not a normal exit', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const exited = rt.exited(b.pid);
  const err = await rejectionOf(callBridge(rt, b.pid, 'hard_exit', { code: 0 }));
  t.is((err as BridgeExitedError).exitCode, 0);
  t.true((await exited) instanceof BridgeExitedError);
});

test.serial('SIGKILL of the Python process: pending calls fail with BridgeExitedError carrying the signal', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const exited = rt.exited(b.pid);
  const pending = [1, 2, 3].map((i) => track(callBridge(rt, b.pid, 'async_gate', { name: `g${i}` })));
  t.is(await callBridge(rt, b.pid, 'pending_tasks'), 3, 'all three are running in Python');
  process.kill(b.osPid, 'SIGKILL');
  await Promise.all(pending.map((p) => p.promise));
  for (const p of pending) {
    t.true(p.error instanceof BridgeExitedError, String(p.error));
    t.is((p.error as BridgeExitedError).signal, 'SIGKILL');
    t.is((p.error as BridgeExitedError).exitCode, null);
  }
  const reason = await exited;
  t.true(reason instanceof BridgeExitedError);
  t.regex((reason as Error).message, /signal SIGKILL/);
  t.is(osExitOf(b.actor)?.signal, 'SIGKILL');
});

test.serial('after the bridge exited, calls fail at once with BridgeNotRunningError', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples(), 'py');
  process.kill(b.osPid, 'SIGKILL');
  await rt.exited(b.pid);
  for (const target of [b.pid, 'py'] as Array<Pid | string>) {
    const err = await rejectionOf(callBridge(rt, target, 'echo', 1));
    t.true(err instanceof BridgeNotRunningError, `${String(target)}: ${String(err)}`);
    t.is((err as BridgeNotRunningError).code, 'bridge_not_running');
  }
  t.true((await rejectionOf(bridgeInfo(rt, b.pid))) instanceof NoProcessError);
  t.is(await rt.stop(b.pid), 'noproc', 'stopping it again is a no-op');
});

test.serial('the process dying while the bridge drains: the pending call fails with the signal; the bridge ends with its stop reason', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const call = track(callBridge(rt, b.pid, 'async_gate', { name: 'never' }));
  t.is(await callBridge(rt, b.pid, 'pending_tasks'), 1);
  const exited = rt.exited(b.pid);
  const stop = rt.stop(b.pid, 'shutdown');
  t.is(stateOf(b.actor), 'draining');
  process.kill(b.osPid, 'SIGKILL');
  await call.promise;
  t.true(call.error instanceof BridgeExitedError, String(call.error));
  t.is((call.error as BridgeExitedError).signal, 'SIGKILL');
  t.is(await stop, 'ok');
  t.is(await exited, 'shutdown');
  t.is(stateOf(b.actor), 'exited');
});

test.serial('a crash while a caller waits on the queue of a starting bridge fails that caller too', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples());
  const actor = rt.actorOf(pid)!;
  const queued = track(callBridge(rt, pid, 'hard_exit', { code: 9 }));
  const behind = track(callBridge(rt, pid, 'echo', 'behind the exit'));
  await Promise.all([queued.promise, behind.promise]);
  t.is((queued.error as BridgeExitedError).exitCode, 9);
  t.is((behind.error as BridgeExitedError).exitCode, 9, 'the call queued behind it fails with the same exit');
  t.is(stateOf(actor), 'crashed');
});

// Regression note: a bridge ended with an untrappable `kill` (rt.exit(pid, 'kill'), a
// supervisor's brutal_kill or shutdown timeout) is stopped by xstate without running any action
// of its own, so its call deadlines stayed armed (a leaked timer at 30000 ms). The bridge now
// monitors itself and disposes its BridgeCore however it ends; and dispose waits for a process
// just SIGKILLed to be reaped before it checks for leaks (src/testing/testRuntime.ts).
test.serial('a bridge killed outright: its Python process is SIGKILLed, the pending call fails, nothing is left behind', async (t) => {
  const rt = createTestRuntime();
  const b = await startBridge(rt);
  const call = track(callBridge(rt, b.pid, 'async_gate', { name: 'never' }));
  t.is(await callBridge(rt, b.pid, 'pending_tasks'), 1);
  rt.exit(b.pid, 'kill');
  t.false(rt.isAlive(b.pid));
  await call.promise;
  t.true(call.error instanceof BridgeExitedError, String(call.error));
  // The OS process gets SIGKILL from the bridge's process actor; its exit is not an event we can
  // await any more (the actor is gone), so poll the OS, bounded.
  t.true(await waitOsGone(b.osPid, 2000), 'the Python process died');
  t.is(rt.clock.pending, 0, `no timer left behind: ${rt.clock.describePending().join('; ')}`);
  const leak = await rejectionOf(rt.dispose()).catch(() => undefined);
  t.is(leak, undefined, `dispose found: ${String(leak)}`);
});

test.serial('under a supervisor, SIGKILL of the Python process restarts the bridge and new calls succeed', async (t) => {
  await using rt = createTestRuntime();
  const sup = await rt.start(supervisor({ children: [{ id: 'py', start: examples(), name: 'py' }] }));
  const first = await callBridge<number>(rt, 'py', 'pid');
  t.is((await bridgeInfo(rt, 'py')).osPid, first);
  const restarted = rt.trace.next('supervisor.childStarted', (e) => e.id === 'py' && e.restart);
  const pending = track(callBridge(rt, 'py', 'async_gate', { name: 'never' }));
  process.kill(first, 'SIGKILL');
  await pending.promise;
  t.true(pending.error instanceof BridgeExitedError, String(pending.error));
  const started = await restarted;
  const exit = rt.trace.of('supervisor.childExited').find((e) => e.id === 'py');
  t.true(exit?.reason instanceof BridgeExitedError, 'the supervisor saw an abnormal exit');
  const second = await callBridge<number>(rt, 'py', 'pid');
  t.not(second, first, 'a new Python process');
  t.true(osPidGone(first));
  t.is(rt.whereis('py')?.toString(), started.pid.toString(), 'the name follows the restart');
  t.is(await callBridge(rt, 'py', 'echo', 'after restart'), 'after restart');
  await rt.stop(sup as Pid);
  t.true(osPidGone(second), 'stopping the supervisor took the new process down too');
});

test.serial('a supervisor shutting down stops its bridge in order (shutdown frame), not by killing it', async (t) => {
  await using rt = createTestRuntime();
  const sup = await rt.start(supervisor({ children: [{ id: 'py', start: examples(), name: 'py' }] }));
  const { osPid } = await bridgeInfo(rt, 'py');
  const actor = rt.actorOf('py')!;
  const states = recordStates(actor);
  t.true(osAlive(osPid!));
  await rt.stop(sup as Pid);
  t.deepEqual(states, ['ready', 'stopping.asking', 'exited']);
  t.is(osExitOf(actor)?.code, 0, 'it left on the shutdown frame');
  t.true(osPidGone(osPid!));
  t.is(rt.trace.exits().find((e) => e.id === actor.id)?.reason, 'shutdown');
  t.is(rt.clock.now(), 0, 'no escalation was needed');
});
