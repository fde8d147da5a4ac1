import { ProtocolError } from './bridgeErrors.js';

/**
 * The wire protocol's version; Python's `ready` frame must carry the same (xotp_bridge.PROTOCOL).
 * 2 added the `cancelled` acknowledgement and `protocol_error` frames.
 */
export const PROTOCOL_VERSION = 2;

/** Length prefix size: a 4-byte big-endian unsigned integer, then that many bytes of UTF-8 JSON. */
export const HEADER_BYTES = 4;

/** Encodes one message as a frame. */
export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

/**
 * Reassembles frames from a byte stream. `push` returns the complete messages found so far;
 * anything malformed (a frame longer than `maxFrameBytes`, a body that is not UTF-8 JSON, a
 * non-object message) throws a `ProtocolError` — after which the stream cannot be trusted and
 * the decoder stays failed, holding no bytes (frames completed in that same push are not
 * returned: the stream is broken, the caller ends it). Between pushes it holds less than
 * `maxFrameBytes + 4` bytes: an oversize length fails at its header, before any body is kept.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed: ProtocolError | undefined;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  push(chunk: Buffer): unknown[] {
    if (this.#failed) throw this.#failed;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const out: unknown[] = [];
    while (this.#buffered >= HEADER_BYTES) {
      const head = this.#peek(HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length > this.#maxFrameBytes) {
        throw this.#fail(new ProtocolError('frame_too_large', `frame of ${length} bytes exceeds maxFrameBytes (${this.#maxFrameBytes})`));
      }
      if (this.#buffered < HEADER_BYTES + length) break;
      const frame = this.#take(HEADER_BYTES + length);
      let message: unknown;
      try {
        message = JSON.parse(frame.toString('utf8', HEADER_BYTES));
      } catch {
        throw this.#fail(new ProtocolError('invalid_json', `frame of ${length} bytes is not JSON: ${preview(frame.subarray(HEADER_BYTES))}`));
      }
      if (typeof message !== 'object' || message === null || Array.isArray(message)) {
        throw this.#fail(new ProtocolError('bad_message', `frame is not a JSON object: ${preview(frame.subarray(HEADER_BYTES))}`));
      }
      out.push(message);
    }
    return out;
  }

  #fail(error: ProtocolError): ProtocolError {
    this.#failed = error;
    // Nothing after a broken frame will ever be decoded: do not keep it.
    this.#chunks = [];
    this.#buffered = 0;
    return error;
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.#buffered;
  }

  #peek(n: number): Buffer {
    if (this.#chunks[0]!.length >= n) return this.#chunks[0]!;
    this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0]!;
  }

  #take(n: number): Buffer {
    let first = this.#chunks[0]!;
    if (first.length < n) {
      first = Buffer.concat(this.#chunks);
      this.#chunks = [first];
    }
    const frame = first.subarray(0, n);
    const rest = first.subarray(n);
    if (rest.length > 0) this.#chunks[0] = rest;
    else this.#chunks.shift();
    this.#buffered -= n;
    return frame;
  }
}

function preview(bytes: Buffer): string {
  const text = bytes.subarray(0, 60).toString('utf8').replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(bytes.length > 60 ? `${text}…` : text);
}
