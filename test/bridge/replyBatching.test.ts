/**
 * Python answers a burst of calls that arrived together with few writes: replies are held while
 * the next call is already in the read buffer (at most 16 to a write), and written before any
 * handler not yet seen to be quick runs. The harness counts Python's own os.write calls on fd 4,
 * so the result does not depend on how the pipe's reader happens to chunk what it reads.
 */
import test from 'ava';
import { encodeFrame } from '../../src/bridge/frameCodec.js';
import { runPythonCode } from './rawPython.js';

/**
 * Python text that puts the harness's stdin (the frames) in a pipe on fd 3 and a pipe on fd 4 for
 * the replies; fd 3's writer is closed (Python sees the end after the frames) or kept open.
 */
function pipes({ closeInput }: { closeInput: boolean }): string {
  return `data = sys.stdin.buffer.read()
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 3)  # fds 3 and 4 taken, so the pipes below get others
os.dup2(null, 4)
r, w = os.pipe()
os.write(w, data)
${closeInput ? 'os.close(w)' : '# w kept open: the harness ends on its own, not at the end of fd 3'}
os.dup2(r, 3)
os.close(r)
r4, w4 = os.pipe()
os.dup2(w4, 4)
os.close(w4)`;
}

// Puts the given frames in fd 3 (all in one pipe, then closed), serves them, and prints on stderr
// how many frames each write to fd 4 carried. Ends at the end of fd 3 (os._exit(0) from serve).
const HARNESS = `
import os, sys, struct
import xotp_bridge._core as core
import xotp_bridge.examples
${pipes({ closeInput: true })}
real_write = os.write
def counting_write(fd, b):
    if fd == 4:
        b = bytes(b)
        n, at = 0, 0
        while at < len(b):
            at += 4 + struct.unpack_from(">I", b, at)[0]
            n += 1
        real_write(2, b"W%d\\n" % n)
    return real_write(fd, b)
os.write = counting_write
core._guard["armed"] = True  # no pipe watch: fd 3's writer is closed on purpose
# Every handler counts as quick once it has run: which writes happen must not depend on how
# long a handler took on a busy machine (an op's first call still flushes, whatever its time).
core._QUICK_SECONDS = float("inf")
core.serve(1)
`;

async function writesFor(messages: unknown[]): Promise<number[]> {
  const { stderr } = await runPythonCode(HARNESS, Buffer.concat(messages.map(encodeFrame)));
  return stderr.split('\n').filter((l) => l.startsWith('W')).map((l) => Number(l.slice(1)));
}

const ping = (id: number) => ({ id, op: 'xotp.ping', args: null });
const echo = (id: number) => ({ id, op: 'echo', args: id });

test('regression: a burst of calls was answered with one pipe write per reply', async (t) => {
  const calls = Array.from({ length: 40 }, (_, i) => ping(i + 1));
  // The handshake; the first ping alone (not yet known to be quick); then 39 held replies in
  // writes of at most 16.
  t.deepEqual(await writesFor(calls), [1, 1, 16, 16, 7]);
});

test('held replies are written before a handler not yet seen to be quick runs', async (t) => {
  // ping 1 alone; pings 2-3 held until echo (a first for this op) runs; echo 5 and ping 6 together.
  t.deepEqual(await writesFor([ping(1), ping(2), ping(3), echo(4), echo(5), ping(6)]), [1, 1, 2, 1, 2]);
});

test('a lone call is answered at once, in its own write', async (t) => {
  t.deepEqual(await writesFor([ping(1)]), [1, 1]);
});

// Frames of a burst served with concurrency 2; prints on stderr, in order, each frame Python
// writes to fd 4 ("ready", "cancelled:<id>", "reply:<id>"). The main thread is made slow right
// after it hands `pending_tasks` to the asyncio loop (as a preempted thread is), so anything it
// still holds is written late unless it was written before the hand-off.
const ORDER_HARNESS = `
import json, os, sys, struct, time
import xotp_bridge._core as core
import xotp_bridge.examples
${pipes({ closeInput: false })}
real_write = os.write
expected = {"cancelled:3", "reply:4"}
def logging_write(fd, b):
    if fd == 4:
        b = bytes(b)
        at = 0
        while at < len(b):
            n = struct.unpack_from(">I", b, at)[0]
            m = json.loads(b[at + 4 : at + 4 + n])
            name = "%s:%s" % (m.get("type") or "reply", m.get("id"))
            real_write(2, ("F %s\\n" % name).encode())
            expected.discard(name)
            at += 4 + n
        if not expected:
            real_write(fd, b)
            os._exit(0)  # both answered
    return real_write(fd, b)
os.write = logging_write
core._guard["armed"] = True
dispatch = core._Server.dispatch
def slow_after_async(self, body):
    dispatch(self, body)
    if b"pending_tasks" in body:
        time.sleep(0.3)
core._Server.dispatch = slow_after_async
core.serve(2)
`;

test('regression: a cancel acknowledgement held by the main thread was overtaken by the reply to a later async call', async (t) => {
  const frames = [
    { id: 1, op: 'sleep', args: { seconds: 0.5 } }, // both pool threads busy while the frames
    { id: 2, op: 'sleep', args: { seconds: 0.5 } }, // after them are read (0.5 s is ample)
    { id: 3, op: 'echo', args: 'queued' }, // waits in the pool's queue
    { type: 'cancel', id: 3 }, // dropped from the queue and acknowledged (a held frame)
    { id: 4, op: 'pending_tasks', args: null }, // answered by the asyncio loop's thread
  ];
  const { stderr } = await runPythonCode(ORDER_HARNESS, Buffer.concat(frames.map(encodeFrame)));
  const written = stderr.split('\n').filter((l) => l.startsWith('F ')).map((l) => l.slice(2));
  t.true(written.includes('cancelled:3') && written.includes('reply:4'), written.join(', '));
  t.true(written.indexOf('cancelled:3') < written.indexOf('reply:4'), `in the order of the frames they answer: ${written.join(', ')}`);
});
