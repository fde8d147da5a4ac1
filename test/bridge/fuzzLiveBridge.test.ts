/**
 * Fuzzing a live bridge from both directions (issue 9). Python → Node: the example handler
 * `write_raw` puts random bytes on the reply pipe (then, in one variant, the process dies at
 * once); the bridge must end with a typed reason (ProtocolError of the kind the decoder finds, or
 * BridgeExitedError), every pending call must settle with a typed error, nothing may reject
 * unhandled, nothing may be left behind. Node → Python: random bytes, malformed frames and
 * oversize lengths on the control pipe of a raw Python (test/bridge/rawPython.ts); it may only
 * answer protocol_error frames and exit cleanly (0 at EOF, 4 after an oversize length) — never a
 * traceback, never a hang. Few runs by default (each starts a Python process); more with
 * XOTP_FUZZ_LIVE_RUNS. A failure prints fast-check's seed and shrunk input.
 */
import test from 'ava';
import fc from 'fast-check';
import { createTestRuntime } from '../../src/testing/index.js';
import { callBridge, bridgeInfo, BridgeExitedError, ProtocolError, XotpError } from '../../src/index.js';
import { HEADER_BYTES } from '../../src/bridge/frameCodec.js';
import { osPidGone, startBridge, track } from '../helpers/bridge.js';
import { rawFrame, rawPython } from './rawPython.js';

const runs = Number(process.env.XOTP_FUZZ_LIVE_RUNS ?? 6);
const seed = process.env.XOTP_FUZZ_SEED === undefined ? undefined : Number(process.env.XOTP_FUZZ_SEED);
const params = { numRuns: runs, ...(seed !== undefined ? { seed } : {}) };

const header = (n: number) => {
  const b = Buffer.alloc(HEADER_BYTES);
  b.writeUInt32BE(n, 0);
  return b;
};
/** Objects that are neither calls nor known frame types on either side (no id, type or op). */
const plainObjects = fc
  .dictionary(fc.string({ maxLength: 6 }).filter((k) => !['id', 'type', 'op'].includes(k)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
  .map((o) => Buffer.from(JSON.stringify(o)));
const notObjects = fc.oneof(
  fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)),
  fc.constantFrom('[1,2]', '"s"', 'null', '42', 'not{j', '{"a":', 'NaN', '').map((s) => Buffer.from(s)),
);
/** Bytes that break the stream: raw noise, a truncated frame, an oversize length. */
const streamBreakers = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b)),
  fc.tuple(fc.integer({ min: 1, max: 64 }), fc.uint8Array({ maxLength: 8 })).map(([n, b]) => Buffer.concat([header(n + b.length), Buffer.from(b)])),
  fc.integer({ min: 2 ** 24 + 1, max: 2 ** 32 - 1 }).map(header),
);

/** What the bridge's decoder must make of these bodies (default maxFrameBytes, all small). */
function firstBadKind(bodies: Buffer[]): ProtocolError['kind'] | undefined {
  for (const body of bodies) {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return 'invalid_json';
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'bad_message';
  }
  return undefined;
}

function watchUnhandled(): { count: () => number; stop: () => void } {
  const seen: unknown[] = [];
  const on = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', on);
  return { count: () => seen.length, stop: () => void process.off('unhandledRejection', on) };
}

test.serial('Python → Node: well-framed random bodies — a ProtocolError of the predicted kind, or counted and dropped', async (t) => {
  const unhandled = watchUnhandled();
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(plainObjects, notObjects), { minLength: 1, maxLength: 4 }), async (bodies) => {
        const rt = createTestRuntime();
        try {
          const b = await startBridge(rt);
          const exited = track(rt.exited(b.pid));
          const pending = track(callBridge(rt, b.pid, 'async_gate', { name: 'never' }));
          const raw = track(callBridge(rt, b.pid, 'write_raw', { hex: Buffer.concat(bodies.map(rawFrame)).toString('hex') }));
          await raw.promise;
          const kind = firstBadKind(bodies);
          if (kind === undefined) {
            if (raw.value !== 'after raw') throw new Error(`write_raw: ${String(raw.error)}`);
            const info = await bridgeInfo(rt, b.pid);
            if (info.state !== 'ready' || info.stats.unknownReplies !== bodies.length) throw new Error(`${info.state}, ${info.stats.unknownReplies} unknown replies`);
            await callBridge(rt, b.pid, 'open_async_gate', { name: 'never' });
            await pending.promise;
            if (pending.value !== 'never') throw new Error(`the call in flight got ${String(pending.value ?? pending.error)}`);
            await rt.stop(b.pid);
          } else {
            await exited.promise;
            const reason = exited.value;
            if (!(reason instanceof ProtocolError) || reason.kind !== kind) throw new Error(`exit reason ${String(reason)}, expected ProtocolError ${kind}`);
            if (!(raw.error instanceof BridgeExitedError)) throw new Error(`write_raw settled with ${String(raw.error)}`);
            await pending.promise;
            if (!(pending.error instanceof BridgeExitedError)) throw new Error(`pending call: ${String(pending.error)}`);
          }
          if (!osPidGone(b.osPid)) throw new Error('the Python process outlived its bridge');
        } finally {
          await rt.dispose();
        }
      }),
      params,
    );
    t.is(unhandled.count(), 0, 'no unhandled rejection');
  } finally {
    unhandled.stop();
  }
});

test.serial('Python → Node: bytes that break the stream, then the process dies mid-frame — typed exit, every call settles typed', async (t) => {
  const unhandled = watchUnhandled();
  try {
    await fc.assert(
      fc.asyncProperty(streamBreakers, fc.boolean(), async (bytes, dies) => {
        const rt = createTestRuntime();
        try {
          const b = await startBridge(rt);
          const exited = track(rt.exited(b.pid));
          const pending = track(callBridge(rt, b.pid, 'async_gate', { name: 'never' }));
          // Without `exit` the bytes are followed by the handler's own reply, which a truncated
          // frame swallows: then nothing more arrives, so the process is made to die either way
          // (a second call that exits), and the bridge must make sense of what it got.
          const raw = track(callBridge(rt, b.pid, 'write_raw', { hex: bytes.toString('hex'), ...(dies ? { exit: 3 } : {}) }));
          const exit = track(callBridge(rt, b.pid, 'hard_exit', { code: 5 }));
          await Promise.all([exited.promise, raw.promise, pending.promise, exit.promise]);
          const reason = exited.value;
          if (!(reason instanceof ProtocolError) && !(reason instanceof BridgeExitedError)) throw new Error(`exit reason ${String(reason)}`);
          for (const [what, call] of [['pending', pending], ['write_raw', raw], ['hard_exit', exit]] as const) {
            if (call.state === 'rejected' && !(call.error instanceof XotpError)) throw new Error(`${what}: untyped ${String(call.error)}`);
          }
          if (pending.state !== 'rejected' || exit.state !== 'rejected') throw new Error('a call that cannot have been answered resolved');
          if (!osPidGone(b.osPid)) throw new Error('the Python process outlived its bridge');
        } finally {
          await rt.dispose();
        }
      }),
      params,
    );
    t.is(unhandled.count(), 0, 'no unhandled rejection');
  } finally {
    unhandled.stop();
  }
});

test.serial('Node → Python: garbage on the control pipe — only protocol_error frames back, a clean exit, no traceback, no hang', async (t) => {
  const KINDS = new Set(['invalid_json', 'bad_message', 'unknown_type', 'frame_too_large']);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(streamBreakers.map((b) => ({ raw: b })), fc.oneof(plainObjects, notObjects).map((b) => ({ raw: rawFrame(b) }))), { minLength: 1, maxLength: 5 }),
      async (parts) => {
        const py = await rawPython('xotp_bridge.examples', {}, 4096);
        try {
          if ((await py.nextFrame())?.type !== 'ready') throw new Error('no handshake');
          for (const p of parts) py.write(p.raw);
          py.send({ id: 1, op: 'echo', args: 'sentinel' });
          const bound = new Promise<'hang'>((resolve) => setTimeout(resolve, 20_000, 'hang').unref());
          const end = await Promise.race([py.close(), bound]);
          if (end === 'hang') throw new Error('Python did not exit after its control pipe closed');
          if (end.signal !== null || (end.code !== 0 && end.code !== 4)) throw new Error(`exit ${JSON.stringify(end)}: ${py.stderr()}`);
          if (/Traceback/.test(py.stderr())) throw new Error(`uncaught exception:\n${py.stderr()}`);
          for (const f of py.frames.slice(1)) {
            const ok = (f.type === 'protocol_error' && KINDS.has(String(f.kind))) || (f.id === 1 && f.ok === true);
            if (!ok) throw new Error(`unexpected frame ${JSON.stringify(f)}`);
          }
          if (end.code === 4 && py.frames.at(-1)?.kind !== 'frame_too_large') throw new Error('exit 4 without saying frame_too_large');
        } finally {
          py.proc.kill('SIGKILL');
        }
      },
    ),
    { ...params, numRuns: runs * 2 },
  );
  t.pass();
});
