/**
 * Bad input from Node: a call whose args JSON refuses, and a bridge API aimed at a process that
 * is not a bridge (or a supervisor API at one that is not a supervisor). Each is a typed error at
 * once — never a plain TypeError, never a wait that no deadline ends, never a server's reply
 * passed off as the bridge's.
 */
import test from 'ava';
import { createMachine } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  awaitBridgeReady,
  bridgeInfo,
  BridgeNotRunningError,
  callBridge,
  countChildren,
  defineServer,
  NoProcessError,
  NotSerializableError,
  startChild,
  whichChildren,
} from '../../src/index.js';
import { examples, rejectionOf, startBridge } from '../helpers/bridge.js';

const answersEverything = defineServer<null, undefined, unknown, number>({ init: () => ({ state: null }), handleCall: () => ({ reply: 42 }) });
const silent = createMachine({});

test('regression: callBridge, bridgeInfo and awaitBridgeReady on a machine hung forever, and on a server returned its reply — refused at once', async (t) => {
  await using rt = createTestRuntime();
  rt.spawn(silent, { name: 'm' });
  rt.spawn(answersEverything, { name: 's' });
  for (const target of ['m', 's']) {
    t.true((await rejectionOf(callBridge(rt, target, 'echo', 1, { timeout: 200 }))) instanceof BridgeNotRunningError, `callBridge ${target}`);
    const info = await rejectionOf(bridgeInfo(rt, target));
    t.true(info instanceof NoProcessError, `bridgeInfo ${target}`);
    t.regex(String((info as Error).message), /not a Python bridge/);
    t.true((await rejectionOf(awaitBridgeReady(rt, target))) instanceof BridgeNotRunningError, `awaitBridgeReady ${target}`);
  }
  t.true((await rejectionOf(bridgeInfo(rt, 'nobody'))) instanceof NoProcessError, 'no process at all: as before');
});

test('regression: whichChildren on a server returned its reply, on a machine hung — refused with NoProcessError (not a supervisor)', async (t) => {
  await using rt = createTestRuntime();
  rt.spawn(silent, { name: 'm' });
  rt.spawn(answersEverything, { name: 's' });
  for (const target of ['m', 's']) {
    for (const [what, run] of [
      ['whichChildren', () => whichChildren(rt, target)],
      ['countChildren', () => countChildren(rt, target)],
      ['startChild', () => startChild(rt, target, { id: 'x', start: silent })],
    ] as const) {
      const err = await rejectionOf(run());
      t.true(err instanceof NoProcessError, `${what} ${target}: ${String(err)}`);
      t.regex(String((err as Error).message), /not a supervisor/);
    }
  }
});

test.serial('regression: a call whose args JSON cannot carry (a BigInt, a cycle) threw a plain TypeError — NotSerializableError, nothing sent, the bridge keeps serving', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples());
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const args of [{ n: 10n }, cyclic]) {
    const err = await rejectionOf(callBridge(rt, b.pid, 'echo', args));
    t.true(err instanceof NotSerializableError, String(err));
    t.is((err as NotSerializableError).code, 'not_serializable');
    t.is((err as NotSerializableError).path, '$.args');
  }
  t.deepEqual(await callBridge(rt, b.pid, 'echo', { n: 1 }), { n: 1 });
  t.is((await bridgeInfo(rt, b.pid)).stats.calls, 1, 'only the good call was sent');
});
