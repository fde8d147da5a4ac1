/**
 * Stopping a bridge: `ready → draining` (calls in flight get up to shutdownTimeout) `→
 * stopping.asking` (shutdown frame) `→ stopping.terminating` (SIGTERM) `→ stopping.killing`
 * (SIGKILL) `→ exited`, each step after shutdownTimeout on the simulated clock. `rt.stop`
 * resolves only once the OS process is gone. A Python that ignores both the shutdown frame (its
 * only thread is busy) and SIGTERM is test/fixtures/xotp_bridge_stubborn.py.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestRuntime } from '../../src/testing/index.js';
import { pythonBridge, callBridge, bridgeInfo, BridgeExitedError, BridgeNotRunningError } from '../../src/index.js';
import { STUBBORN_SCRIPT, examples, osAlive, osExitOf, osPidGone, recordStates, rejectionOf, startBridge, stateOf, track, waitOsGone } from '../helpers/bridge.js';

const LINGERING_PIPES_SCRIPT = fileURLToPath(new URL('../fixtures/xotp_bridge_lingering_pipes.py', import.meta.url));

/** Polls (bounded, real time) until the pid names no process at all, zombie included: reaped. */
async function waitOsPidGone(pid: number, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!osPidGone(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

test.serial('an idle bridge stops on the shutdown frame; rt.stop resolves only once the OS process is gone', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const states = recordStates(b.actor);
  const exited = rt.exited(b.pid);
  const stop = rt.stop(b.pid);
  t.is(stateOf(b.actor), 'stopping.asking', 'nothing in flight: no draining');
  t.true(osAlive(b.osPid), 'the process is still there right after the stop began');
  t.is(await stop, 'ok');
  t.true(osPidGone(b.osPid), 'process.kill(osPid, 0) throws ESRCH once stop resolved');
  t.deepEqual(states, ['ready', 'stopping.asking', 'exited']);
  t.is(osExitOf(b.actor)?.code, 0);
  t.is(await exited, 'normal');
  t.is(rt.clock.now(), 0, 'no step of the escalation was needed');
  t.is(rt.clock.pending, 0, 'the shutdown timer was cleared');
});

test.serial('the stop reason becomes the exit reason', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const exited = rt.exited(b.pid);
  await rt.stop(b.pid, { shutdown: 'maintenance' });
  t.deepEqual(await exited, { shutdown: 'maintenance' });
});

test.serial('draining: calls in flight finish, new calls fail at once with BridgeNotRunningError', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const states = recordStates(b.actor);
  const inFlight = track(callBridge(rt, b.pid, 'async_sleep', { seconds: 0.05, value: 'finished' }));
  const stop = track(rt.stop(b.pid));
  t.is(stateOf(b.actor), 'draining');
  const info = await bridgeInfo(rt, b.pid);
  t.is(info.state, 'draining');
  t.is(info.pending, 1);
  const refused = await rejectionOf(callBridge(rt, b.pid, 'echo', 'too late'));
  t.true(refused instanceof BridgeNotRunningError, String(refused));
  t.regex((refused as Error).message, /\(draining\)/);
  await inFlight.promise;
  t.is(inFlight.value, 'finished', 'the call in flight got its reply');
  await stop.promise;
  t.is(stop.value, 'ok');
  t.deepEqual(states, ['ready', 'draining', 'stopping.asking', 'exited']);
  t.true(osPidGone(b.osPid));
  t.is(rt.clock.now(), 0);
});

test.serial('a call that does not finish within shutdownTimeout fails; a busy Python that honours SIGTERM ends at the next step', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples({ shutdownTimeout: 1000 }));
  const states = recordStates(b.actor);
  // A sync handler holds Python's only thread: it will read neither the cancel nor the shutdown frame.
  const busy = track(callBridge(rt, b.pid, 'wait_gate', { name: 'never' }));
  const stop = track(rt.stop(b.pid));
  t.is(stateOf(b.actor), 'draining');
  await rt.advance(999);
  t.is(stateOf(b.actor), 'draining');
  t.is(busy.state, 'pending');
  await rt.advance(1);
  t.is(stateOf(b.actor), 'stopping.asking');
  await busy.promise;
  t.true(busy.error instanceof BridgeNotRunningError, String(busy.error));
  t.regex((busy.error as Error).message, /abandoned before Python answered/);
  t.is(stop.state, 'pending');
  await rt.advance(1000);
  await stop.promise;
  t.is(stop.value, 'ok');
  t.deepEqual(states, ['ready', 'draining', 'stopping.asking', 'stopping.terminating', 'exited']);
  t.is(osExitOf(b.actor)?.signal, 'SIGTERM', 'SIGTERM keeps its default action: it ends Python');
  t.true(osPidGone(b.osPid));
});

test.serial('a Python that ignores the shutdown frame and SIGTERM is SIGKILLed at the last step; stop resolves only then', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, pythonBridge({ script: STUBBORN_SCRIPT, shutdownTimeout: 2000 }));
  t.is(await callBridge(rt, b.pid, 'ignore_sigterm'), 'ignoring SIGTERM');
  const states = recordStates(b.actor);
  const busy = track(callBridge(rt, b.pid, 'wait_gate', { name: 'never' }));
  const stop = track(rt.stop(b.pid));
  t.is(stateOf(b.actor), 'draining');

  await rt.advance(2000);
  t.is(stateOf(b.actor), 'stopping.asking', 'shutdown frame sent');
  await busy.promise;
  t.true(busy.error instanceof BridgeNotRunningError, String(busy.error));
  const whileStopping = await rejectionOf(callBridge(rt, b.pid, 'echo', 1));
  t.true(whileStopping instanceof BridgeNotRunningError, String(whileStopping));
  t.regex((whileStopping as Error).message, /\(stopping\)/);
  t.is((await bridgeInfo(rt, b.pid)).state, 'stopping', 'bridgeInfo still answers while stopping');

  await rt.advance(2000);
  t.is(stateOf(b.actor), 'stopping.terminating', 'SIGTERM sent');
  t.true(osAlive(b.osPid));
  t.is(stop.state, 'pending', 'stop waits for the OS process');

  await rt.advance(2000);
  await stop.promise;
  t.is(stop.value, 'ok');
  t.deepEqual(states, ['ready', 'draining', 'stopping.asking', 'stopping.terminating', 'stopping.killing', 'exited']);
  t.is(osExitOf(b.actor)?.signal, 'SIGKILL', 'only SIGKILL ended it');
  t.true(osPidGone(b.osPid), 'gone when stop resolved');
  t.is(rt.clock.now(), 6000);
});

test.serial('an outside SIGTERM: the stubborn script ignores it; a normal bridge ends on it, an unexpected exit', async (t) => {
  await using rt = createTestRuntime();
  const stubborn = await startBridge(rt, pythonBridge({ script: STUBBORN_SCRIPT }));
  await callBridge(rt, stubborn.pid, 'ignore_sigterm');
  process.kill(stubborn.osPid, 'SIGTERM');
  t.is(await callBridge(rt, stubborn.pid, 'echo', 'still here'), 'still here', 'SIGTERM was ignored');
  const normal = await startBridge(rt);
  const exited = rt.exited(normal.pid);
  process.kill(normal.osPid, 'SIGTERM');
  t.true((await exited) instanceof BridgeExitedError, 'an outside SIGTERM is an unexpected exit');
  t.is(osExitOf(normal.actor)?.signal, 'SIGTERM');
  await rt.stop(stubborn.pid);
  t.is(osExitOf(stubborn.actor)?.code, 0, 'an idle stubborn Python still honours the shutdown frame');
});

test.serial('regression: an outside SIGTERM that the kernel hands to a thread other than the main one still ends the bridge', async (t) => {
  // Seen once in a full run: a normal bridge got SIGTERM and stayed alive for minutes. Its
  // handler was Python-level, run only by the main thread, which sat in read(fd 3) and was
  // never interrupted because the pipe-watch thread had taken the signal.
  await using rt = createTestRuntime();
  const b = await startBridge(rt, pythonBridge({ script: STUBBORN_SCRIPT }));
  const exited = rt.exited(b.pid);
  t.is(await callBridge(rt, b.pid, 'sigterm_from_a_thread'), 'sending');
  t.true(await waitOsGone(b.osPid, 20_000), 'Python ended on the SIGTERM');
  t.true((await exited) instanceof BridgeExitedError);
  t.is(osExitOf(b.actor)?.signal, 'SIGTERM');
});

test.serial('the process dying on its own while the bridge asks it to stop: stop resolves at once, no timer left', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples({ shutdownTimeout: 1000 }));
  const states = recordStates(b.actor);
  const busy = track(callBridge(rt, b.pid, 'wait_gate', { name: 'never' }));
  const stop = track(rt.stop(b.pid));
  await rt.advance(1000);
  t.is(stateOf(b.actor), 'stopping.asking');
  process.kill(b.osPid, 'SIGKILL');
  await stop.promise;
  await busy.promise;
  t.is(stop.value, 'ok');
  t.deepEqual(states, ['ready', 'draining', 'stopping.asking', 'exited']);
  t.is(osExitOf(b.actor)?.signal, 'SIGKILL');
  t.is(rt.clock.now(), 1000, 'no further step was needed');
  t.is(rt.clock.pending, 0);
});

test.serial("shutdownTimeout 'infinity': draining waits for the call however long it takes", async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples({ shutdownTimeout: 'infinity' }));
  const call = track(callBridge(rt, b.pid, 'async_gate', { name: 'slow', value: 'done at last' }, { timeout: 'infinity' }));
  t.is(await callBridge(rt, b.pid, 'pending_tasks'), 1);
  const stop = track(rt.stop(b.pid));
  t.is(rt.clock.pending, 0, 'no shutdown timer');
  await rt.advance(3_600_000);
  t.is(stateOf(b.actor), 'draining');
  t.is(call.state, 'pending');
  // Nothing can reach Python while draining; let the OS end the wait: SIGKILL.
  process.kill(b.osPid, 'SIGKILL');
  await stop.promise;
  await call.promise;
  t.true(call.error instanceof BridgeExitedError);
});

// Regression note: dispose used to move simulated time as soon as the runtime had nothing in
// flight, while a bridge still waited for its Python process to read the shutdown frame and
// leave, so the bridge was killed instead of stopped in order and its process reported as a
// leak; dispose now gives live OS processes real time first (src/testing/testRuntime.ts). The
// 1-in-4 failure that remained (clock at 5000, exit 'killed') is pinned by the test after this one.
test.serial('dispose stops a running bridge in order, without reporting a leak', async (t) => {
  const rt = createTestRuntime();
  const b = await startBridge(rt);
  const exited = rt.exited(b.pid);
  const failure = await rt.dispose().then(
    () => undefined,
    (err: unknown) => err,
  );
  t.is(rt.clock.now(), 0, 'no simulated time was needed');
  t.is(await exited, 'shutdown', 'stopped, not killed');
  t.is(failure, undefined, `dispose threw: ${String(failure)}`);
  // whatever happened, do not leave the process behind for the next test (bounded OS poll)
  t.true(await waitOsGone(b.osPid, 2000));
});

// Why it failed: the OS-process resource that dispose waits on counted as gone from the moment
// Node saw the process exit ('exit', exitCode set), but the bridge learns of the exit only on
// 'close', once the pipes are drained too. In that window nothing looked alive outside the
// simulation, so dispose let simulated time run to the 5000 ms stop timeout and the bridge was
// killed. The window is usually a few event-loop turns (1 run in 4 under load); here a helper
// process holds stdout/stderr open so the window lasts until the test ends it.
test.serial('regression: dispose waits for a bridge whose process exited but whose pipes are still open', async (t) => {
  const release = join(mkdtempSync(join(tmpdir(), 'xotp-linger-')), 'release');
  const rt = createTestRuntime();
  const b = await startBridge(rt, pythonBridge({ script: LINGERING_PIPES_SCRIPT, env: { XOTP_FIXTURE_RELEASE: release } }));
  const helper = await callBridge<number>(rt, b.pid, 'lingerer');
  const exited = rt.exited(b.pid);
  const disposed = track(rt.dispose());
  try {
    // The Python process leaves on the shutdown frame and is reaped by Node (its pid is gone):
    // from here on only the open pipes keep the bridge from seeing the exit.
    t.true(await waitOsPidGone(b.osPid, 5000), 'the Python process left on the shutdown frame');
    t.is(disposed.state, 'pending');
  } finally {
    writeFileSync(release, '');
  }
  await disposed.promise;
  t.is(disposed.error, undefined, `dispose threw: ${String(disposed.error)}`);
  t.is(rt.clock.now(), 0, 'no simulated time was needed');
  t.is(await exited, 'shutdown', 'stopped in order, not killed');
  t.true(await waitOsGone(helper, 5000), 'the helper process ended');
});
