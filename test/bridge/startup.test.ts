/**
 * Start-up: `starting.spawning → starting.handshaking → ready`, the `ready` handshake within
 * `startupTimeout` (on the simulated clock), calls made before `ready` waiting in a bounded
 * queue, and every way a start can fail (timeout, early exit, no interpreter, a bad first
 * frame, a stop that overtakes the start). Each test runs a real Python process.
 */
import test from 'ava';
import { basename, dirname } from 'node:path';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  callBridge,
  bridgeInfo,
  resolvePython,
  pythonBridge,
  AbortError,
  BridgeExitedError,
  BridgeNotRunningError,
  BridgeOverloadedError,
  BridgeStartupError,
  InvalidOptionError,
  PythonNotFoundError,
  XotpError,
  ProtocolError,
  StartError,
  TimeoutError,
  type Pid,
} from '../../src/index.js';
import { BAD_HANDSHAKE_SCRIPT, examples, osExitOf, osPidGone, recordStates, rejectionOf, stateOf, track, whenState } from '../helpers/bridge.js';

const SLOW_IMPORT = { XOTP_EXAMPLES_IMPORT_DELAY: '30' }; // never ready in a test's lifetime

test.serial('the states read like the process lifecycle: spawning, handshaking, ready; the handshake tells pid, version and handlers', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples());
  const actor = rt.actorOf(pid)!;
  const states = recordStates(actor);
  t.is(stateOf(actor), 'starting.spawning', 'spawning at once');
  t.is(rt.clock.pending, 1, 'the startup timer runs on the runtime clock');
  const early = await bridgeInfo(rt, pid);
  t.is(early.state, 'starting');
  t.is(early.python, undefined, 'no handshake yet');
  await whenState(actor, 'ready');
  t.deepEqual(states, ['starting.spawning', 'starting.handshaking', 'ready']);
  t.is(rt.clock.pending, 0, 'the startup timer is cleared once ready');
  const info = await bridgeInfo(rt, pid);
  t.is(info.state, 'ready');
  t.is(info.osPid, await callBridge<number>(rt, pid, 'pid'), 'osPid is the pid Python reports');
  t.regex(info.python!, /^3\.\d+\.\d+/);
  t.true(['echo', 'pid', 'sleep', 'async_sleep', 'raise', 'hard_exit', 'noise', 'not_json'].every((h) => info.handlers.includes(h)), info.handlers.join());
  t.deepEqual(info.handlers, [...info.handlers].sort(), 'handler names, sorted');
  await rt.stop(pid);
});

test.serial('runtime.start resolves only after the ready handshake', async (t) => {
  await using rt = createTestRuntime();
  const pid = await rt.start(examples());
  t.not(pid, 'ignore');
  t.is(stateOf(rt.actorOf(pid as never)!), 'ready');
  await rt.stop(pid as never);
});

test.serial('calls made while spawning wait in the queue and go out in order once ready', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples());
  const actor = rt.actorOf(pid)!;
  t.is(stateOf(actor), 'starting.spawning');
  const calls = [1, 2, 3].map((n) => callBridge(rt, pid, 'echo', { n }));
  const info = await bridgeInfo(rt, pid);
  t.is(info.state, 'starting');
  t.is(info.queued, 3);
  t.is(info.stats.calls, 0, 'nothing sent before the handshake');
  t.deepEqual(await Promise.all(calls), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  const after = await bridgeInfo(rt, pid);
  t.is(after.queued, 0);
  t.is(after.stats.calls, 3);
  t.is(after.stats.replies, 3);
  await rt.stop(pid);
});

test.serial('calls made while handshaking (process up, no ready yet) wait too', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples());
  const actor = rt.actorOf(pid)!;
  await whenState(actor, 'starting.handshaking');
  // From here to the next await nothing can read Python's pipe: the ready frame cannot be in.
  const info = await bridgeInfo(rt, pid);
  t.is(typeof info.osPid, 'number', 'the process exists');
  const call = callBridge(rt, pid, 'echo', 'queued while handshaking');
  t.is((await bridgeInfo(rt, pid)).queued, 1);
  t.is(await call, 'queued while handshaking');
  await rt.stop(pid);
});

test.serial('the start queue is bounded by maxPending: one more call fails at once with BridgeOverloadedError', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples({ maxPending: 2 }));
  const a = track(callBridge(rt, pid, 'echo', 'a'));
  const b = track(callBridge(rt, pid, 'echo', 'b'));
  const c = track(callBridge(rt, pid, 'echo', 'c'));
  await c.promise;
  t.true(c.error instanceof BridgeOverloadedError, String(c.error));
  t.is((c.error as BridgeOverloadedError).code, 'bridge_overloaded');
  t.is(a.state, 'pending');
  t.is(b.state, 'pending');
  await Promise.all([a.promise, b.promise]);
  t.deepEqual([a.value, b.value], ['a', 'b']);
  await rt.stop(pid);
});

test.serial('aborting a queued call removes it from the queue; it is never sent', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples());
  const ac = new AbortController();
  const call = callBridge(rt, pid, 'echo', 'never sent', { signal: ac.signal });
  const other = callBridge(rt, pid, 'echo', 'sent');
  ac.abort();
  t.true((await rejectionOf(call)) instanceof AbortError);
  const info = await bridgeInfo(rt, pid);
  t.is(info.queued, 1);
  t.is(info.stats.cancels, 1);
  t.is(await other, 'sent');
  const after = await bridgeInfo(rt, pid);
  t.is(after.stats.calls, 1, 'only the call still queued went out');
  await rt.stop(pid);
});

test.serial('no ready within startupTimeout (simulated): the bridge crashes with BridgeStartupError and queued calls fail', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples({ startupTimeout: 2000, env: SLOW_IMPORT }));
  const actor = rt.actorOf(pid)!;
  const states = recordStates(actor);
  const queued = track(callBridge(rt, pid, 'echo', 'queued'));
  await rt.advance(1999);
  t.regex(stateOf(actor), /^starting\./, 'still starting 1 ms before the deadline');
  t.is(queued.state, 'pending');
  const exited = rt.exited(pid);
  await rt.advance(1);
  const reason = await exited;
  t.true(reason instanceof BridgeStartupError, String(reason));
  t.is((reason as BridgeStartupError).code, 'bridge_startup');
  t.regex((reason as Error).message, /no ready handshake within 2000 ms/);
  t.deepEqual(states.slice(-2), ['crashing', 'crashed']);
  t.is(osExitOf(actor)?.signal, 'SIGKILL', 'the late Python process was killed');
  await queued.promise;
  t.true(queued.error instanceof BridgeExitedError, String(queued.error));
  t.true(rt.trace.exits().some((e) => e.reason instanceof BridgeStartupError), 'the exit is abnormal');
});

test.serial('regression: every pythonBridge() call built its own machine; definitions share one, each timing out on its own startupTimeout', async (t) => {
  const short = examples({ startupTimeout: 300, env: SLOW_IMPORT });
  const long = examples({ startupTimeout: 600, env: SLOW_IMPORT });
  // Compared as booleans: ava would render a diff of two whole machines. An unbounded timeout
  // leaves its timer out of the machine, so it has one of its own.
  t.true(short.root === long.root);
  t.false(short.root === examples({ startupTimeout: 'infinity' }).root);
  await using rt = createTestRuntime();
  const a = rt.spawn(short);
  const b = rt.spawn(long);
  const aExited = rt.exited(a);
  await rt.advance(300);
  t.regex(((await aExited) as Error).message, /no ready handshake within 300 ms/);
  t.regex(stateOf(rt.actorOf(b)!), /^starting\./);
  const bExited = rt.exited(b);
  await rt.advance(300);
  t.regex(((await bExited) as Error).message, /no ready handshake within 600 ms/);
});

test.serial('provide on a bridge definition keeps a working bridge with its own settings', async (t) => {
  await using rt = createTestRuntime();
  const pid = await rt.start(examples({ label: 'provided' }).provide({}));
  t.not(pid, 'ignore');
  t.is(await callBridge(rt, pid as Pid, 'echo', 'hi'), 'hi');
  t.regex(rt.info(pid as Pid)!.id, /\/provided-\d+$/);
  await rt.stop(pid as Pid);
});

test.serial('runtime.start rejects with StartError carrying the BridgeStartupError when the handshake times out', async (t) => {
  await using rt = createTestRuntime();
  const started = track(rt.start(examples({ startupTimeout: 500, env: SLOW_IMPORT })));
  await rt.advance(500);
  await started.promise;
  t.true(started.error instanceof StartError, String(started.error));
  t.true((started.error as StartError).reason instanceof BridgeStartupError);
});

test.serial("startupTimeout 'infinity' sets no timer", async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples({ startupTimeout: 'infinity' }));
  t.is(rt.clock.pending, 0);
  await whenState(rt.actorOf(pid)!, 'ready');
  await rt.stop(pid);
});

test.serial('a process that exits before the handshake: BridgeStartupError with the exit code and the stderr tail; queued calls get BridgeExitedError', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(pythonBridge({ module: 'xotp_no_such_module' }));
  const queued = callBridge(rt, pid, 'echo', 1);
  const reason = await rt.exited(pid);
  t.true(reason instanceof BridgeStartupError, String(reason));
  t.regex((reason as Error).message, /exited before the handshake \(exit code 1\)/);
  t.true((reason as BridgeStartupError).stderrTail.some((l) => /ModuleNotFoundError: No module named 'xotp_no_such_module'/.test(l)), (reason as BridgeStartupError).stderrTail.join('\n'));
  const err = await rejectionOf(queued);
  t.true(err instanceof BridgeExitedError, String(err));
  t.is((err as BridgeExitedError).exitCode, 1);
  t.is((err as BridgeExitedError).signal, null);
  t.true((err as BridgeExitedError).stderrTail.some((l) => /ModuleNotFoundError/.test(l)));
  // and through runtime.start
  const started = await rejectionOf(rt.start(pythonBridge({ module: 'xotp_no_such_module' })));
  t.true(started instanceof StartError && started.reason instanceof BridgeStartupError, String(started));
});

test.serial('an interpreter that does not exist: BridgeStartupError, nothing left behind', async (t) => {
  await using rt = createTestRuntime();
  const err = await rejectionOf(rt.start(pythonBridge({ module: 'xotp_bridge.examples', python: '/nonexistent/python3' })));
  t.true(err instanceof StartError, String(err));
  const reason = (err as StartError).reason;
  t.true(reason instanceof BridgeStartupError, String(reason));
  t.regex((reason as Error).message, /could not start \/nonexistent\/python3/);
  t.deepEqual(rt.leaks(), []);
});

test.serial('a first frame that is not ready: ProtocolError bad_handshake, the process is killed', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(pythonBridge({ script: BAD_HANDSHAKE_SCRIPT }));
  const actor = rt.actorOf(pid)!;
  const states = recordStates(actor);
  const queued = track(callBridge(rt, pid, 'echo', 1));
  const reason = await rt.exited(pid);
  t.true(reason instanceof ProtocolError, String(reason));
  t.is((reason as ProtocolError).kind, 'bad_handshake');
  t.regex((reason as Error).message, /hello/);
  t.deepEqual(states.slice(-3), ['starting.handshaking', 'crashing', 'crashed']);
  t.is(osExitOf(actor)?.signal, 'SIGKILL');
  await queued.promise;
  t.true(queued.error instanceof BridgeExitedError, String(queued.error));
  t.regex((queued.error as Error).message, /bad_handshake|expected a ready frame/);
});

test.serial('stop while spawning: queued calls fail, later calls get BridgeNotRunningError, the process is told to leave', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples());
  const actor = rt.actorOf(pid)!;
  const states = recordStates(actor);
  const queued = track(callBridge(rt, pid, 'echo', 'queued'));
  const stop = rt.stop(pid);
  t.is(stateOf(actor), 'stopping.asking');
  await queued.promise;
  t.true(queued.error instanceof BridgeNotRunningError, String(queued.error));
  const late = await rejectionOf(callBridge(rt, pid, 'echo', 'late'));
  t.true(late instanceof BridgeNotRunningError, String(late));
  t.regex((late as Error).message, /stopping/);
  t.is((await bridgeInfo(rt, pid)).state, 'stopping');
  t.is(await stop, 'ok');
  t.deepEqual(states, ['starting.spawning', 'stopping.asking', 'exited']);
  t.is(osExitOf(actor)?.code, 0, 'it read the shutdown frame and left');
  t.is(rt.clock.now(), 0, 'no escalation was needed');
});

test.serial('stop while handshaking, Python stuck in its imports: SIGTERM after shutdownTimeout ends it', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples({ env: SLOW_IMPORT, shutdownTimeout: 1000 }));
  const actor = rt.actorOf(pid)!;
  await whenState(actor, 'starting.handshaking');
  const { osPid } = await bridgeInfo(rt, pid);
  const stop = track(rt.stop(pid));
  t.is(stateOf(actor), 'stopping.asking');
  await rt.advance(999);
  t.is(stateOf(actor), 'stopping.asking');
  t.is(stop.state, 'pending');
  await rt.advance(1);
  await stop.promise;
  t.is(stop.value, 'ok');
  t.is(osExitOf(actor)?.signal, 'SIGTERM', 'SIGTERM terminates it (its default action, before and after the handshake)');
  t.true(osPidGone(osPid!), 'gone when stop resolved');
});

// Regression note: a call's own `timeout` used to start only when the call was sent, so a call
// made while the bridge was starting waited startupTimeout + timeout. Queued calls now carry
// their deadline from the moment they are made (BridgeCore.enqueue) and keep what is left of it
// once sent.
test.serial('a queued call honours its own timeout while the bridge is still starting', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(examples({ env: SLOW_IMPORT, startupTimeout: 60_000 }));
  const actor = rt.actorOf(pid)!;
  const call = track(callBridge(rt, pid, 'echo', 1, { timeout: 1000 }));
  await rt.advance(1000);
  t.is(call.state, 'rejected', 'expected the call to time out after its 1000 ms');
  t.true(call.error instanceof TimeoutError, `expected TimeoutError, got ${call.state} ${String(call.error)}`);
  // clean up: the process is stuck importing, so the stop needs the SIGTERM step
  await whenState(actor, 'starting.handshaking');
  const stop = rt.stop(pid);
  await rt.advance(5000);
  await stop;
  await call.promise;
});

// Regression note: a process that came up only after the stop escalated (the interpreter took
// long to resolve) got nothing but a shutdown frame, even in `stopping.killing`, and ran on until
// it read it. Each stopping sub-state now applies its own step to a late process (lateSpawn), so
// the stop stays bounded by 3 × shutdownTimeout.
test.serial('a process that appears after the stop reached killing is killed at once', async (t) => {
  await using rt = createTestRuntime();
  // A command string resolvePython has not seen: resolving it runs the interpreter once, so the
  // process is spawned only after the simulated shutdown steps below have all run.
  const real = await resolvePython('python3');
  const python = `${dirname(real)}/./${basename(real)}`;
  const pid = rt.spawn(examples({ python, env: { XOTP_EXAMPLES_IMPORT_DELAY: '2' }, shutdownTimeout: 1000 }));
  const actor = rt.actorOf(pid)!;
  const states = recordStates(actor);
  const stop = rt.stop(pid);
  await rt.clock.advance(3000);
  t.is(stateOf(actor), 'stopping.killing');
  t.is((await bridgeInfo(rt, pid)).osPid, undefined, 'precondition: not spawned yet');
  await stop;
  t.deepEqual(states, ['starting.spawning', 'stopping.asking', 'stopping.terminating', 'stopping.killing', 'exited']);
  t.is(osExitOf(actor)?.signal, 'SIGKILL', `expected SIGKILL at spawn, got ${JSON.stringify(osExitOf(actor))}`);
});

test('regression: resolvePython took a Map or a misspelt key as its lookup and failed with a plain ENOENT Error — InvalidOptionError naming the key, PythonNotFoundError naming the command', async (t) => {
  for (const [lookup, key] of [
    [new Map(), 'resolvePython'],
    [{ evn: {} }, 'resolvePython.evn'],
    [{ env: new Map() }, 'resolvePython.env'],
    [{ cwd: 5 }, 'resolvePython.cwd'],
  ] as const) {
    const err = await t.throwsAsync(resolvePython('python3', lookup as never), { instanceOf: InvalidOptionError });
    t.is(err?.key, key);
  }
  await t.throwsAsync(resolvePython(''), { instanceOf: InvalidOptionError });
  const missing = await t.throwsAsync(resolvePython('/nonexistent/python3'), { instanceOf: PythonNotFoundError });
  t.is(missing?.code, 'python_not_found');
  t.is(missing?.command, '/nonexistent/python3');
  t.true(missing instanceof XotpError);
  t.is(typeof (await resolvePython('python3', { env: process.env })), 'string', 'process.env itself is an environment');
});
