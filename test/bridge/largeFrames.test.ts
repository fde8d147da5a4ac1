/**
 * Frames over 64 KB take their own path on the Python side: the body is read into a buffer of
 * its own size (os.readv), freed once decoded, and a large reply goes out with writev, header
 * and body uncopied. These pin that path with the exact bytes (test/bridge/rawPython.ts): a
 * frame split across writes at awkward places, several large and small frames in one write,
 * multi-byte UTF-8 across read boundaries, a bad large body, and the pipe closing mid-body.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { callBridge } from '../../src/index.js';
import { encodeFrame } from '../../src/bridge/frameCodec.js';
import { startBridge } from '../helpers/bridge.js';
import { rawFrame, rawPython } from './rawPython.js';

const MB = 1 << 20;

test.serial('a 1 MB call written in pieces (header split, body split mid-character) is answered byte for byte', async (t) => {
  const py = await rawPython('xotp_bridge.examples', {}, 4 * MB);
  try {
    t.is((await py.nextFrame())?.type, 'ready');
    const args = 'é€😀x'.repeat(MB / 10);
    const frame = encodeFrame({ id: 1, op: 'echo', args });
    // Cuts: inside the header, inside the body's first 64 KB, inside a 4-byte character.
    const emoji = frame.indexOf(Buffer.from('😀'), 200_000);
    const cuts = [2, 1000, emoji + 2, frame.length];
    let at = 0;
    for (const cut of cuts) {
      py.write(frame.subarray(at, cut));
      at = cut;
      // Let Python take what is there before the next piece arrives (no timing assumed: an
      // answer to a small call written now can only come after the large one, frames being
      // read in order; so only the large answer's completeness is checked, below).
      await new Promise((r) => setImmediate(r));
    }
    const reply = await py.nextFrame();
    t.is(reply?.id, 1);
    t.is(reply?.ok, true);
    t.true(reply?.result === args, 'the echo is the same string');
  } finally {
    await py.close();
  }
});

test.serial('large and small frames in one write are answered in order, each exactly', async (t) => {
  const py = await rawPython('xotp_bridge.examples', {}, 4 * MB);
  try {
    t.is((await py.nextFrame())?.type, 'ready');
    const big = (c: string) => c.repeat(300_000);
    const frames = [
      encodeFrame({ id: 1, op: 'echo', args: big('a') }),
      encodeFrame({ id: 2, op: 'echo', args: 'small' }),
      encodeFrame({ id: 3, op: 'echo', args: big('b') }),
      encodeFrame({ id: 4, op: 'echo', args: { list: [big('c')] } }),
      encodeFrame({ id: 5, op: 'echo', args: 5 }),
    ];
    py.write(Buffer.concat(frames));
    const replies = [];
    for (let i = 0; i < frames.length; i++) replies.push(await py.nextFrame());
    t.deepEqual(replies.map((r) => r?.id), [1, 2, 3, 4, 5]);
    t.true(replies[0]?.result === big('a'));
    t.is(replies[1]?.result, 'small');
    t.true(replies[2]?.result === big('b'));
    t.true((replies[3]?.result as { list: string[] }).list[0] === big('c'));
    t.is(replies[4]?.result, 5);
  } finally {
    await py.close();
  }
});

test.serial('a large body that is not JSON or not UTF-8 gets protocol_error invalid_json, with its size; Python keeps serving', async (t) => {
  const py = await rawPython('xotp_bridge.examples', {}, 4 * MB);
  try {
    t.is((await py.nextFrame())?.type, 'ready');
    const notJson = rawFrame(`{"id":1,"op":"echo","args":"${'x'.repeat(200_000)}"`); // never closed
    py.write(notJson);
    const a = await py.nextFrame();
    t.is(a?.type, 'protocol_error');
    t.is(a?.kind, 'invalid_json');
    t.regex(String(a?.message), new RegExp(`^frame of ${notJson.length - 4} bytes is not JSON \\(JSONDecodeError\\): '\\{"id":1,"op":"echo","args":"x+\\.\\.\\.'$`));
    const notUtf8 = rawFrame(Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(100_000, 0xff), Buffer.from('"}')]));
    py.write(notUtf8);
    const b = await py.nextFrame();
    t.is(b?.kind, 'invalid_json');
    t.regex(String(b?.message), /UnicodeDecodeError/);
    py.write(encodeFrame({ id: 2, op: 'echo', args: 'still here' }));
    t.is((await py.nextFrame())?.result, 'still here');
  } finally {
    await py.close();
  }
});

test.serial('the control pipe closing in the middle of a large body ends Python with exit 0 (Node is gone)', async (t) => {
  const py = await rawPython('xotp_bridge.examples', {}, 4 * MB);
  t.is((await py.nextFrame())?.type, 'ready');
  const frame = encodeFrame({ id: 1, op: 'echo', args: 'z'.repeat(500_000) });
  py.write(frame.subarray(0, 300_000));
  t.deepEqual(await py.close(), { code: 0, signal: null });
  t.is(py.frames.length, 1, 'no reply to the cut call');
});

test.serial('a live bridge: large calls in flight among small ones come back whole and in their own promises', async (t) => {
  await using rt = createTestRuntime();
  const b = await startBridge(rt);
  const large = (n: number) => `${n}:${'ü'.repeat(150_000)}`;
  const calls = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? callBridge(rt, b.pid, 'echo', large(i)) : callBridge(rt, b.pid, 'echo', i)));
  const results = await Promise.all(calls);
  results.forEach((r, i) => t.true(r === (i % 3 === 0 ? large(i) : i), `call ${i}`));
});
