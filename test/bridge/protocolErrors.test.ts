/**
 * Frames the other side cannot use get a typed error on the side that received them (issue 9,
 * fault 8). Python answers a frame of Node's that is not JSON, not an object, of an unknown
 * type or without a call id with a `protocol_error` frame and keeps serving (an oversize length,
 * after which the stream cannot be followed, ends it); the bridge turns such a frame into
 * ProtocolError `rejected`. Node refuses a handshake whose protocol version is missing or not
 * its own with BridgeStartupError naming both. Python is driven raw (test/bridge/rawPython.ts)
 * where only exact bytes will do.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { createTestRuntime } from '../../src/testing/index.js';
import { pythonBridge, callBridge, BridgeExitedError, BridgeStartupError, ProtocolError, StartError } from '../../src/index.js';
import { PROTOCOL_VERSION } from '../../src/bridge/frameCodec.js';
import type { PythonProcessHandle } from '../../src/bridge/pythonProcess.js';
import { osExitOf, osPidGone, recordStates, rejectionOf, startBridge, track } from '../helpers/bridge.js';
import { rawFrame, rawPython } from './rawPython.js';

const PROTOCOL_SCRIPT = fileURLToPath(new URL('../fixtures/xotp_bridge_protocol_version.py', import.meta.url));

test.serial('regression: Python died on a frame that is not an object — it answers protocol_error and keeps serving', async (t) => {
  const py = await rawPython();
  try {
    const ready = await py.nextFrame();
    t.is(ready?.type, 'ready');
    t.is(ready?.protocol, PROTOCOL_VERSION);
    const cases: Array<[string, Buffer, string]> = [
      ['an array', rawFrame('[1,2]'), 'bad_message'],
      ['a string', rawFrame('"s"'), 'bad_message'],
      ['null', rawFrame('null'), 'bad_message'],
      ['a number', rawFrame('42'), 'bad_message'],
      ['not JSON', rawFrame('not{j'), 'invalid_json'],
      ['not UTF-8', rawFrame(Buffer.from([0xff, 0xfe, 0x00])), 'invalid_json'],
      ['nested too deep for the parser', rawFrame('['.repeat(100_000)), 'invalid_json'],
      ['a call without an id', rawFrame('{"op":"echo","args":1}'), 'bad_message'],
      ['a call with a string id', rawFrame('{"id":"7","op":"echo"}'), 'bad_message'],
    ];
    for (const [what, bytes, kind] of cases) {
      py.write(bytes);
      const answer = await py.nextFrame();
      t.is(answer?.type, 'protocol_error', what);
      t.is(answer?.kind, kind, what);
      t.is(typeof answer?.message, 'string', what);
    }
    py.send({ id: 1, op: 'echo', args: 'still serving' });
    t.deepEqual(await py.nextFrame(), { id: 1, ok: true, result: 'still serving' });
    t.deepEqual(await py.close(), { code: 0, signal: null }, 'it leaves when the control pipe closes');
    t.notRegex(py.stderr(), /Traceback/, 'no uncaught exception');
  } finally {
    py.proc.kill('SIGKILL');
  }
});

test.serial('regression: a body the C scanner rejects with a message (an unterminated string) killed Python with SystemError', async (t) => {
  // Since frames are decoded through _json without importing the json package, the scanner
  // (before Python 3.12) found no json.decoder in sys.modules to build its error from and
  // returned NULL with no exception set: SystemError, uncaught, the process gone. The first
  // bad frame must get json's own message, as every later one does.
  const py = await rawPython();
  try {
    await py.nextFrame();
    for (const body of ['{"id":1,"op":"echo","args":"abc', '{"id":1,"op":"echo","args":[1,', '{"id":1,"op":"echo","args":tru']) {
      py.write(rawFrame(body));
      const answer = await py.nextFrame();
      t.is(answer?.type, 'protocol_error', body);
      t.is(answer?.kind, 'invalid_json', body);
      t.regex(String(answer?.message), /\(JSONDecodeError\)/, body);
    }
    py.send({ id: 1, op: 'echo', args: 'still serving' });
    t.deepEqual(await py.nextFrame(), { id: 1, ok: true, result: 'still serving' });
    t.notRegex(py.stderr(), /Traceback|SystemError/);
  } finally {
    py.proc.kill('SIGKILL');
  }
});

test.serial('regression: Python ignored unknown frame types silently — it answers protocol_error unknown_type, with the id', async (t) => {
  const py = await rawPython();
  try {
    await py.nextFrame();
    py.send({ type: 'bogus', id: 5 });
    py.send({ id: 1, op: 'echo', args: 'next' });
    const answer = await py.nextFrame();
    t.is(answer?.type, 'protocol_error', 'answered before the next call');
    t.is(answer?.kind, 'unknown_type');
    t.is(answer?.id, 5);
    t.regex(String(answer?.message), /unknown frame type 'bogus'/);
    t.deepEqual(await py.nextFrame(), { id: 1, ok: true, result: 'next' });
    py.send({ id: 2, op: 'no_such_op' });
    const reply = await py.nextFrame();
    t.is(reply?.id, 2, 'a call to an unknown operation fails only that call');
    t.is((reply?.error as { type?: string }).type, 'UnknownOperation');
    py.send({ type: 'cancel', id: 12345 });
    py.send({ id: 3, op: 'echo', args: 'after a cancel of nothing' });
    t.deepEqual(await py.nextFrame(), { id: 3, ok: true, result: 'after a cancel of nothing' }, 'a cancel of an unknown call is no error');
    t.deepEqual(await py.close(), { code: 0, signal: null });
  } finally {
    py.proc.kill('SIGKILL');
  }
});

test.serial('a length over maxFrameBytes from Node: protocol_error frame_too_large, then Python exits (the stream cannot be followed)', async (t) => {
  const py = await rawPython('xotp_bridge.examples', {}, 1024);
  try {
    await py.nextFrame();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025, 0);
    py.write(header);
    const answer = await py.nextFrame();
    t.is(answer?.type, 'protocol_error');
    t.is(answer?.kind, 'frame_too_large');
    t.regex(String(answer?.message), /frame of 1025 bytes exceeds maxFrameBytes \(1024\)/);
    t.deepEqual(await py.exited, { code: 4, signal: null });
    t.notRegex(py.stderr(), /Traceback/);
  } finally {
    py.proc.kill('SIGKILL');
  }
});

test.serial('through the bridge: a frame Python rejects crashes the bridge with ProtocolError rejected; the pending call settles', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const states = recordStates(b.actor);
  const exited = rt.exited(b.pid);
  const pending = track(callBridge(rt, b.pid, 'async_gate', { name: 'never' }));
  const handle = (b.actor.getSnapshot().context as { core: { handle: PythonProcessHandle } }).core.handle;
  handle.sendEncoded(rawFrame('[1,2]'));
  const reason = await exited;
  t.true(reason instanceof ProtocolError, String(reason));
  t.is((reason as ProtocolError).kind, 'rejected');
  t.regex((reason as Error).message, /Python rejected a frame \(bad_message\): frame is not a JSON object/);
  await pending.promise;
  t.true(pending.error instanceof BridgeExitedError, String(pending.error));
  t.is(osExitOf(b.actor)?.signal, 'SIGKILL', 'killed by the bridge, not dead of its own error');
  t.deepEqual(states, ['ready', 'crashing', 'crashed']);
  t.true(osPidGone(b.osPid));
});

for (const [what, protocol, got] of [
  ['missing', 'missing', 'none'],
  ['unsupported', '99', '99'],
  ['not a number', '"2"', '"2"'],
] as const) {
  test.serial(`regression: the handshake's protocol version was never checked — ${what}: BridgeStartupError naming expected and got`, async (t) => {
    await using rt = createTestRuntime();
    const err = await rejectionOf(rt.start(pythonBridge({ script: PROTOCOL_SCRIPT, env: { XOTP_FIXTURE_PROTOCOL: protocol } })));
    t.true(err instanceof StartError, String(err));
    const reason = (err as StartError).reason;
    t.true(reason instanceof BridgeStartupError, String(reason));
    t.regex((reason as Error).message, new RegExp(`protocol version mismatch: expected ${PROTOCOL_VERSION}, got ${got.replace(/"/g, '\\"')} \\(the xotp_bridge Python package does not match this xotp\\)`));
    const cause = (reason as Error).cause;
    t.true(cause instanceof ProtocolError && cause.kind === 'bad_handshake', String(cause));
  });
}
