/**
 * Python polls its pipe before a read may sleep (`busyWaitMicros`), only while calls come
 * quickly. The reader's decisions are checked in Python on a real pipe with a scripted clock,
 * select and yield, so no assertion depends on how fast this machine is; the option itself is
 * checked from Node (validation, the environment a spawn gets, calls answered either way).
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { InvalidOptionError, callBridge, pythonBridge } from '../../src/index.js';
import { parseBridgeOptions, spawnInput } from '../../src/bridge/bridgeSettings.js';
import { runPythonCode } from './rawPython.js';

async function runPython(code: string): Promise<Record<string, unknown>> {
  const { stdout } = await runPythonCode(code);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

// A reader on a real pipe; time is a counter that only select and yield advance, so every
// decision below happens at a scripted instant.
const SCRIPTED = `
import json, os
import xotp_bridge._core as core
clock = [0.0]
core._perf_counter = lambda: clock[0]
polls = {"selects": 0, "yields": 0}
readable_after = [None]   # selects before the pipe counts as readable (None: never)
yield_cost = [1e-6]
def select(r, w, x, timeout):
    polls["selects"] += 1
    ok = readable_after[0] is not None and polls["selects"] > readable_after[0]
    return (r if ok else [], [], [])
def sched_yield():
    polls["yields"] += 1
    clock[0] += yield_cost[0]
core._select_readable = lambda: select
core._sched_yield = sched_yield
r, w = os.pipe()
reader = core._Reader(r, busy_wait=BUSY)
frame = b"\\x00\\x00\\x00\\x02{}"
def call():
    os.write(w, frame)
    polls["selects"] = polls["yields"] = 0
    assert reader.frame() == bytearray(b"{}")
    return dict(polls, quick=reader.quick)
out = {}
`;

test('without busyWaitMicros the reader never polls', async (t) => {
  const out = await runPython(`${SCRIPTED.replace('BUSY', '0.0')}
out["first"] = call()
out["second"] = call()
print(json.dumps(out))`);
  t.deepEqual(out.first, { selects: 0, yields: 0, quick: false });
  t.deepEqual(out.second, { selects: 0, yields: 0, quick: false });
});

test('polling starts only after a frame came within the window, and stops after one did not', async (t) => {
  // A yield costs 2**-20 s (about 1 us) and the window is 50 of them: sums of these are exact.
  const out = await runPython(`${SCRIPTED.replace('BUSY', '50 * 2**-20')}
yield_cost[0] = 2**-20
# 1: nothing known yet: a timed read, which finds the frame at once (no time passes): quick.
out["timed"] = call()
# 2: quick: polls; the pipe turns readable at the third select.
readable_after[0] = 2
out["polled"] = call()
# 3: the frame does not come within the window of polls: polling gives up and reads.
readable_after[0] = None
out["gave_up"] = call()
# 4: not quick any more: a timed read, no polling.
out["after"] = call()
print(json.dumps(out))`);
  t.deepEqual(out.timed, { selects: 0, yields: 0, quick: true });
  t.deepEqual(out.polled, { selects: 3, yields: 2, quick: true });
  const gaveUp = out.gave_up as { selects: number; yields: number; quick: boolean };
  t.false(gaveUp.quick);
  t.is(gaveUp.yields, 50, 'polled for the whole window');
  t.deepEqual(out.after, { selects: 0, yields: 0, quick: true });
});

test('a contended CPU pauses polling', async (t) => {
  const out = await runPython(`${SCRIPTED.replace('BUSY', '1e-3')}
call()                      # timed: quick
yield_cost[0] = 30e-6       # every yield gives the CPU away for 30 us: another process ran
out["contended"] = call()
out["calm"] = core._CONTENDED_PAUSE
out["calm_at"] = reader.calm_at
out["timed"] = call()       # not quick after the contended poll: a timed read (now quick)
out["paused"] = call()      # quick, but within the pause: a timed read, no polling
clock[0] = reader.calm_at
yield_cost[0] = 1e-6
readable_after[0] = 1
out["resumed"] = call()     # the pause is over: polls again
print(json.dumps(out))`);
  // Three slow yields in a row take the decaying count over 2: polling stops and pauses.
  t.deepEqual(out.contended, { selects: 3, yields: 3, quick: false });
  t.is(out.calm_at, 60e-6 + (out.calm as number));
  t.deepEqual(out.timed, { selects: 0, yields: 0, quick: true });
  t.deepEqual(out.paused, { selects: 0, yields: 0, quick: true }, 'no polling within the pause');
  t.deepEqual(out.resumed, { selects: 2, yields: 1, quick: true });
});

test('occasional slow yields (the machine\'s own noise) do not stop polling', async (t) => {
  const out = await runPython(`${SCRIPTED.replace('BUSY', '1e-3')}
call()
n = 0
def noisy_yield():
    global n
    n += 1
    polls["yields"] += 1
    clock[0] += 30e-6 if n % 10 == 0 else 1e-6   # one yield in ten is slow
core._sched_yield = noisy_yield
readable_after[0] = 200
out["noisy"] = call()
print(json.dumps(out))`);
  t.deepEqual(out.noisy, { selects: 201, yields: 200, quick: true });
});

test('no polling with a thread pool, and none once an async handler started the loop', async (t) => {
  const out = await runPython(`
import json, os
os.environ["XOTP_BRIDGE_BUSY_WAIT_US"] = "50"
import xotp_bridge._core as core
seen = {}
def capture(self, reader):
    seen[self.concurrency] = reader.busy_wait
    if self.concurrency == 1:
        self.asyncio_loop()
        seen["after_loop"] = reader.busy_wait
        self.loop.call_soon_threadsafe(self.loop.stop)
core._Server.run = capture
core._guard_owner = lambda: None
core.serve(1)
core.serve(4)
print(json.dumps(seen))`);
  t.deepEqual(out, { '1': 50e-6, '4': 0, after_loop: 0 });
});

test('busyWaitMicros: default 50, passed to Python; a wrong value names the key', (t) => {
  const env = (o: Record<string, unknown>) => spawnInput(parseBridgeOptions({ module: 'm', ...o }), 'app/py').bridgeEnv.XOTP_BRIDGE_BUSY_WAIT_US;
  t.is(env({}), '50');
  t.is(env({ busyWaitMicros: 0 }), '0');
  t.is(env({ busyWaitMicros: 200 }), '200');
  for (const bad of [-1, 1.5, Number.NaN, '50', 100_001, null]) {
    const err = t.throws(() => parseBridgeOptions({ module: 'm', busyWaitMicros: bad }), { instanceOf: InvalidOptionError });
    t.regex(err!.message, /busyWaitMicros/);
  }
});

test('calls are answered with polling on and off', async (t) => {
  const rt = createTestRuntime({ name: 'busywait' });
  t.teardown(() => rt.shutdown());
  for (const busyWaitMicros of [0, 50]) {
    const pid = await rt.start(pythonBridge({ module: 'xotp_bridge.examples', busyWaitMicros }));
    for (let i = 0; i < 20; i++) t.is(await callBridge(rt, pid, 'echo', i), i);
    await rt.stop(pid);
  }
});
