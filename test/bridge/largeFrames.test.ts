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
import { rawFrame, rawPython, runPythonCode } from './rawPython.js';

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

test.serial('regression: a large reply from another thread does not lose a reply the main thread is holding', async (t) => {
  // An executor or asyncio thread's large reply flushed the main thread's held replies: when
  // the main thread had read `held` and was about to append to it, its frame went into a list
  // already written, and was never sent (that call never answered). The interleaving the GIL
  // allows between those two steps is forced here: the main thread's `_thread.get_ident()` in
  // send, called between them, runs the other thread's send to its end first.
  const code = `
import os
from xotp_bridge import _core
from xotp_bridge._core import _Writer
real = _core._thread
r, w = os.pipe()
writer = _Writer(w)
chunks = []
reading = real.allocate_lock(); reading.acquire()
def drain():
    while True:
        c = os.read(r, 1 << 20)
        if not c:
            break
        chunks.append(c)
    reading.release()
real.start_new_thread(drain, ())
class Shim:
    allocate_lock = staticmethod(real.allocate_lock)
    calls = 0
    @staticmethod
    def get_ident():
        me = real.get_ident()
        if me == writer.main:
            Shim.calls += 1
            if Shim.calls == 2:
                done = real.allocate_lock(); done.acquire()
                def other():
                    writer.send({"id": 2, "ok": True, "result": "x" * 70000})
                    done.release()
                real.start_new_thread(other, ())
                done.acquire()
        return me
_core._thread = Shim
writer.hold()
writer.send({"id": 1, "ok": True, "result": 1})
writer.send({"id": 3, "ok": True, "result": 3})
writer.flush()
os.close(w)
reading.acquire()
data = b"".join(chunks)
ids = []
while data:
    n = int.from_bytes(data[:4], "big")
    ids.append(_core._loads(data[4 : 4 + n].decode())["id"])
    data = data[4 + n :]
print(sorted(ids))
`;
  const { stdout } = await runPythonCode(code);
  t.is(stdout.trim(), '[1, 2, 3]');
});
