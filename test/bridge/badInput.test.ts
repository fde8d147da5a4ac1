/**
 * Bad input from Python: garbage bytes, invalid JSON, a frame over maxFrameBytes, a message that
 * is not an object, a frame cut short by an exit, replies nobody asked for. Each ends in a typed
 * crash reason (ProtocolError with its `kind`) or a counted drop — never a hang, and every
 * pending call settles.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { callBridge, bridgeInfo, BridgeExitedError, ProtocolError, PythonError } from '../../src/index.js';
import { examples, osExitOf, osPidGone, recordStates, startBridge, stateOf, track } from '../helpers/bridge.js';

const hexFrame = (body: string) => {
  const b = Buffer.from(body, 'utf8');
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length, 0);
  return Buffer.concat([h, b]).toString('hex');
};

interface CrashCase {
  title: string;
  op: string;
  args?: unknown;
  kind: ProtocolError['kind'];
  maxFrameBytes?: number;
}

const crashes: CrashCase[] = [
  { title: 'a complete frame whose body is not JSON (garbage handler)', op: 'garbage', kind: 'invalid_json' },
  { title: 'a header announcing a 2 GiB frame (oversize handler)', op: 'oversize', kind: 'frame_too_large' },
  { title: 'raw garbage bytes (0xffffffff…)', op: 'write_raw', args: { hex: 'ffffffff00112233' }, kind: 'frame_too_large' },
  { title: 'a body that is not UTF-8', op: 'write_raw', args: { hex: '00000003fffe00' }, kind: 'invalid_json' },
  { title: 'a JSON array instead of an object', op: 'write_raw', args: { hex: hexFrame('[1,2]') }, kind: 'bad_message' },
];

test.serial('a reply larger than maxFrameBytes fails only its call (Python refuses to send it); the bridge keeps serving', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples({ maxFrameBytes: 1000 }));
  const err = await t.throwsAsync(callBridge(rt, b.pid, 'large', { bytes: 5000 }), { instanceOf: PythonError });
  t.is(err?.type, 'FrameTooLarge');
  t.regex(err?.message ?? '', /exceeds maxFrameBytes \(1000\)/);
  t.is(await callBridge(rt, b.pid, 'echo', 'still here'), 'still here');
  t.is(stateOf(b.actor), 'ready');
  await rt.stop(b.pid);
});

for (const c of crashes) {
  test.serial(`${c.title}: the bridge crashes with ProtocolError ${c.kind}; every pending call fails`, async (t) => {
    await using rt = createTestRuntime();
    const b = await startBridge(rt, examples(c.maxFrameBytes ? { maxFrameBytes: c.maxFrameBytes } : {}));
    const states = recordStates(b.actor);
    const exited = rt.exited(b.pid);
    const bystander = track(callBridge(rt, b.pid, 'async_gate', { name: 'bystander' }));
    t.is(await callBridge(rt, b.pid, 'pending_tasks'), 1);
    const culprit = track(callBridge(rt, b.pid, c.op, c.args ?? {}));
    const reason = await exited;
    t.true(reason instanceof ProtocolError, String(reason));
    t.is((reason as ProtocolError).kind, c.kind);
    t.deepEqual(states, ['ready', 'crashing', 'crashed']);
    t.is(osExitOf(b.actor)?.signal, 'SIGKILL', 'the process is killed: its stream cannot be trusted');
    t.true(osPidGone(b.osPid));
    await Promise.all([bystander.promise, culprit.promise]);
    for (const call of [bystander, culprit]) {
      t.true(call.error instanceof BridgeExitedError, String(call.error));
      t.is((call.error as BridgeExitedError).signal, 'SIGKILL');
      t.true((call.error as Error).message.includes((reason as Error).message), 'the crash reason is in the message');
    }
  });
}

test.serial('a frame cut short by the process exiting: BridgeExitedError with the exit code, no hang', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const exited = rt.exited(b.pid);
  const bystander = track(callBridge(rt, b.pid, 'async_gate', { name: 'bystander' }));
  const partial = hexFrame('{"id":2,"ok":true,"result":"cut"}').slice(0, 20); // header + a few bytes
  const call = track(callBridge(rt, b.pid, 'write_raw', { hex: partial, exit: 5 }));
  await Promise.all([call.promise, bystander.promise]);
  for (const c of [call, bystander]) {
    t.true(c.error instanceof BridgeExitedError, String(c.error));
    t.is((c.error as BridgeExitedError).exitCode, 5);
  }
  t.true((await exited) instanceof BridgeExitedError);
});

test.serial('a reply with an id no call ever had is dropped and counted; the bridge keeps serving', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  t.is(await callBridge(rt, b.pid, 'unknown_reply'), 'after stray');
  t.is(await callBridge(rt, b.pid, 'write_raw', { hex: hexFrame('{"type":"log","text":"no id at all"}') }), 'after raw');
  t.is(await callBridge(rt, b.pid, 'write_raw', { hex: hexFrame('{"id":"1","ok":true,"result":"a string id"}') }), 'after raw');
  const info = await bridgeInfo(rt, b.pid);
  t.is(info.stats.unknownReplies, 3);
  t.is(info.stats.lateReplies, 0);
  t.is(info.stats.replies, 3);
  t.is(stateOf(b.actor), 'ready');
  await rt.stop(b.pid);
});

test.serial('garbage while draining: the bridge crashes (ProtocolError), the pending call settles, the process is gone', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const states = recordStates(b.actor);
  const call = track(callBridge(rt, b.pid, 'garbage'));
  const stop = rt.stop(b.pid);
  t.is(stateOf(b.actor), 'draining');
  await call.promise;
  t.true(call.error instanceof BridgeExitedError, String(call.error));
  t.is(await stop, 'ok');
  t.true(osPidGone(b.osPid));
  t.is(states[1], 'draining');
  t.is(states.at(-1), 'crashed');
  t.true(rt.trace.exits().at(-1)?.reason instanceof ProtocolError, 'a broken protocol is the exit reason, even while stopping');
  t.log(`exit reason: ${String(rt.trace.exits().at(-1)?.reason)}; states: ${states.join(' → ')}`);
});
