import { ProtocolError } from './bridgeErrors.js';

/**
 * The wire protocol's version; Python's `ready` frame must carry the same (xotp_bridge.PROTOCOL).
 * 2 added the `cancelled` acknowledgement and `protocol_error` frames.
 */
export const PROTOCOL_VERSION = 2;

/** Length prefix size: a 4-byte big-endian unsigned integer, then that many bytes of UTF-8 JSON. */
export const HEADER_BYTES = 4;

/** Encodes one message as a frame (one buffer: the header is written in front of the body). */
export function encodeFrame(message: unknown): Buffer {
  const json = JSON.stringify(message);
  if (typeof json !== 'string') throw new TypeError(`${String(message)} is not JSON`);
  const length = Buffer.byteLength(json, 'utf8');
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, HEADER_BYTES, 'utf8');
  return frame;
}

const NO_MESSAGES: readonly unknown[] = Object.freeze([]);

/**
 * Reassembles frames from a byte stream. `push` returns the complete messages found so far;
 * anything malformed (a frame longer than `maxFrameBytes`, a body that is not UTF-8 JSON, a
 * non-object message) throws a `ProtocolError` — after which the stream cannot be trusted and
 * the decoder stays failed, holding no bytes (frames completed in that same push are not
 * returned: the stream is broken, the caller ends it). Between pushes it holds less than
 * `maxFrameBytes + 4` bytes: an oversize length fails at its header, before any body is kept.
 *
 * A chunk is read in place, frame after frame at an offset (a burst of 64 replies is one chunk:
 * no copy or slice per frame); only an incomplete frame's bytes are kept, and they are joined
 * once, when the chunk that completes the frame arrives.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  /** The bytes of the incomplete frame at the end of the stream so far. */
  #parts: Buffer[] = [];
  #buffered = 0;
  /** How many bytes the incomplete frame needs in all (4 until its header is complete). */
  #need = HEADER_BYTES;
  #failed: ProtocolError | undefined;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  push(chunk: Buffer): readonly unknown[] {
    if (this.#failed) throw this.#failed;
    let buf = chunk;
    if (this.#buffered > 0) {
      if (this.#buffered + chunk.length < this.#need) {
        this.#parts.push(chunk);
        this.#buffered += chunk.length;
        return NO_MESSAGES;
      }
      this.#parts.push(chunk);
      buf = Buffer.concat(this.#parts, this.#buffered + chunk.length);
      this.#parts = [];
      this.#buffered = 0;
    }
    let out: unknown[] | undefined;
    let offset = 0;
    const end = buf.length;
    while (end - offset >= HEADER_BYTES) {
      const length = buf.readUInt32BE(offset);
      if (length > this.#maxFrameBytes) {
        throw this.#fail(new ProtocolError('frame_too_large', `frame of ${length} bytes exceeds maxFrameBytes (${this.#maxFrameBytes})`));
      }
      const start = offset + HEADER_BYTES;
      if (end - start < length) {
        this.#need = HEADER_BYTES + length;
        break;
      }
      offset = start + length;
      let message: unknown;
      try {
        message = JSON.parse(buf.toString('utf8', start, offset));
      } catch {
        throw this.#fail(new ProtocolError('invalid_json', `frame of ${length} bytes is not JSON: ${preview(buf.subarray(start, offset))}`));
      }
      if (typeof message !== 'object' || message === null || Array.isArray(message)) {
        throw this.#fail(new ProtocolError('bad_message', `frame is not a JSON object: ${preview(buf.subarray(start, offset))}`));
      }
      (out ??= []).push(message);
    }
    if (offset < end) {
      if (end - offset < HEADER_BYTES) this.#need = HEADER_BYTES;
      this.#parts.push(offset === 0 ? buf : buf.subarray(offset));
      this.#buffered = end - offset;
    }
    return out ?? NO_MESSAGES;
  }

  #fail(error: ProtocolError): ProtocolError {
    this.#failed = error;
    // Nothing after a broken frame will ever be decoded: do not keep it.
    this.#parts = [];
    this.#buffered = 0;
    return error;
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.#buffered;
  }
}

function preview(bytes: Buffer): string {
  const text = bytes.subarray(0, 60).toString('utf8').replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(bytes.length > 60 ? `${text}…` : text);
}
