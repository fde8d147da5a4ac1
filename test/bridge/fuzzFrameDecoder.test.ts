/**
 * Fuzzing the frame decoder (issue 9): random bytes, valid frames split at random points,
 * truncated frames, oversize lengths, invalid JSON and non-object bodies. It may only return
 * messages or throw a ProtocolError (then stay failed, holding nothing); it never holds more
 * than maxFrameBytes + 4 bytes between pushes; valid frames come out unchanged however they are
 * split. The decoder is synchronous, so "no hang" means every push returns.
 * XOTP_FUZZ_RUNS (default 300) sets the runs; a failure prints fast-check's seed and shrunk input.
 */
import test from 'ava';
import fc from 'fast-check';
import { FrameDecoder, HEADER_BYTES, encodeFrame } from '../../src/bridge/frameCodec.js';
import { ProtocolError } from '../../src/index.js';

const runs = Number(process.env.XOTP_FUZZ_RUNS ?? 300);
const seed = process.env.XOTP_FUZZ_SEED === undefined ? undefined : Number(process.env.XOTP_FUZZ_SEED);
const params = { numRuns: runs, ...(seed !== undefined ? { seed } : {}) };
const MAX = 256;

const header = (n: number) => {
  const b = Buffer.alloc(HEADER_BYTES);
  b.writeUInt32BE(n, 0);
  return b;
};
const framed = (body: Uint8Array) => Buffer.concat([header(body.length), Buffer.from(body)]);

/** Splits `bytes` at the given cut points (any order, duplicates allowed). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** Pushes every chunk; checks the decoder's contract after each push. */
function feed(decoder: FrameDecoder, chunks: Buffer[]): { messages: unknown[]; error: ProtocolError | undefined } {
  const messages: unknown[] = [];
  for (const chunk of chunks) {
    try {
      messages.push(...decoder.push(chunk));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw new Error(`untyped throw: ${String(err)}`);
      if (decoder.buffered !== 0) throw new Error(`a failed decoder holds ${decoder.buffered} bytes`);
      let again: unknown;
      try {
        decoder.push(encodeFrame({ id: 1 }));
      } catch (e) {
        again = e;
      }
      if (again !== err) throw new Error('the decoder did not stay failed');
      return { messages, error: err };
    }
    if (decoder.buffered >= MAX + HEADER_BYTES) throw new Error(`holds ${decoder.buffered} bytes between pushes (max ${MAX})`);
  }
  return { messages, error: undefined };
}

const cuts = fc.array(fc.nat(), { maxLength: 12 });
const objects = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
/** A body that is anything but a JSON object. */
const badBodies = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).map((v) => new Uint8Array(Buffer.from(JSON.stringify(v) ?? 'null'))),
  fc.constantFrom('not{j', '{"a":', '{"a":1}}', '', '\u00ff', '[1,2]', 'null', 'NaN', '{"a":NaN}').map((s) => new Uint8Array(Buffer.from(s, 'latin1'))),
);

/** The kind the decoder must report for a frame with this body, if any. */
function expectedKind(body: Uint8Array): ProtocolError['kind'] | undefined {
  if (body.length > MAX) return 'frame_too_large';
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return 'invalid_json';
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'bad_message';
}

test('random bytes in random chunks: messages or a typed ProtocolError, bounded memory', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), cuts, (bytes, at) => {
      feed(new FrameDecoder(MAX), split(Buffer.from(bytes), at));
    }),
    params,
  );
  t.pass();
});

test('valid frames split anywhere come out unchanged, in order', (t) => {
  fc.assert(
    fc.property(fc.array(objects, { maxLength: 8 }), cuts, (messages, at) => {
      const frames = messages.map(encodeFrame).filter((f) => f.length - HEADER_BYTES <= MAX);
      const expected = frames.map((f) => JSON.parse(f.subarray(HEADER_BYTES).toString('utf8')));
      const { messages: out, error } = feed(new FrameDecoder(MAX), split(Buffer.concat(frames), at));
      if (error) throw error;
      if (JSON.stringify(out) !== JSON.stringify(expected)) throw new Error(`got ${JSON.stringify(out)}, expected ${JSON.stringify(expected)}`);
    }),
    params,
  );
  t.pass();
});

test('a bad frame among valid ones: a prefix of the frames before it, then exactly its ProtocolError kind', (t) => {
  fc.assert(
    fc.property(fc.array(objects, { maxLength: 4 }), badBodies, fc.array(objects, { maxLength: 3 }), cuts, (before, bad, after, at) => {
      const good = before.map(encodeFrame).filter((f) => f.length - HEADER_BYTES <= MAX);
      const stream = Buffer.concat([...good, framed(bad), ...after.map(encodeFrame)]);
      const { messages, error } = feed(new FrameDecoder(MAX), split(stream, at));
      // What a well-formed body would have been: decide the expected kind as the decoder must.
      const expected = expectedKind(bad);
      if (expected === undefined) return; // the random bytes happened to be an object
      // Frames completed in the push that also holds the bad one are not returned (push throws):
      // what comes out is a prefix of the good frames, in order.
      const want = JSON.stringify(good.slice(0, messages.length).map((f) => JSON.parse(f.subarray(HEADER_BYTES).toString('utf8'))));
      if (messages.length > good.length || JSON.stringify(messages) !== want) throw new Error(`messages ${JSON.stringify(messages)} are not a prefix of the good frames`);
      if (error?.kind !== expected) throw new Error(`kind ${error?.kind}, expected ${expected}`);
    }),
    params,
  );
  t.pass();
});

test('an oversize length fails at its header, before any body arrives; a truncated frame just waits', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: MAX + 1, max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 20 }), (length, tail) => {
      const d = new FrameDecoder(MAX);
      const { error } = feed(d, [header(length).subarray(0, 2), header(length).subarray(2), Buffer.from(tail)]);
      if (error?.kind !== 'frame_too_large') throw new Error(`kind ${error?.kind}`);
    }),
    params,
  );
  fc.assert(
    fc.property(objects, fc.nat(), (message, cut) => {
      const frame = encodeFrame(message);
      if (frame.length - HEADER_BYTES > MAX) return;
      const short = frame.subarray(0, cut % frame.length);
      const d = new FrameDecoder(MAX);
      const { messages, error } = feed(d, [short]);
      if (error || messages.length !== 0 || d.buffered !== short.length) throw new Error('a truncated frame must be held, not decoded or refused');
    }),
    params,
  );
  t.pass();
});
