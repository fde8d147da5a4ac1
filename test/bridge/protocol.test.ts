/**
 * The wire: 4-byte big-endian length + UTF-8 JSON frames on fd 3 (to Python) and fd 4 (back),
 * so stdout/stderr are free for the program: they become log lines tagged with the bridge, and
 * the last stderr lines are kept for crash reasons. The codec is tested on its own first, then
 * through a real Python process.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { callBridge, bridgeInfo, BridgeExitedError, ProtocolError } from '../../src/index.js';
import { FrameDecoder, HEADER_BYTES, encodeFrame } from '../../src/bridge/frameCodec.js';
import { examples, rejectionOf, startBridge } from '../helpers/bridge.js';

// ---------------------------------------------------------------------------------------------
// frameCodec

test('encodeFrame: a 4-byte big-endian length, then the UTF-8 JSON body', (t) => {
  const frame = encodeFrame({ s: 'é' });
  const body = Buffer.from('{"s":"é"}', 'utf8');
  t.is(HEADER_BYTES, 4);
  t.is(frame.readUInt32BE(0), body.length, 'length in bytes, not characters');
  t.deepEqual(frame.subarray(4), body);
  t.deepEqual([...encodeFrame({}).subarray(0, 4)], [0, 0, 0, 2]);
  t.deepEqual([...encodeFrame('x'.repeat(300)).subarray(0, 4)], [0, 0, 1, 46], 'big-endian: 302 = 0x012e');
});

test('FrameDecoder reassembles frames split anywhere, and several frames in one chunk', (t) => {
  const messages = [{ id: 1, ok: true, result: 'héllo 🐍' }, { id: 2, ok: false, error: { type: 'E', message: '', traceback: '' } }, { type: 'ready' }];
  const bytes = Buffer.concat(messages.map(encodeFrame));
  const oneByOne = new FrameDecoder(1024);
  const out: unknown[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...oneByOne.push(bytes.subarray(i, i + 1)));
  t.deepEqual(out, messages, 'byte by byte (a multi-byte character split across chunks too)');
  t.is(oneByOne.buffered, 0);
  t.deepEqual(new FrameDecoder(1024).push(bytes), messages, 'all in one chunk');
  const partial = new FrameDecoder(1024);
  t.deepEqual(partial.push(bytes.subarray(0, 6)), []);
  t.is(partial.buffered, 6);
});

test('FrameDecoder: oversize, invalid JSON and non-object frames are typed ProtocolErrors, and the decoder stays failed', (t) => {
  const header = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  const cases: Array<[string, Buffer, ProtocolError['kind']]> = [
    ['a frame over maxFrameBytes (header alone is enough)', header(101), 'frame_too_large'],
    ['a body that is not JSON', Buffer.concat([header(5), Buffer.from('not{j')]), 'invalid_json'],
    ['a body that is not UTF-8', Buffer.concat([header(3), Buffer.from([0xff, 0xfe, 0x00])]), 'invalid_json'],
    ['an array', Buffer.concat([header(5), Buffer.from('[1,2]')]), 'bad_message'],
    ['a string', Buffer.concat([header(3), Buffer.from('"s"')]), 'bad_message'],
    ['null', Buffer.concat([header(4), Buffer.from('null')]), 'bad_message'],
  ];
  for (const [what, bytes, kind] of cases) {
    const decoder = new FrameDecoder(100);
    const err = t.throws(() => decoder.push(bytes), { instanceOf: ProtocolError }, what);
    t.is((err as ProtocolError | undefined)?.kind, kind, what);
    t.is((err as ProtocolError | undefined)?.code, 'protocol');
    t.throws(() => decoder.push(encodeFrame({ id: 1 })), { is: err as Error }, `${what}: stays failed`);
  }
  const exactly = { a: 'x'.repeat(92) }; // {"a":"…"}: 8 + 92 = 100 bytes
  t.deepEqual(new FrameDecoder(100).push(encodeFrame(exactly)), [exactly], 'a frame of exactly maxFrameBytes is accepted');
});

// ---------------------------------------------------------------------------------------------
// through Python

test.serial('JSON values of every kind round-trip unchanged, including non-ASCII text', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const values = [null, true, false, 0, -1.5, 2 ** 53 - 1, '', 'héllo ✓ 🐍 \u0000 "quoted" \\ \n', [], {}, [1, 'two', { three: [3] }], { nested: { deep: { list: [null, { x: 'ÿ' }] } } }];
  for (const v of values) t.deepEqual(await callBridge(rt, b.pid, 'echo', v), v, JSON.stringify(v));
  await rt.stop(b.pid);
});

test.serial('large frames in both directions (many pipe chunks) arrive whole', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const oneMiB = 'ab'.repeat(512 * 1024);
  t.is(await callBridge(rt, b.pid, 'size', oneMiB), oneMiB.length, 'Node → Python');
  const big = await callBridge<string>(rt, b.pid, 'large', { bytes: 3_000_000 });
  t.is(big.length, 3_000_000, 'Python → Node');
  t.deepEqual(await callBridge(rt, b.pid, 'echo', { s: oneMiB }), { s: oneMiB }, 'both ways');
  await rt.stop(b.pid);
});

test.serial('stdout and stderr become log lines tagged with the bridge; the protocol is untouched', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt, examples({ label: 'worker' }));
  const id = b.actor.id;
  t.regex(id, /^test\/worker-\d+$/, 'the label names the bridge');
  t.is(await callBridge(rt, b.pid, 'noise', { stdout: 'printed on stdout', stderr: 'written on stderr' }), 'noisy');
  t.is(await callBridge(rt, b.pid, 'echo', 'after the noise'), 'after the noise');
  // stdout/stderr are other pipes than the replies: their lines are all in once the process is
  // gone (the exit is reported only after every pipe was drained).
  await rt.stop(b.pid);
  const out = rt.logs.records.find((r) => r.message.includes('printed on stdout'));
  const err = rt.logs.records.find((r) => r.message.includes('written on stderr'));
  t.truthy(out, 'a stdout line was logged');
  t.truthy(err, 'a stderr line was logged');
  t.is(out?.level, 'info');
  t.is(out?.message, `[${id}] printed on stdout`);
  t.deepEqual(out?.meta, { bridge: id, stream: 'stdout' });
  t.is(err?.level, 'warn');
  t.is(err?.message, `[${id}] written on stderr`);
  t.deepEqual(err?.meta, { bridge: id, stream: 'stderr' });
});

test.serial('the last 20 stderr lines are kept and reported when the process exits', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const lines = Array.from({ length: 25 }, (_, i) => `stderr line ${i + 1}`);
  await callBridge(rt, b.pid, 'noise', { stdout: '', stderr: lines.join('\n') });
  const exited = rt.exited(b.pid);
  const err = await rejectionOf(callBridge(rt, b.pid, 'hard_exit', { code: 4 }));
  t.true(err instanceof BridgeExitedError, String(err));
  const tail = (err as BridgeExitedError).stderrTail;
  t.is(tail.length, 20);
  t.deepEqual(tail.slice(0, 19), lines.slice(6), 'the oldest lines were dropped');
  t.is(tail[19], 'hard_exit: exiting with code 4');
  t.regex((err as Error).message, /exit code 4[\s\S]*stderr:[\s\S]*hard_exit: exiting with code 4/);
  const reason = await exited;
  t.true(reason instanceof BridgeExitedError, String(reason));
  t.deepEqual((reason as BridgeExitedError).stderrTail, tail, 'the exit reason carries the same tail');
});

test.serial('a bridge reports its counters through bridgeInfo', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  await callBridge(rt, b.pid, 'echo', 1);
  await rejectionOf(callBridge(rt, b.pid, 'raise', {}));
  const info = await bridgeInfo(rt, b.pid);
  t.deepEqual(info.stats, { calls: 2, replies: 2, pythonErrors: 1, timeouts: 0, cancels: 0, lateReplies: 0, cancelAcks: 0, unknownReplies: 0 });
  t.is(info.pending, 0);
  t.is(info.awaitingCancel, 0);
  t.is(info.queued, 0);
  await rt.stop(b.pid);
});
