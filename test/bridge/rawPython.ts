/**
 * The Python side of a bridge without the Node bridge around it: `python -m xotp_bridge` with
 * the two frame pipes held by the test, so a test can write anything to Python (malformed
 * frames included) and read exactly what comes back. Not a test file (no `.test.ts`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { delimiter } from 'node:path';
import { FrameDecoder, encodeFrame } from '../../src/bridge/frameCodec.js';
import { pythonPackageDir, resolvePython } from '../../src/index.js';
import { defaultPython } from '../../src/bridge/pythonInterpreter.js';

export interface RawPython {
  readonly proc: ChildProcess;
  /** Frames Python sent, in order (the `ready` handshake first). */
  readonly frames: Array<Record<string, unknown>>;
  /** Everything written to stderr. */
  stderr(): string;
  write(bytes: Buffer): void;
  send(message: unknown): void;
  /** Resolves with the next frame (or `undefined` if the process ended first). */
  nextFrame(): Promise<Record<string, unknown> | undefined>;
  /** Closes the control pipe (what Node dying does) and resolves with how the process ended. */
  close(): Promise<{ code: number | null; signal: string | null }>;
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
}

/** This process's environment for a test's Python, with `env` on top and xotp_bridge importable. */
export function pythonEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...env,
    PYTHONPATH: [pythonPackageDir, env.PYTHONPATH ?? process.env.PYTHONPATH].filter(Boolean).join(delimiter),
  };
}

/** Runs `code` as `python -c` (xotp_bridge importable), with `stdin` as its input; its output. */
export async function runPythonCode(code: string, stdin?: Buffer): Promise<{ stdout: string; stderr: string }> {
  const exe = await resolvePython(defaultPython());
  const run = promisify(execFile)(exe, ['-c', code], { env: pythonEnv() });
  run.child.stdin!.end(stdin);
  return run;
}

export async function rawPython(module = 'xotp_bridge.examples', env: Record<string, string> = {}, maxFrameBytes = 1 << 20): Promise<RawPython> {
  const exe = await resolvePython(defaultPython());
  const proc = spawn(exe, ['-m', 'xotp_bridge', '--module', module], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...pythonEnv(env), XOTP_BRIDGE_PARENT_PID: String(process.pid), XOTP_BRIDGE_MAX_FRAME_BYTES: String(maxFrameBytes) },
  });
  const toPython = proc.stdio[3] as Writable;
  const fromPython = proc.stdio[4] as Readable;
  toPython.on('error', () => undefined);
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const frames: Array<Record<string, unknown>> = [];
  const waiters: Array<(f: Record<string, unknown> | undefined) => void> = [];
  let read = 0;
  let ended = false;
  const decoder = new FrameDecoder(1 << 24);
  fromPython.on('data', (chunk: Buffer) => {
    for (const m of decoder.push(chunk) as Array<Record<string, unknown>>) frames.push(m);
    while (waiters.length > 0 && read < frames.length) waiters.shift()!(frames[read++]);
  });
  const exited = once(proc, 'close').then(([code, signal]) => {
    ended = true;
    for (const w of waiters.splice(0)) w(undefined);
    return { code: code as number | null, signal: signal as string | null };
  });
  const raw: RawPython = {
    proc,
    frames,
    stderr: () => stderr,
    write: (bytes) => void toPython.write(bytes),
    send: (message) => void toPython.write(encodeFrame(message)),
    nextFrame: () =>
      new Promise((resolve) => {
        if (read < frames.length) resolve(frames[read++]);
        else if (ended) resolve(undefined);
        else waiters.push(resolve);
      }),
    close: () => {
      toPython.end();
      return exited;
    },
    exited,
  };
  return raw;
}

/** Encodes a raw frame body (any bytes) with its length prefix. */
export function rawFrame(body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length, 0);
  return Buffer.concat([h, b]);
}
